// Model views: every layer × head as a small map of alpha' (bertviz's model view), the head
// view (lines from each query to the keys it looks at), and graph inputs drawn as graphs.
import type { ModelInspection } from '../src/browser.js';
import { isCausal, keyTokens, shown, type Selection } from './lecture.js';
import { paint, perNote } from './heatmap.js';
import { h, legend, rgb, sequential } from './util.js';

const SVG = 'http://www.w3.org/2000/svg';
function s<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, ...children: (Node | string)[]): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  el.append(...children);
  return el;
}

/** Longer inputs draw only the picked query's lines in the head view. */
const MAX_ALL_LINES = 64;

const HEAD_COLOURS = ['#5f3dc4', '#e8590c', '#0b7285', '#c2255c', '#2b8a3e', '#1864ab', '#862e9c', '#d9480f'];

/** alpha' of one head on a canvas, one pixel per cell: row = query i, column = key j; blocked cells grey. */
function miniMap(r: ModelInspection, layer: number, head: number, cell: number, causal: boolean): HTMLCanvasElement {
  const T = r.tokens.length;
  const S = keyTokens(r).length; // cross-attention: a column per source token
  const c = h('canvas', { width: S, height: T, style: `width:${cell * S}px;height:${cell * T}px`, class: 'mini', 'data-layer': layer, 'data-head': head });
  const w = r.layers[layer]!.heads[head]!.alphaPrime;
  paint(c, r.blocked.map((row, i) => row.map((b, j) => (b ? null : w ? w[i]![j]! : 0))), 'weights', causal ? 'row' : 'map');
  return c;
}

/** Room for the token labels beside and above the maps (px). */
const LABEL_ROOM = 64;

/**
 * Every layer × head as a map of α′, sized so the widest row of heads fits `width` px (the
 * section's inner width): token labels on the top row's columns and the first column's rows
 * when the cells are tall enough to read them.
 */
export function gridView(r: ModelInspection, sel: Selection, onPick: (layer: number, head: number) => void, width: number): HTMLElement {
  const T = r.tokens.length;
  const keys = keyTokens(r);
  const H = r.model.heads;
  // per map: its cells, 2 × 2 px border, 2 × 2 px padding, 6 px spacing; the layer column and the row labels
  const room = Math.max(40, (width - 70 - LABEL_ROOM) / H - 14);
  const cell = Math.max(1, Math.min(36, Math.floor(room / Math.max(T, keys.length))));
  const labels = cell >= 10;
  const colLabels = () => h('div', { class: 'col-labels', style: `width:${keys.length * cell}px` }, ...keys.map((t, j) => h('span', { style: `width:${cell}px`, title: `${j + 1} ${t}` }, shown(t))));
  const rowLabels = () => h('div', { class: 'row-labels' }, ...r.tokens.map((t, i) => h('span', { style: `height:${cell}px;line-height:${cell}px`, title: `${i + 1} ${t}` }, shown(t))));
  const causal = isCausal(r);
  const table = h('table', { class: 'grid', 'data-cell': cell },
    h('tr', {}, h('th', {}, ''), ...r.layers[0]!.heads.map((_, hh) => h('th', {}, `head ${hh + 1}`))),
    ...r.layers.map((l, li) => h('tr', {}, h('th', {}, `layer ${li + 1}`), ...l.heads.map((_, hh) => {
      const map = miniMap(r, li, hh, cell, causal);
      const body = labels ? h('div', { class: 'heat-grid' }, h('div'), li === 0 ? colLabels() : h('div'), hh === 0 ? rowLabels() : h('div'), map) : map;
      const td = h('td', { class: li === sel.layer && hh === sel.head ? 'picked' : '' }, body);
      td.addEventListener('click', () => onPick(li, hh));
      return td;
    }))));
  const recurrent = r.model.decoding === 'recurrent'; // linear attention: a state (S, z), no alpha formed
  return h('section', { class: 'model', id: 'grid' },
    h('h2', {}, 'Every layer and head'),
    h('p', { class: 'note' }, recurrent
      ? 'Linear attention never forms the weights α′ (that is what makes it O(N)), so there is nothing to draw here.'
      : `α′ of each head: row = the query i, column = the key j, darker = more attention (${causal ? 'each row scaled to its own largest weight: in a causal map row i spreads over i keys' : 'each map scaled to its largest weight'}); grey = blocked by a mask.${labels ? '' : ` ${T} positions: too many to label (hover a map in the matrices above to read them).`} Click one to walk through it.`),
    recurrent ? '' : h('div', { class: 'scroll' }, table),
    recurrent ? '' : legend('weights', 1, causal ? perNote('row', 'query i') : 'each map scaled to its largest weight'));
}

/** Lines from every query (left) to every key (right), opacity alpha'; a picked query shows only its own. */
export function headView(r: ModelInspection, sel: Selection, onQuery: (i: number) => void): HTMLElement {
  const T = r.tokens.length;
  const keys = keyTokens(r);
  const S = keys.length;
  const w = r.layers[sel.layer]!.heads[sel.head]!.alphaPrime;
  const rowH = 22;
  const width = 420;
  const svg = s('svg', { width, height: Math.max(T, S) * rowH + 10, class: 'headview', 'data-layer': sel.layer, 'data-head': sel.head });
  const colour = HEAD_COLOURS[sel.head % HEAD_COLOURS.length]!;
  if (w) {
    for (let i = 0; i < T; i++) {
      for (let j = 0; j < S; j++) {
        const x = w[i]![j]!;
        if (x <= 0.005 || r.blocked[i]![j] || (T > MAX_ALL_LINES && i !== sel.query)) continue;
        const line = s('line', { x1: 130, y1: i * rowH + 16, x2: width - 130, y2: j * rowH + 16, stroke: colour, 'stroke-width': 1 + 4 * x, 'stroke-opacity': i === sel.query ? Math.min(1, 0.15 + x) : Math.min(0.5, x * 0.35), 'data-i': i, 'data-j': j });
        svg.append(line);
      }
    }
  }
  r.tokens.forEach((t, i) => {
    const left = s('text', { x: 122, y: i * rowH + 20, 'text-anchor': 'end', class: i === sel.query ? 'picked' : '' }, shown(t));
    left.addEventListener('click', () => onQuery(i));
    svg.append(left);
  });
  keys.forEach((t, j) => svg.append(s('text', { x: width - 122, y: j * rowH + 20 }, shown(t))));
  return h('section', { class: 'model', id: 'headview' },
    h('h2', {}, `Head view — layer ${sel.layer + 1}, head ${sel.head + 1}`),
    h('p', { class: 'note' }, w ? 'Each line joins a query (left) to a key (right); thicker = more attention α′. The picked query\'s lines are bold; click a word on the left to pick another.' : 'Linear attention forms no α′.'),
    svg);
}

/** Graph inputs: nodes on a circle, edges grey, the picked node's attention drawn on its edges. */
export function graphView(r: ModelInspection, sel: Selection, onQuery: (i: number) => void): HTMLElement | null {
  if (!r.edges) return null;
  const T = r.tokens.length;
  const size = 360;
  const R = size / 2 - 30;
  const at = (i: number) => [size / 2 + R * Math.cos((2 * Math.PI * i) / T - Math.PI / 2), size / 2 + R * Math.sin((2 * Math.PI * i) / T - Math.PI / 2)] as const;
  const svg = s('svg', { width: size, height: size, class: 'graph' });
  for (const [u, v] of r.edges) {
    const [x1, y1] = at(u);
    const [x2, y2] = at(v);
    svg.append(s('line', { x1, y1, x2, y2, stroke: '#ced4da', 'stroke-width': 1.5 }));
  }
  const w = r.layers[sel.layer]!.heads[sel.head]!.alphaPrime;
  if (w) {
    const [x1, y1] = at(sel.query);
    w[sel.query]!.forEach((x, j) => {
      if (j === sel.query || x <= 0.005) return;
      const [x2, y2] = at(j);
      svg.append(s('line', { x1, y1, x2, y2, stroke: '#5f3dc4', 'stroke-width': 1 + 8 * x, 'stroke-opacity': 0.8, 'data-j': j }));
    });
  }
  for (let i = 0; i < T; i++) {
    const [x, y] = at(i);
    const self = w ? w[i === sel.query ? i : sel.query]![i]! : 0;
    const node = s('circle', { cx: x, cy: y, r: 11, fill: i === sel.query ? '#e8590c' : rgb(sequential(self)), stroke: '#495057', class: 'node', 'data-i': i });
    node.addEventListener('click', () => onQuery(i));
    svg.append(node, s('text', { x, y: y + 4, 'text-anchor': 'middle', class: 'node-label' }, String(i + 1)));
  }
  return h('section', { class: 'model', id: 'graphview' },
    h('h2', {}, 'The graph'),
    h('p', { class: 'note' }, `A node attends only along its edges (and to itself): the mask blocks everything else. Purple lines: how much node ${sel.query + 1} looks at each neighbour; node colour: its weight. Click a node.`),
    svg, legend('weights', 1, 'node colour: α′ of the picked node to it'));
}
