// A matrix drawn on a canvas, one rectangle per cell (so 512 x 512 inputs stay one element),
// with row/column labels, a hover read-out, and blocked cells hatched in grey.
import { diverging, fmt, h, maxAbs, rgb, sequential } from './util.js';

export interface HeatmapOptions {
  title: string;
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
}

export function heatmap(o: HeatmapOptions): HTMLElement {
  const R = o.values.length;
  const C = R ? o.values[0]!.length : 0;
  const cell = o.cell ?? Math.max(3, Math.min(26, Math.floor(420 / Math.max(R, C, 1))));
  const showLabels = cell >= 12;
  const canvas = h('canvas', { class: 'heat', width: C * cell, height: R * cell, 'data-name': o.name, 'data-rows': R, 'data-cols': C, 'data-cell': cell });
  const ctx = canvas.getContext('2d')!;
  const max = maxAbs(o.values);
  for (let r = 0; r < R; r++) {
    for (let c = 0; c < C; c++) {
      const x = o.values[r]![c]!;
      if (x === null) {
        ctx.fillStyle = '#d5d5d5';
        ctx.fillRect(c * cell, r * cell, cell, cell);
        if (cell >= 8) {
          ctx.strokeStyle = '#9a9a9a';
          ctx.beginPath();
          ctx.moveTo(c * cell + 2, r * cell + cell - 2);
          ctx.lineTo(c * cell + cell - 2, r * cell + 2);
          ctx.stroke();
        }
        continue;
      }
      ctx.fillStyle = o.scale === 'weights' ? rgb(sequential(x)) : diverging(x, max);
      ctx.fillRect(c * cell, r * cell, cell, cell);
    }
  }
  if (o.highlightCol !== null && o.highlightCol !== undefined && o.highlightCol < C) {
    ctx.strokeStyle = '#e8590c';
    ctx.lineWidth = 2;
    ctx.strokeRect(o.highlightCol * cell + 1, 1, cell - 2, R * cell - 2);
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
  const colHead = showLabels ? h('div', { class: 'col-labels', style: `width:${C * cell}px` }, ...o.cols.map((t) => h('span', { style: `width:${cell}px`, title: t }, t))) : h('div');
  const rowHead = showLabels ? h('div', { class: 'row-labels' }, ...o.rows.map((t) => h('span', { style: `height:${cell}px;line-height:${cell}px`, title: t }, t))) : h('div');
  return h('figure', { class: 'heatmap' },
    h('figcaption', {}, o.title),
    h('div', { class: 'axis-note' }, `rows: ${o.rowLabel} · columns: ${o.colLabel}`),
    h('div', { class: 'heat-grid' }, h('div', {}), colHead, rowHead, canvas),
    readout);
}
