// Training, watched: alpha' of every layer and head for one probe input, at each evaluation of
// the run (recorded by `qkv train ... --viz`), played back with a slider.
import { paint } from './heatmap.js';
import { h, playButton } from './util.js';

/** One evaluation's record (cli/viz/watch.ts writes them). */
export interface WatchRecord { step: number; metrics: Record<string, number>; tokens: string[]; blocked: boolean[][]; alphaPrime: (number[][] | null)[][] }

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
    const T = r.tokens.length;
    const cell = Math.max(1, Math.floor(120 / T));
    maps.replaceChildren(h('table', { class: 'grid' },
      h('tr', {}, h('th', {}, ''), ...r.alphaPrime[0]!.map((_, hh) => h('th', {}, `head ${hh + 1}`))),
      ...r.alphaPrime.map((heads, li) => h('tr', {}, h('th', {}, `layer ${li + 1}`), ...heads.map((w, hh) => {
        const c = h('canvas', { width: T, height: T, class: 'mini train', 'data-layer': li, 'data-head': hh, 'data-step': r.step, style: `width:${cell * T}px;height:${cell * T}px` });
        paint(c, r.blocked.map((row, i) => row.map((b, j) => (b ? null : w ? w[i]![j]! : 0))), 'weights');
        return h('td', {}, c);
      })))));
  };
  slider.addEventListener('input', () => draw(Number(slider.value)));
  const play = playButton(slider, draw, 700);
  draw(records.length - 1);
  return h('section', { class: 'training', id: 'training' },
    h('h2', {}, `Training, watched: α′ for "${records[0]!.tokens.join(' ')}"`),
    h('p', { class: 'note' }, `Recorded at each of the run's ${records.length} evaluations (qkv train … --viz). Row = query, column = key; each map scaled to its largest weight. Drag the slider to see attention take shape.`),
    h('div', { class: 'train-controls' }, play, slider, label), maps);
}
