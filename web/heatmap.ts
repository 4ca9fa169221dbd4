// A matrix drawn on a canvas, one pixel per cell scaled up by CSS (so 512 x 512 inputs stay one element),
// with row/column labels, a hover read-out, and blocked cells grey.
import { divergingRGB, fmt, h, legend, maxAbs, sequential } from './util.js';

export interface HeatmapOptions {
  title: string | Node;
  /** What the axes are, e.g. "key j" (rows) and "query i" (columns). */
  rowLabel: string; colLabel: string;
  rows: string[]; cols: string[];
  /** values[r][c]; null = blocked by a mask. */
  values: (number | null)[][];
  /** 'weights' for alpha' in [0, 1], 'signed' for everything else. */
  scale: 'weights' | 'signed';
  cell?: number;
  /** A highlighted column (the query being walked through). */
  highlightCol?: number | null;
  onClickCol?: (c: number) => void;
  name: string;
  /**
   * Weights only: scale each row (or column) to its own largest weight instead of the map's. A
   * causal map needs it: row 1 holds one weight of 1, row N spreads over N keys, so one scale
   * for the map washes out every later row.
   */
  per?: Per;
  /** No row labels (maps stacked to share their columns, e.g. the frames and the query's weights over them). */
  hideRowLabels?: boolean;
}

/** What one colour scale spans: the whole map, each row or each column. */
export type Per = 'map' | 'row' | 'col';

/** The legend's note for a per-row or per-column scale. */
export const perNote = (per: Per, what: string): string => (per === 'map' ? '' : `each ${per === 'row' ? 'row' : 'column'} (${what}) scaled to its own largest weight`);

export function heatmap(o: HeatmapOptions): HTMLElement {
  const R = o.values.length;
  const C = R ? o.values[0]!.length : 0;
  // cells are square unless one side is long: then the short side keeps readable cells
  const fit = (n: number, room: number) => Math.max(1, Math.min(28, Math.floor(room / Math.max(n, 1))));
  const cw = o.cell ?? fit(C, 600);
  const ch = o.cell ?? Math.min(fit(R, 420), Math.max(cw, 12));
  // one pixel per cell, scaled up by CSS: a 1024 x 1024 map is one ImageData, not a million rectangles
  const canvas = h('canvas', { class: 'heat', width: C, height: R, style: `width:${C * cw}px;height:${R * ch}px`, 'data-name': o.name, 'data-rows': R, 'data-cols': C });
  const per = o.scale === 'weights' ? o.per ?? 'map' : 'map';
  paint(canvas, o.values, o.scale, per);
  const frame = h('div', { class: 'heat-frame', style: `width:${C * cw}px;height:${R * ch}px` }, canvas);
  if (o.highlightCol !== null && o.highlightCol !== undefined && o.highlightCol < C) {
    frame.append(h('div', { class: 'highlight', style: `left:${o.highlightCol * cw}px;width:${Math.max(cw, 2)}px` }));
  }
  const readout = h('div', { class: 'readout' }, ' ');
  canvas.addEventListener('mousemove', (e) => {
    const rect = canvas.getBoundingClientRect();
    const c = Math.floor(((e.clientX - rect.left) / rect.width) * C);
    const r = Math.floor(((e.clientY - rect.top) / rect.height) * R);
    const x = o.values[r]?.[c];
    if (x === undefined) return;
    readout.textContent = `${o.rowLabel} ${o.rows[r]} · ${o.colLabel} ${o.cols[c]}: ${x === null ? 'blocked by the mask' : fmt(x)}`;
  });
  if (o.onClickCol) {
    canvas.style.cursor = 'pointer';
    canvas.addEventListener('click', (e) => {
      const rect = canvas.getBoundingClientRect();
      o.onClickCol!(Math.floor(((e.clientX - rect.left) / rect.width) * C));
    });
  }
  const colHead = cw >= 12 ? h('div', { class: 'col-labels', style: `width:${C * cw}px` }, ...o.cols.map((t) => h('span', { style: `width:${cw}px`, title: t }, t))) : h('div');
  const rowHead = ch >= 12 && !o.hideRowLabels ? h('div', { class: 'row-labels' }, ...o.rows.map((t) => h('span', { style: `height:${ch}px;line-height:${ch}px`, title: t }, t))) : h('div');
  return h('figure', { class: 'heatmap', 'data-name': o.name, 'data-per': per },
    h('figcaption', {}, o.title),
    h('div', { class: 'axis-note' }, `rows: ${o.rowLabel} · columns: ${o.colLabel}`),
    h('div', { class: 'heat-grid' }, h('div', {}), colHead, rowHead, frame),
    legend(o.scale, maxAbs(o.values), perNote(per, per === 'row' ? o.rowLabel : o.colLabel)),
    readout);
}

/** Grey for cells a mask blocks. */
export const BLOCKED: [number, number, number] = [0xd5, 0xd5, 0xd5];

/** Fills a canvas of C x R pixels with the colours of values[r][c] (null = blocked). */
export function paint(canvas: HTMLCanvasElement, values: readonly (readonly (number | null)[])[], scale: 'weights' | 'signed', per: Per = 'map'): void {
  const R = values.length;
  const C = R ? values[0]!.length : 0;
  if (!R || !C) return;
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(C, R);
  const max = maxAbs(values);
  const rowMax = values.map((row) => maxAbs([row]));
  const colMax = values[0]!.map((_, c) => maxAbs([values.map((row) => row[c]!)]));
  for (let r = 0; r < R; r++) {
    for (let c = 0; c < C; c++) {
      const x = values[r]![c]!;
      // weights are scaled to the largest (of the map, row or column), so 600 keys of ~1/600 each still show their pattern
      const top = per === 'row' ? rowMax[r]! : per === 'col' ? colMax[c]! : max;
      const [red, green, blue] = x === null ? BLOCKED : scale === 'weights' ? sequential(top > 0 ? x / top : 0) : divergingRGB(x, max);
      const k = 4 * (r * C + c);
      img.data[k] = red; img.data[k + 1] = green; img.data[k + 2] = blue; img.data[k + 3] = 255;
    }
  }
  ctx.putImageData(img, 0, 0);
}
