// The playground's drawings: the loss curves of both models (SVG) and the lecture's map of α′
// for the probe (a table: row i is the query word, column j the key word; every cell carries its
// exact value in data-value, which the tests read back).
import type { ProbeAttention } from './run.js';

const SVG = 'http://www.w3.org/2000/svg';

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

const svg = (tag: string, attrs: Record<string, string | number>): SVGElement => {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
};

export interface Curve { name: string; color: string; points: readonly { step: number; loss: number }[] }

/** Loss against step for each curve, on one pair of axes (a viewBox: it scales with its card). */
export function drawLoss(target: HTMLElement, curves: readonly Curve[]): void {
  const W = 600;
  const H = 220;
  const pad = { l: 48, r: 12, t: 12, b: 34 };
  const all = curves.flatMap((c) => c.points);
  target.replaceChildren();
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'loss-chart', role: 'img', 'aria-label': 'training loss against step' });
  target.append(root);
  if (!all.length) {
    const t = svg('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'muted' });
    t.textContent = 'the loss curves appear here once training starts';
    root.append(t);
    return;
  }
  const maxStep = Math.max(...all.map((p) => p.step), 1);
  const maxLoss = Math.max(...all.map((p) => p.loss)) * 1.05 || 1;
  const x = (s: number) => pad.l + (s / maxStep) * (W - pad.l - pad.r);
  const y = (v: number) => pad.t + (1 - v / maxLoss) * (H - pad.t - pad.b);
  root.append(svg('line', { x1: pad.l, y1: y(0), x2: W - pad.r, y2: y(0), class: 'axis' }), svg('line', { x1: pad.l, y1: pad.t, x2: pad.l, y2: y(0), class: 'axis' }));
  for (const v of [0, maxLoss / 2, maxLoss]) {
    const t = svg('text', { x: pad.l - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'tick' });
    t.textContent = v.toFixed(2);
    root.append(t);
  }
  const xt = svg('text', { x: W - pad.r, y: H - 8, 'text-anchor': 'end', class: 'tick' });
  xt.textContent = `step ${maxStep}`;
  const yl = svg('text', { x: pad.l, y: H - 8, 'text-anchor': 'start', class: 'tick' });
  yl.textContent = 'training loss (cross-entropy) against step';
  root.append(xt, yl);
  for (const c of curves) {
    if (!c.points.length) continue;
    // at most ~600 points drawn: every k-th
    const k = Math.max(1, Math.ceil(c.points.length / 600));
    const pts = c.points.filter((_, i) => i % k === 0 || i === c.points.length - 1);
    root.append(svg('polyline', { points: pts.map((p) => `${x(p.step).toFixed(1)},${y(p.loss).toFixed(1)}`).join(' '), fill: 'none', stroke: c.color, 'stroke-width': 1.6 }));
  }
}

/** The α′ map of one layer and head as a table (masked cells grey), with its colour scale. */
export function drawAlpha(target: HTMLElement, a: ProbeAttention, layer: number, head: number): void {
  target.replaceChildren();
  const map = a.alphaPrime[layer]?.[head];
  if (!map) {
    target.append(el('p', { class: 'muted' }, 'Linear attention never forms α′: it keeps a running state S = Σⱼ φ(kʲ) vʲᵀ instead (the RNN form of "Transformers are RNNs"), so there is no map to draw.'));
    return;
  }
  const max = Math.max(1e-9, ...map.flat());
  const keys = a.keys ?? a.tokens;
  const table = el('table', { class: keys.length > 12 ? 'alpha dense' : 'alpha' });
  table.append(el('tr', {}, el('th', { class: 'corner' }, 'i \\ j'), ...keys.map((t, j) => el('th', { title: `key ${j + 1}` }, t))));
  map.forEach((row, i) => {
    const tr = el('tr', {}, el('th', { title: `query ${i + 1}` }, a.tokens[i]!));
    row.forEach((v, j) => {
      const blocked = a.blocked[i]?.[j] ?? false;
      const td = el('td', { 'data-i': String(i), 'data-j': String(j), 'data-value': String(v), title: `α′${i + 1},${j + 1} = ${v}` }, blocked ? '–' : v.toFixed(2));
      if (blocked) td.className = 'blocked';
      else {
        td.style.background = `rgba(37, 99, 235, ${(v / max).toFixed(3)})`;
        if (v / max > 0.55) td.style.color = '#fff';
      }
      tr.append(td);
    });
    table.append(tr);
  });
  const scale = el('div', { class: 'scale' }, el('span', {}, '0'), el('span', { class: 'bar' }), el('span', {}, max.toFixed(2)));
  target.append(el('div', { class: 'alpha-wrap' }, table), scale);
}
