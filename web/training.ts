// Training, watched: alpha' of every layer and head for one probe input, at each evaluation of
// the run (recorded by `qkv train ... --viz`), played back with a slider. A record holds one
// square self-attention map per layer and head, and for seq2seq runs a rectangular
// cross-attention (target queries x source keys); each is drawn one pixel per cell on a canvas.
import { paint } from './heatmap.js';
import { fmt, h, legend, playButton } from './util.js';
import type { WatchPart, WatchRecord } from '../src/browser.js';

/** What the rows and columns of a part are. */
const AXES: Record<string, [string, string]> = {
  'self-attention': ['query', 'key'], 'causal self-attention': ['prompt', 'prompt'], 'encoder self-attention': ['source', 'source'], 'cross-attention': ['target', 'source'],
};

const joined = (tokens: string[]) => tokens.join(tokens.every((t) => [...t].length <= 1) ? '' : ' ');

/** Every map of a record, the top level first. */
export function watchParts(r: WatchRecord): WatchPart[] {
  return [{ name: r.part ?? 'self-attention', tokens: r.tokens, keys: r.tokens, blocked: r.blocked, alphaPrime: r.alphaPrime }, ...(r.parts ?? [])];
}

/** Up to 40 tokens as an axis line; the rest counted. */
function tokenLine(tokens: string[]): string {
  const shown = tokens.slice(0, 40).map((t) => JSON.stringify(t).slice(1, -1)).join(' ');
  return tokens.length > 40 ? `${shown} … (${tokens.length} in all)` : shown;
}

function partView(p: WatchPart, step: number, target: WatchRecord['target']): HTMLElement {
  const [rowAxis, colAxis] = AXES[p.name] ?? ['query', 'key'];
  const R = p.tokens.length;
  const C = p.keys.length;
  const cell = Math.max(1, Math.floor(120 / Math.max(R, C)));
  // a causal map: each row (query) scaled to its own largest weight, or every later row washes out
  const causal = p.name === 'causal self-attention' || p.name === 'decoder self-attention';
  const readout = h('div', { class: 'readout' }, ' ');
  const canvas = (w: number[][] | null, li: number, hh: number) => {
    const c = h('canvas', {
      width: C, height: R, class: 'mini train', 'data-part': p.name, 'data-rows': R, 'data-cols': C, 'data-layer': li, 'data-head': hh, 'data-step': step,
      style: `width:${cell * C}px;height:${cell * R}px`,
    });
    const values = p.blocked.map((row, i) => row.map((b, j) => (b ? null : w ? w[i]![j]! : 0)));
    paint(c, values, 'weights', causal ? 'row' : 'map');
    c.addEventListener('mousemove', (e) => {
      const rect = c.getBoundingClientRect();
      const i = Math.floor(((e.clientY - rect.top) / rect.height) * R);
      const j = Math.floor(((e.clientX - rect.left) / rect.width) * C);
      const x = values[i]?.[j];
      if (x === undefined) return;
      readout.textContent = `layer ${li + 1} head ${hh + 1} · ${rowAxis} "${p.tokens[i]}" · ${colAxis} "${p.keys[j]}": ${x === null ? 'blocked by the mask' : fmt(x)}`;
    });
    return c;
  };
  // token labels along the first row of maps (columns) and the first column (rows), when cells are big enough to read
  const labels = cell >= 10;
  const labelled = (c: HTMLCanvasElement, top: boolean, left: boolean) => h('div', { class: 'heat-grid' }, h('div'),
    labels && top ? h('div', { class: 'col-labels', style: `width:${C * cell}px` }, ...p.keys.map((t) => h('span', { style: `width:${cell}px`, title: t }, t))) : h('div'),
    labels && left ? h('div', { class: 'row-labels' }, ...p.tokens.map((t) => h('span', { style: `height:${cell}px;line-height:${cell}px`, title: t }, t))) : h('div'),
    c);
  const rowsNote = p.name === 'cross-attention' && target === 'greedy' ? ' (the model\'s greedy output at this step: the rows change as it learns)' : p.name === 'cross-attention' ? ' (teacher-forced)' : '';
  return h('div', { class: 'train-part', 'data-part': p.name },
    h('h3', {}, `${p.name}: ${rowAxis} × ${colAxis}`),
    h('div', { class: 'axis-note', 'data-axis': 'rows' }, `rows (${rowAxis}, ${R}): ${tokenLine(p.tokens)}${rowsNote}`),
    h('div', { class: 'axis-note', 'data-axis': 'cols' }, `columns (${colAxis}, ${C}): ${tokenLine(p.keys)}`),
    h('table', { class: 'grid' },
      h('tr', {}, h('th', {}, ''), ...(p.alphaPrime[0] ?? []).map((_, hh) => h('th', {}, `head ${hh + 1}`))),
      ...p.alphaPrime.map((heads, li) => h('tr', {}, h('th', {}, `layer ${li + 1}`), ...heads.map((w, hh) => h('td', {}, labelled(canvas(w, li, hh), li === 0, hh === 0)))))),
    readout);
}

export function trainingView(records: WatchRecord[]): HTMLElement | null {
  if (!records.length) return null;
  const slider = h('input', { type: 'range', id: 'train-step', min: 0, max: records.length - 1, value: records.length - 1, step: 1 });
  const label = h('div', { class: 'train-label', id: 'train-label' });
  const maps = h('div', { class: 'train-maps' });
  const draw = (k: number) => {
    const r = records[k]!;
    const metrics = Object.entries(r.metrics).slice(0, 3).map(([name, v]) => `${name} ${v.toFixed(3)}`).join(' · ');
    label.textContent = `step ${r.step}${metrics ? ` · ${metrics}` : ''}`;
    label.dataset.step = String(r.step);
    maps.replaceChildren(...watchParts(r).map((p) => partView(p, r.step, r.target)));
  };
  slider.addEventListener('input', () => draw(Number(slider.value)));
  const play = playButton(slider, draw, 700);
  draw(records.length - 1);
  const first = records[0]!;
  const forced = first.target === 'teacher-forced' ? first.parts?.find((p) => p.name === 'cross-attention') : undefined;
  const probe = joined(first.tokens) + (forced ? ` => ${joined(forced.tokens.slice(1))}` : '');
  return h('section', { class: 'training', id: 'training' },
    h('h2', {}, `Training, watched: α′ for "${probe}"`),
    h('p', { class: 'note' }, `Recorded at each of the run's ${records.length} evaluations (qkv train … --viz). Row = query, column = key; each map scaled to its largest weight (causal maps: each row to its own). Drag the slider to see attention take shape.`),
    h('div', { class: 'train-controls' }, play, slider, label), legend('weights', 1, 'each map (causal maps: each row) scaled to its largest weight'), maps);
}
