// A GPT generating, step by step: the prompt fills the decoding cache, then each step reads
// one token, whose query attends over every cached key (the cache one column longer each
// step) — or, for linear attention, updates the recurrent state (S, z) instead of a cache.
// The numbers are the cached forward's own (inspectModel records them as it decodes).
import type { ModelInspection } from '../src/browser.js';
import { heatmap } from './heatmap.js';
import { matrix, shown, vector, type Selection } from './lecture.js';
import { exact, fmt, h, legend, maxAbs, playButton, sup } from './util.js';

/** The step shown, kept across redraws (another layer or head keeps the step). */
let picked: number | null = null;

export function generationView(r: ModelInspection, sel: Selection): HTMLElement | null {
  const g = r.generation;
  if (!g) return null;
  const N = g.steps.length;
  const P = g.prompt;
  const recurrent = r.model.decoding === 'recurrent'; // linear attention: a state (S, z), no alpha formed
  if (picked === null || picked >= N) picked = N - 1;
  const slider = h('input', { type: 'range', id: 'gen-step', min: 0, max: N - 1, value: picked, step: 1 });
  const body = h('div', { class: 'gen-body' });
  const draw = (s: number) => {
    picked = s;
    const step = g.steps[s]!;
    const hd = step.layers[sel.layer]![sel.head]!;
    const t = step.position;
    const S = t + 1; // keys in the cache after this step
    const text = h('div', { class: 'gen-text', id: 'gen-text' }, ...g.tokens.map((tok, k) => h('span', {
      class: k < P ? (k === t ? 'prompt read' : 'prompt') : k === t ? 'read' : k === t + 1 ? 'next' : k < t ? 'done' : 'later', 'data-k': k,
    }, shown(tok))));
    const what = h('p', { class: 'gen-what', id: 'gen-what', 'data-step': s, 'data-cache': S },
      s === 0 ? `Step 1: the prompt (${P} token${P === 1 ? '' : 's'}) goes in at once and fills the ${recurrent ? 'state' : 'cache'}; its last token "${shown(g.tokens[t]!)}" asks what comes next → "${shown(step.next)}".`
        : `Step ${s + 1}: reads "${shown(g.tokens[t]!)}" (position ${t + 1}); ${recurrent ? 'the state (S, z) takes it in' : `the cache now holds ${S} keys and values`} → "${shown(step.next)}".`);
    // one row per step so far: that step's query over the cache it saw (grey: not cached yet)
    const width = P + s;
    const cachePos = g.tokens.slice(0, width).map((tok, j) => `${j + 1} ${shown(tok)}`);
    const growing = recurrent ? '' : heatmap({
      title: 'α′ of each step\'s query over the cache', rowLabel: 'step', colLabel: 'cached key j',
      rows: g.steps.slice(0, s + 1).map((st, k) => `${k + 1} ${shown(g.tokens[st.position]!)}`), cols: cachePos,
      values: g.steps.slice(0, s + 1).map((st) => { const w = st.layers[sel.layer]![sel.head]!.alphaPrime!; return cachePos.map((_, j) => (j < w.length ? w[j]! : null)); }),
      scale: 'weights', name: 'gen-map', highlightCol: null, per: 'row',
    });
    const K = g.steps.slice(0, s + 1).flatMap((st) => st.layers[sel.layer]![sel.head]!.k); // the cache's keys after this step
    const kMap = heatmap({
      title: recurrent ? 'the keys seen so far (not kept: S and z hold them)' : 'the KV cache: K, one column per cached position', rowLabel: 'dim', colLabel: 'position',
      rows: K[0]!.map((_, c) => String(c)), cols: cachePos, values: K[0]!.map((_, c) => K.map((k) => k[c]!)), scale: 'signed', name: 'gen-K', highlightCol: t,
    });
    const qk = maxAbs([hd.q, ...hd.k]);
    const num = (x: number, name: string, j: number) => h('span', { class: 'num', 'data-name': name, 'data-j': j, 'data-value': exact(x) }, fmt(x));
    const T = sup(t + 1);
    const details = h('div', { class: 'gen-details', id: 'gen-details', 'data-layer': sel.layer, 'data-head': sel.head, 'data-step': s },
      h('div', { class: 'eq' }, h('span', { class: 'lbl' }, `q${T} =`), vector(hd.q, 'gen-q', t, qk), legend('signed', qk)),
      h('div', { class: 'eq' }, h('span', { class: 'lbl' }, s === 0 ? 'k (prompt, last) =' : `k${T} (new) =`), vector(hd.k.at(-1)!, 'gen-k', t, qk), legend('signed', qk)),
      h('div', { class: 'eq' }, h('span', { class: 'lbl' }, s === 0 ? 'v (prompt, last) =' : `v${T} (new) =`), vector(hd.v.at(-1)!, 'gen-v', t), legend('signed', maxAbs([hd.v.at(-1)!]))),
      recurrent
        ? h('div', { class: 'state-mats', 'data-t': t },
          h('div', {}, h('div', { class: 'lbl' }, `S${T} = S${sup(t)} + φ(k${T}) v${T}ᵀ`), matrix(hd.state!.S, 'gen-S')),
          h('div', {}, h('div', { class: 'lbl' }, `z${T} = z${sup(t)} + φ(k${T})`), vector(hd.state!.z, 'gen-z', null), legend('signed', maxAbs([hd.state!.z]))))
        : h('div', { class: 'scroll' }, h('table', { class: 'steps' },
          h('tr', {}, h('th', {}, 'cached key j'), ...cachePos.slice(0, S).map((p) => h('td', {}, p))),
          h('tr', {}, h('th', {}, r.model.relevance === 'additive' ? `α${T},ⱼ = w·tanh(q + kʲ)` : `α${T},ⱼ = q${T}·kʲ/√d`), ...hd.alpha!.map((x, j) => h('td', {}, num(x, 'gen-alpha', j)))),
          h('tr', {}, h('th', {}, r.model.normalizer === 'relu' ? 'α′ = ReLU(α)' : 'α′ = softmax(α)'), ...hd.alphaPrime!.map((x, j) => h('td', {}, num(x, 'gen-alphaPrime', j)))))),
      h('div', { class: 'eq result' }, h('span', { class: 'lbl' }, recurrent ? `b${T} = φ(q)ᵀ S / φ(q)ᵀ z =` : `b${T} = Σⱼ α′ⱼ vʲ =`), vector(hd.b, 'gen-b', t), legend('signed', maxAbs([hd.b]))));
    body.replaceChildren(text, what, h('div', { class: 'maps' }, growing, kMap), details);
  };
  slider.addEventListener('input', () => draw(Number(slider.value)));
  draw(picked);
  return h('section', { class: 'generation', id: 'generation' },
    h('h2', {}, `Generating, step by step — layer ${sel.layer + 1}, head ${sel.head + 1} (${g.sampling})`),
    h('p', { class: 'note' }, recurrent
      ? 'Linear attention decodes as an RNN: instead of a cache that grows, each step adds φ(k) vᵀ to S and φ(k) to z, and the new query reads them — constant memory per token. Drag to step.'
      : 'Each step the new token\'s query meets every key in the KV cache, which grows by one column per step; earlier keys are not recomputed. The numbers are those of the cached decoding itself. Drag to step.'),
    h('div', { class: 'train-controls' }, playButton(slider, draw, 900), slider, h('span', { class: 'train-label' }, `${N} step${N === 1 ? '' : 's'}`)), body);
}
