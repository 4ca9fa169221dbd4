// What a speech or image model read, with its attention drawn on it: the frames (log-mel of a
// WAV) as a spectrogram with the query's α′ over the frames beneath; the picture cut into its
// patch grid, with α′ from the chosen patch (or the class token) painted over the patches.
import type { ModelInspection } from '../src/browser.js';
import { heatmap } from './heatmap.js';
import { type Selection } from './lecture.js';
import { exact, fmt, h, legend, rgb, sequential, sup } from './util.js';

/** Largest side of the drawn picture, px. */
const PICTURE = 288;

/** The frames a frame model read (dims × frames, columns are positions) and α′ of the query over them. */
export function framesView(r: ModelInspection, sel: Selection, onQuery: (i: number) => void): HTMLElement | null {
  if (!r.frames || r.input !== 'frames') return null;
  const T = r.frames.length;
  const ms = r.frameMs;
  const pos = r.tokens.map((_, t) => `${t + 1}`);
  const colLabel = ms ? `frame t (one every ${ms} ms)` : 'frame t';
  // the highest bin on top, as a spectrogram is drawn
  const dims = r.frames[0]!.map((_, c) => String(c + 1)).reverse();
  const D = dims.length;
  const w = r.layers[sel.layer]!.heads[sel.head]!.alphaPrime;
  const maps = [heatmap({
    title: ms ? 'the log-mel frames the model reads (one column per frame)' : 'the frames the model reads (one column per frame)', rowLabel: ms ? 'mel bin' : 'dim', colLabel,
    rows: dims, cols: pos, values: dims.map((_, k) => r.frames!.map((f) => f[D - 1 - k]!)), scale: 'signed', name: 'frames', highlightCol: sel.query, onClickCol: onQuery, hideRowLabels: true,
  })];
  if (w) {
    maps.push(heatmap({
      title: `α′ of frame ${sel.query + 1} over every frame (layer ${sel.layer + 1}, head ${sel.head + 1})`, rowLabel: 'query', colLabel,
      rows: [`a${sup(sel.query + 1)}`], cols: pos, values: [w[sel.query]!.map((x, j) => (r.blocked[sel.query]![j] ? null : x))], scale: 'weights', name: 'frame-weights', highlightCol: sel.query, onClickCol: onQuery, hideRowLabels: true,
    }));
  }
  return h('section', { class: 'media', id: 'frames' },
    h('h2', {}, ms ? `The sound: ${T} frames, one every ${ms} ms` : `The input: ${T} frames`),
    h('p', { class: 'note' }, `Each position aᵗ is one frame${ms ? ' (a column of the spectrogram)' : ''}. Click a column to make that frame the query; the strip below shows where it looks.`),
    h('div', { class: 'maps column' }, ...maps));
}

/** The picture with its patch grid, and α′ from the chosen position painted over the patches. */
export function imageView(r: ModelInspection, sel: Selection, onQuery: (i: number) => void): HTMLElement | null {
  const im = r.image;
  if (!im) return null;
  const px = Math.max(1, Math.floor(PICTURE / Math.max(im.height, im.width)));
  const W = im.width * px;
  const H = im.height * px;
  const first = im.cls ? 1 : 0; // positions before the patches
  const w = r.layers[sel.layer]!.heads[sel.head]!.alphaPrime;
  const row = w ? w[sel.query]! : null;
  const patchMax = row ? Math.max(...row.slice(first)) : 0;
  const picture = (withWeights: boolean, id: string) => {
    const canvas = h('canvas', { width: im.width, height: im.height, class: 'picture', style: `width:${W}px;height:${H}px` });
    drawPixels(canvas, im.pixels);
    const cells = Array.from({ length: im.rows * im.cols }, (_, k) => {
      const pr = Math.floor(k / im.cols);
      const pc = k % im.cols;
      const j = first + k;
      const x = row?.[j] ?? 0;
      // each patch painted violet by its weight, scaled to the largest patch weight of this query
      const fill = withWeights && row ? `background:${rgb(sequential(1))};opacity:${patchMax > 0 ? (0.75 * x) / patchMax : 0}` : '';
      const cell = h('div', {
        class: `patch${j === sel.query ? ' picked' : ''}`, 'data-j': j, 'data-row': pr, 'data-col': pc, ...(withWeights && row ? { 'data-value': exact(x) } : {}),
        title: `patch ${pr + 1},${pc + 1} (position ${j + 1})${withWeights && row ? `: α′ = ${fmt(x)}` : ''}`,
        style: `left:${pc * im.patch * px}px;top:${pr * im.patch * px}px;width:${im.patch * px}px;height:${im.patch * px}px`,
      }, h('span', { class: 'shade', style: fill }));
      cell.addEventListener('click', () => onQuery(j));
      return cell;
    });
    // under the weights the picture is washed out, so the violet reads against it
    return h('div', { class: 'picture-frame', id, style: `width:${W}px;height:${H}px` }, canvas, withWeights ? h('div', { class: 'wash' }) : '', ...cells);
  };
  const from = sel.query < first ? 'the class token [CLS]' : `patch ${r.tokens[sel.query]!.replace('patch ', '')} (position ${sel.query + 1})`;
  const clsWeight = im.cls && row ? h('p', { class: 'note', id: 'cls-weight', 'data-value': exact(row[0]!) }, `α′ to the class token [CLS]: ${fmt(row[0]!)}`) : '';
  const clsButton = im.cls ? h('button', { type: 'button', class: `tok${sel.query === 0 ? ' picked' : ''}`, id: 'pick-cls' }, 'look from [CLS]') : '';
  if (clsButton) clsButton.addEventListener('click', () => onQuery(0));
  return h('section', { class: 'media', id: 'image' },
    h('h2', {}, `The picture: ${im.height} × ${im.width} pixels, ${im.rows} × ${im.cols} patches of ${im.patch} × ${im.patch}${im.cls ? ', and a class token' : ''}`),
    h('p', { class: 'note' }, `Each patch is one position aʲ (flattened, projected, plus its row and column position)${im.cls ? '; position 1 is the class token, whose output is classified' : ''}. Click a patch to make it the query.`),
    h('div', { class: 'pictures' },
      h('figure', {}, h('figcaption', {}, 'the patches'), picture(false, 'patches')),
      w ? h('figure', {}, h('figcaption', {}, `α′ from ${from} — layer ${sel.layer + 1}, head ${sel.head + 1}`), picture(true, 'patch-weights'),
        legend('weights', patchMax, 'violet: α′ of the query to each patch, scaled to its largest patch weight'), clsWeight, clsButton) : h('p', { class: 'note' }, 'Linear attention forms no α′.')));
}

/** (C, H, W) normalised values onto an H × W canvas, each channel stretched from its min to its max (what the eye can see; the numbers stay the model's). */
function drawPixels(canvas: HTMLCanvasElement, pixels: number[][][]): void {
  const C = pixels.length;
  const H = pixels[0]!.length;
  const W = pixels[0]![0]!.length;
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(W, H);
  const range = pixels.map((ch) => {
    let lo = Infinity;
    let hi = -Infinity;
    for (const row of ch) for (const x of row) { lo = Math.min(lo, x); hi = Math.max(hi, x); }
    return [lo, hi] as const;
  });
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const k = 4 * (y * W + x);
      for (let c = 0; c < 3; c++) {
        const ch = C === 1 ? 0 : c;
        const [lo, hi] = range[ch]!;
        img.data[k + c] = Math.round(255 * (hi > lo ? (pixels[ch]![y]![x]! - lo) / (hi - lo) : 0.5));
      }
      img.data[k + 3] = 255;
    }
  }
  ctx.putImageData(img, 0, 0);
}
