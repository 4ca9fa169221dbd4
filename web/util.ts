// Small helpers the views share: element building, number formatting, colour scales.

/** h('div', {class: 'x'}, child, 'text') -> an element. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string | number | boolean | null | undefined> = {}, ...children: (Node | string | null | undefined | false)[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

/** Three decimals, a real minus sign. */
export const fmt = (x: number): string => (Math.abs(x) < 5e-4 ? '0.000' : x.toFixed(3)).replace('-', '−');

/** The exact value for data-value attributes (what tests read back): shortest round-trip form. */
export const exact = (x: number): string => String(x);

/** Diverging scale for signed values (blue < 0 < red), |x| scaled by `max`. */
export function divergingRGB(x: number, max: number): [number, number, number] {
  const t = Math.max(-1, Math.min(1, max > 0 ? x / max : 0));
  const a = Math.abs(t);
  return t >= 0 ? [255, Math.round(255 - 170 * a), Math.round(255 - 200 * a)] : [Math.round(255 - 200 * a), Math.round(255 - 120 * a), 255];
}

export const diverging = (x: number, max: number): string => rgb(divergingRGB(x, max));

/** Sequential scale for weights in [0, 1] (white -> deep violet). */
export function sequential(x: number): [number, number, number] {
  const t = Math.max(0, Math.min(1, x));
  return [Math.round(255 - 170 * t), Math.round(255 - 225 * t), Math.round(255 - 95 * t)];
}

export const rgb = ([r, g, b]: [number, number, number]): string => `rgb(${r},${g},${b})`;

/**
 * A colour scale: a bar from the lowest to the highest colour with its two ends written in
 * (data-min / data-max hold them exactly). 'signed': −max (blue) … 0 (white) … +max (red);
 * 'weights': 0 (white) … max (violet); `note` says how the map was scaled (e.g. per row).
 */
export function legend(kind: 'signed' | 'weights', max: number, note = ''): HTMLElement {
  const min = kind === 'signed' ? -max : 0;
  const stops = kind === 'signed' ? [diverging(-1, 1), diverging(0, 1), diverging(1, 1)] : [rgb(sequential(0)), rgb(sequential(1))];
  return h('span', { class: 'legend', 'data-kind': kind, 'data-min': exact(min), 'data-max': exact(max), title: note || `colour scale: ${fmt(min)} to ${fmt(max)}` },
    h('span', { class: 'legend-end' }, fmt(min)),
    h('span', { class: 'legend-bar', style: `background:linear-gradient(to right,${stops.join(',')})` }),
    h('span', { class: 'legend-end' }, fmt(max)),
    note ? h('span', { class: 'legend-note' }, note) : '');
}

export const maxAbs = (m: readonly (readonly (number | null)[])[]): number => {
  let best = 0;
  for (const row of m) for (const x of row) if (x !== null && Math.abs(x) > best) best = Math.abs(x);
  return best;
};

/** Sub- and superscripts for the lecture's names (a¹, α₁,₂). */
const SUP = '⁰¹²³⁴⁵⁶⁷⁸⁹';
const SUB = '₀₁₂₃₄₅₆₇₈₉';
export const sup = (n: number): string => String(n).split('').map((d) => SUP[Number(d)]).join('');
export const sub = (n: number): string => String(n).split('').map((d) => SUB[Number(d)]).join('');

/** A play/pause button that steps a range slider from its value to its end, calling draw at each step. */
export function playButton(slider: HTMLInputElement, draw: (k: number) => void, ms: number): HTMLButtonElement {
  const play = h('button', { type: 'button', class: 'play' }, '▶ play');
  let timer: number | null = null;
  const stop = () => { clearInterval(timer!); timer = null; play.textContent = '▶ play'; };
  play.addEventListener('click', () => {
    if (timer !== null) return stop();
    play.textContent = '❚❚ pause';
    if (slider.value === slider.max) slider.value = slider.min;
    draw(Number(slider.value));
    timer = window.setInterval(() => {
      const k = Number(slider.value) + 1;
      if (k > Number(slider.max)) return stop();
      slider.value = String(k);
      draw(k);
    }, ms);
  });
  return play;
}
