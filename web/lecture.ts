// The lecture view: one query i walked through self-attention with the model's own numbers
// (lecture §4): a^j -> q^j, k^j, v^j -> alpha_{i,j} -> alpha'_{i,j} -> b^i. Every number is
// an element carrying its exact value in data-value; clicking a step shows its operands.
import type { HeadInspection, ModelInspection } from '../src/browser.js';
import { heatmap } from './heatmap.js';
import { diverging, exact, fmt, h, legend, maxAbs, sup, sub } from './util.js';

/**
 * The query a page opens on: the last layer (where the model has read the most context), head
 * 1, and the position whose reading depends most on its neighbours: for a tagger the second
 * occurrence of a repeated word (the second "saw" of "I saw a saw": same word, other tag); for
 * an image the class token (the one classified); otherwise (a GPT's prompt, a sentence, frames)
 * the last position, the one that has seen everything before it.
 */
export function informativeSelection(r: ModelInspection): Selection {
  const layer = r.layers.length - 1;
  if (r.image?.cls) return { layer, head: 0, query: 0 };
  const T = r.tokens.length;
  if (r.task === 'tag' && r.input === 'words') {
    const seen = new Set<string>();
    let repeated = -1;
    r.tokens.forEach((t, k) => { const w = t.toLowerCase(); if (seen.has(w) && repeated < 0) repeated = k; seen.add(w); });
    if (repeated >= 0) return { layer, head: 0, query: repeated };
  }
  return { layer, head: 0, query: T - 1 };
}

/** A causal map (query i sees keys 1..i): its α′ rows are scaled one by one (later rows spread over more keys). */
export function isCausal(r: ModelInspection): boolean {
  const T = r.tokens.length;
  return r.keys === null && T > 1 && r.blocked.every((row, i) => row.every((b, j) => b === j > i));
}

/** A vector in an explanation: every number written, with its colour scale beside it. */
function operand(label: string | Node, values: readonly number[], name: string, index: number | null, max = maxAbs([values])): HTMLElement {
  return h('div', { class: 'eq' }, h('span', { class: 'lbl' }, label), vector(values, name, index, max, true), legend('signed', max));
}

/** Inputs longer than this show a window of positions around the query in the step table. */
const MAX_COLUMNS = 48;

export interface Selection { layer: number; head: number; query: number }

/** A vector as a strip of coloured cells; numbers written in when it is short (or `showNumbers`: the explanations always write them). */
export function vector(values: readonly number[], name: string, index: number | null, scaleMax = maxAbs([values]), showNumbers = values.length <= 10): HTMLElement {
  return h('span', { class: `vec${showNumbers ? '' : ' compact'}`, 'data-name': name, 'data-i': index },
    ...values.map((x, c) => h('span', { class: 'c', 'data-value': exact(x), 'data-c': c, title: `${name}[${c}] = ${x}`, style: `background:${diverging(x, scaleMax)}` }, showNumbers ? fmt(x) : '')));
}

/**
 * A matrix as one block (brackets, no gaps between rows), every cell coloured on one scale and
 * its number written when the matrix is small; row c is [data-name=name][data-i=c].
 */
export function matrix(m: readonly (readonly number[])[], name: string): HTMLElement {
  const max = maxAbs(m);
  const C = m[0]?.length ?? 0;
  const numbers = C <= 10;
  return h('div', { class: 'matrix-wrap' },
    h('div', { class: `matrix${numbers ? '' : ' compact'}`, 'data-matrix': name, style: `grid-template-columns:repeat(${C}, auto)` },
      ...m.map((row, c) => h('div', { class: 'mrow', 'data-name': name, 'data-i': c },
        ...row.map((x, e) => h('span', { class: 'c', 'data-value': exact(x), 'data-c': e, title: `${name}[${c}][${e}] = ${x}`, style: `background:${diverging(x, max)}` }, numbers ? fmt(x) : ''))))),
    legend('signed', max));
}

/** A scalar with its exact value, clickable when it has operands to show. */
function scalar(x: number | null, name: string, i: number, j: number | null, onClick?: () => void): HTMLElement {
  const el = h('button', { class: `num${x === null ? ' blocked' : ''}`, 'data-name': name, 'data-i': i, 'data-j': j, 'data-value': x === null ? 'blocked' : exact(x), type: 'button' },
    x === null ? 'masked' : fmt(x));
  if (onClick) el.addEventListener('click', onClick);
  else el.disabled = true;
  return el;
}

const tokenName = (r: ModelInspection, j: number): string => r.tokens[j]!;
/** The key positions' labels: the queries' own, or (cross-attention) the source's. */
/** W with a superscript (W^q, W^k, W^v): Unicode has no superscript q, so a <sup>. */
const Wsup = (which: string): HTMLElement => h('span', { class: 'w' }, 'W', h('sup', {}, which));

export const keyTokens = (r: ModelInspection): string[] => r.keys ?? r.tokens;
/** Spaces and line breaks of a character model, made visible. */
export const shown = (t: string): string => (t === ' ' ? '␣' : t === '\n' ? '↵' : t.replace(/\n/g, '↵'));

export function lectureView(r: ModelInspection, sel: Selection, onQuery: (i: number) => void): HTMLElement {
  const layer = r.layers[sel.layer]!;
  const hd = layer.heads[sel.head]!;
  const i = sel.query;
  // cross-attention: the keys are other positions (the source), made from other vectors (the encoder's output)
  const cross = r.keys !== null;
  const keys = keyTokens(r);
  const aKeys = layer.aKeys ?? layer.a;
  const T = keys.length;
  const explain = h('div', { class: 'explain', id: 'explain' }, h('p', { class: 'hint' }, 'Click any number to see what it is made of.'));
  const show = (...nodes: (Node | string)[]) => explain.replaceChildren(...nodes);
  const additive = r.model.relevance === 'additive';
  const relu = r.model.normalizer === 'relu';
  // a kind the lecture has no formula for (registered by the user): its numbers, without one
  const ownRelevance = r.model.relevance === null;
  const ownNormalizer = r.model.normalizer === null;
  const recurrent = r.model.decoding === 'recurrent'; // linear attention: a state (S, z), no alpha formed
  const qmax = maxAbs([...hd.q, ...hd.k]);
  const vmax = maxAbs(hd.v);
  const amax = maxAbs([...layer.a, ...aKeys]);
  const I = sup(i + 1);

  // long inputs: the table shows the positions around the query (the matrices below show all)
  const span = T <= MAX_COLUMNS ? [0, T] : [Math.max(0, Math.min(i - 16, T - 33)), Math.min(T, Math.max(Math.min(i, T - 1) - 16, 0) + 33)];
  const js = Array.from({ length: span[1]! - span[0]! }, (_, k) => span[0]! + k);
  const cols = (make: (j: number) => Node) => js.map((j) => h('td', { class: `${j === i && !cross ? 'query' : ''}${r.blocked[i]![j] ? ' masked' : ''}` }, make(j)));
  const projection = (which: 'q' | 'k' | 'v', j: number) => () => {
    const W = which === 'q' ? hd.Wq : which === 'k' ? hd.Wk : hd.Wv;
    const b = which === 'q' ? hd.bq : which === 'k' ? hd.bk : hd.bv;
    const out = which === 'q' ? hd.q[j]! : which === 'k' ? hd.k[j]! : hd.v[j]!;
    const a = which === 'q' ? layer.a[j]! : aKeys[j]!;
    const rope = r.model.pos === 'rope' && which !== 'v';
    show(h('h4', {}, `${which}${sup(j + 1)} = `, Wsup(which), ` a${sup(j + 1)}${b ? ' + b' : ''}${rope ? ', then rotated by its position (RoPE)' : ''}`),
      heatmap({ title: h('span', {}, Wsup(which), ` (head ${sel.head + 1}: ${W.length} × ${W[0]?.length ?? 0})`), rowLabel: 'output', colLabel: 'input', rows: W.map((_, c) => String(c)), cols: (W[0] ?? []).map((_, c) => String(c)), values: W, scale: 'signed', cell: 10, name: `W${which}` }),
      operand(`a${sup(j + 1)} =`, a, 'a-operand', j),
      b ? operand('b =', b, 'bias', null) : '',
      operand(`${which}${sup(j + 1)} =`, out, `${which}-result`, j));
  };
  const alphaOperands = (j: number) => () => {
    const a = hd.alpha![i]![j]!;
    if (a === null) return show(h('h4', {}, `α${sub(i + 1)},${sub(j + 1)} is masked`), h('p', {}, `A mask keeps ${shown(tokenName(r, i))} from looking at ${shown(keys[j]!)}: its score is −∞, so α′ is exactly 0.`));
    if (additive) {
      // the lecture's additive relevance, term by term: q + k, tanh of it, times w, summed
      const qk = hd.q[i]!.map((x, c) => x + hd.k[j]![c]!);
      const t = qk.map(Math.tanh);
      const terms = t.map((x, c) => hd.w![c]! * x);
      const sum = terms.reduce((s, x) => s + x, 0);
      return show(h('h4', {}, `α${sub(i + 1)},${sub(j + 1)} = w · tanh(q${I} + k${sup(j + 1)}) (additive)`),
        operand(`q${I} =`, hd.q[i]!, 'q-operand', i),
        operand(`k${sup(j + 1)} =`, hd.k[j]!, 'k-operand', j),
        operand(`q${I} + k${sup(j + 1)} =`, qk, 'sum-qk', null),
        operand('tanh(q + k) =', t, 'tanh', null),
        operand('w =', hd.w!, 'w', null),
        operand('w × tanh =', terms, 'terms', null),
        h('p', { class: 'total', 'data-name': 'relevance-sum', 'data-value': exact(sum) }, `sum of the terms: ${terms.map(fmt).join(' + ')} = ${fmt(sum)} = α${sub(i + 1)},${sub(j + 1)} (${fmt(a)})`));
    }
    if (ownRelevance) {
      return show(h('h4', {}, `α${sub(i + 1)},${sub(j + 1)}: the ${r.model.attention} kind's relevance of k${sup(j + 1)} to q${I}`),
        operand(`q${I} =`, hd.q[i]!, 'q-operand', i),
        operand(`k${sup(j + 1)} =`, hd.k[j]!, 'k-operand', j),
        h('p', {}, `= ${fmt(a)}`));
    }
    const prods = hd.q[i]!.map((x, c) => x * hd.k[j]![c]!);
    const sum = prods.reduce((s, x) => s + x, 0);
    return show(h('h4', {}, `α${sub(i + 1)},${sub(j + 1)} = q${I} · k${sup(j + 1)} / √d`),
      operand(`q${I} =`, hd.q[i]!, 'q-operand', i),
      operand(`k${sup(j + 1)} =`, hd.k[j]!, 'k-operand', j),
      operand(`q${I} × k${sup(j + 1)} (each dimension) =`, prods, 'products', null),
      h('p', { class: 'total', 'data-name': 'dot', 'data-value': exact(sum) }, `q${I} · k${sup(j + 1)} = ${prods.map(fmt).join(' + ')} = ${fmt(sum)}`),
      h('p', {}, `${fmt(sum)} × 1/√${r.model.headDim} (${fmt(r.model.scale)}) = ${fmt(a)}`));
  };
  const primeOperands = (j: number) => () => {
    const row = hd.alpha![i]!;
    const a = row[j]!;
    if (a === null) return show(h('h4', {}, `α′${sub(i + 1)},${sub(j + 1)} = 0`), h('p', {}, 'Masked: a blocked key gets exactly zero weight.'));
    if (ownNormalizer) return show(h('h4', {}, `α′${sub(i + 1)},${sub(j + 1)}: the ${r.model.attention} kind's normaliser of α${sub(i + 1)},ⱼ`), h('p', {}, `= ${fmt(hd.alphaPrime![i]![j]!)}`));
    if (relu) return show(h('h4', {}, `α′${sub(i + 1)},${sub(j + 1)} = ReLU(α${sub(i + 1)},${sub(j + 1)})`), h('p', {}, `max(0, ${fmt(a)}) = ${fmt(Math.max(0, a))}. ReLU does not make the weights sum to 1.`));
    const live = row.filter((x): x is number => x !== null);
    const m = Math.max(...live);
    const z = live.reduce((s, x) => s + Math.exp(x - m), 0);
    return show(h('h4', {}, `α′${sub(i + 1)},${sub(j + 1)} = exp(α${sub(i + 1)},${sub(j + 1)}) / Σⱼ exp(α${sub(i + 1)},ⱼ)`),
      h('p', {}, `= exp(${fmt(a)}) / (${live.map((x) => `exp(${fmt(x)})`).join(' + ')})`),
      h('p', {}, `= exp(${fmt(a)} − ${fmt(m)}) / Σⱼ exp(α${sub(i + 1)},ⱼ − ${fmt(m)}) = ${fmt(Math.exp(a - m))} / ${fmt(z)} = ${fmt(Math.exp(a - m) / z)}`),
      h('p', { class: 'hint' }, `The largest score (${fmt(m)}) is subtracted from every α before exp: the same factor exp(−${fmt(m)}) is then on the top and the bottom, so the result does not change, and no exp can overflow (exp of a large score is infinite in floating point; after the subtraction every exponent is ≤ 0).`));
  };
  const bOperands = () => {
    const weights = hd.alphaPrime![i]!;
    return show(h('h4', {}, `b${I} = Σⱼ α′${sub(i + 1)},ⱼ vʲ`),
      ...weights.map((w, j) => operand(`${fmt(w)} × v${sup(j + 1)} =`, hd.v[j]!.map((x) => w * x), 'weighted', j, vmax)),
      operand(`b${I} =`, hd.b[i]!, 'b-operand', i, vmax));
  };

  const tokenButton = (j: number, label: string, unknown: boolean) => {
    const btn = h('button', { class: `tok${unknown ? ' unk' : ''}`, type: 'button', 'data-j': j, title: unknown ? `"${label}" was not in the training data: the model reads it as <unk> plus its spelling` : `look from ${shown(label)}` },
      h('span', { class: 'pos' }, `a${sup(j + 1)}`), ' ', unknown ? h('span', {}, '<unk>', h('small', {}, ` ${label}`)) : shown(label));
    btn.addEventListener('click', () => onQuery(j));
    return btn;
  };
  // cross-attention: the columns are the source's keys; the query is picked from the target's tokens above
  const header = h('tr', {}, h('th', {}, cross ? 'source j' : ''), ...cols((j) => (cross
    ? h('span', { class: 'key' }, h('span', { class: 'pos' }, `${j + 1}`), ' ', shown(keys[j]!))
    : tokenButton(j, r.tokens[j]!, r.unknown[j]!))));
  const vecRow = (label: string | Node, make: (j: number) => HTMLElement, max?: number) => h('tr', {}, h('th', {}, label, max === undefined ? '' : h('div', {}, legend('signed', max))), ...cols(make));
  const rows: HTMLElement[] = [
    header,
    vecRow(cross ? 'aʲ (encoder output)' : 'aʲ', (j) => vector(aKeys[j]!, cross ? 'aKey' : 'a', j, amax), amax),
    ...(cross ? [] : [vecRow(h('span', {}, 'qʲ = ', Wsup('q'), ' aʲ'), (j) => clickable(vector(hd.q[j]!, 'q', j, qmax), projection('q', j)), qmax)]),
    vecRow(h('span', {}, 'kʲ = ', Wsup('k'), ' aʲ'), (j) => clickable(vector(hd.k[j]!, 'k', j, qmax), projection('k', j)), qmax),
    vecRow(h('span', {}, 'vʲ = ', Wsup('v'), ' aʲ'), (j) => clickable(vector(hd.v[j]!, 'v', j, vmax), projection('v', j)), vmax),
  ];
  const queryPick = cross ? h('div', { class: 'query-pick' },
    h('div', { class: 'tokens' }, h('span', { class: 'muted' }, 'query (target token): '), ...r.tokens.map((t, k) => {
      const b = tokenButton(k, t, false);
      if (k === i) b.classList.add('picked');
      return b;
    })),
    h('div', { class: 'eq' }, h('span', { class: 'lbl' }, `a${I} (decoder) =`), vector(layer.a[i]!, 'a', i, amax)),
    h('div', { class: 'eq' }, h('span', { class: 'lbl' }, `q${I} = `, Wsup('q'), ` a${I} =`), clickable(vector(hd.q[i]!, 'q', i, qmax), projection('q', i)))) : '';
  if (!recurrent) {
    rows.push(
      vecRow(ownRelevance ? `α${sub(i + 1)},ⱼ (${r.model.attention})` : additive ? `α${sub(i + 1)},ⱼ = w·tanh(q${I} + kʲ)` : `α${sub(i + 1)},ⱼ = q${I}·kʲ/√d`, (j) => scalar(hd.alpha![i]![j]!, 'alpha', i, j, alphaOperands(j))),
      vecRow(ownNormalizer ? `α′${sub(i + 1)},ⱼ (${r.model.attention})` : relu ? `α′${sub(i + 1)},ⱼ = ReLU(α)` : `α′${sub(i + 1)},ⱼ = softmax(α)`, (j) => {
        const w = hd.alphaPrime![i]![j]!;
        const cell = scalar(hd.alpha![i]![j] === null ? null : w, 'alphaPrime', i, j, primeOperands(j));
        return h('div', { class: 'weight' }, cell, h('div', { class: 'bar' }, h('div', { style: `width:${Math.min(100, Math.max(0, w) * 100)}%` })));
      }),
      vecRow(`α′${sub(i + 1)},ⱼ vʲ`, (j) => vector(hd.v[j]!.map((x) => hd.alphaPrime![i]![j]! * x), 'weighted', j, vmax), vmax),
    );
  }
  const bRow = h('div', { class: 'eq result' }, h('span', { class: 'lbl' }, recurrent ? `b${I} (linear attention: φ(q${I})ᵀ Σⱼ φ(kʲ) vʲᵀ / φ(q${I})ᵀ Σⱼ φ(kʲ), no α is formed)` : `b${I} = Σⱼ α′${sub(i + 1)},ⱼ vʲ =`),
    clickable(vector(hd.b[i]!, 'b', i, vmax), recurrent ? () => undefined : bOperands), legend('signed', vmax));
  const state = recurrent && hd.state ? stateView(r, hd.state) : '';
  const title = h('h2', {}, `Query a${I}: "${shown(r.tokens[i]!)}" looks at every ${cross ? 'source position' : 'position'} — layer ${sel.layer + 1}, head ${sel.head + 1}`);
  const note = h('p', { class: 'note' }, `${cross ? 'Cross-attention: the query comes from the decoder (a target token), the keys and values from the encoder\'s output (the source). ' : ''}aʲ: what this layer's attention reads${r.model.normFirst ? ' (the layer input after LayerNorm)' : ''}; d = ${r.model.headDim} per head.${r.model.pos === 'rope' ? ' q and k are rotated by position (RoPE) after the projection.' : ''} Click a token to make it the query.${T > MAX_COLUMNS ? ` Showing positions ${span[0]! + 1}–${span[1]} of ${T}.` : ''}`);
  return h('section', { class: 'lecture', id: 'lecture' }, title, note, queryPick, h('div', { class: 'scroll' }, h('table', { class: 'steps' }, ...rows)), bRow, state, explain);
}

/** Linear attention as an RNN: the fixed-size state (S, z) after each position, with a slider over t. */
function stateView(r: ModelInspection, st: NonNullable<HeadInspection['state']>): HTMLElement {
  const T = st.S.length;
  const slider = h('input', { type: 'range', id: 'state-t', min: 0, max: T - 1, value: T - 1, step: 1 });
  const body = h('div', { class: 'state-body' });
  const draw = (t: number) => {
    const S = st.S[t]!;
    body.replaceChildren(
      h('p', { class: 'note' }, `after ${r.tokens[t]} (position ${t + 1} of ${T}): S${sup(t + 1)} = S${sup(t)} + φ(k${sup(t + 1)}) v${sup(t + 1)}ᵀ, z${sup(t + 1)} = z${sup(t)} + φ(k${sup(t + 1)}), with φ(x) = elu(x) + 1`),
      h('div', { class: 'state-mats', 'data-t': t },
        h('div', {}, h('div', { class: 'lbl' }, `S${sup(t + 1)} (${S.length} × ${S[0]?.length ?? 0})`), matrix(S, 'S')),
        h('div', {}, h('div', { class: 'lbl' }, `z${sup(t + 1)}`), vector(st.z[t]!, 'z', null), legend('signed', maxAbs([st.z[t]!])))));
  };
  slider.addEventListener('input', () => draw(Number(slider.value)));
  draw(T - 1);
  return h('div', { class: 'state', id: 'state' },
    h('h3', {}, 'The running state: linear attention is an RNN'),
    h('p', { class: 'note' }, `Instead of N × N weights, each head keeps S and z, the same size however long the input; every bⁱ = φ(qⁱ)ᵀ S / φ(qⁱ)ᵀ z reads the state after the last position (a decoder reads the state so far). Drag to update it token by token.`),
    slider, body);
}

function clickable(el: HTMLElement, onClick: () => void): HTMLElement {
  el.classList.add('clickable');
  el.addEventListener('click', onClick);
  return el;
}

/** The matrix form (lecture §4): Q = W^q I, K, V, A = Kᵀ Q, A′ = softmax(A) column by column, O = V A′. */
export function matrixView(r: ModelInspection, sel: Selection, onQuery: (i: number) => void): HTMLElement {
  const hd: HeadInspection = r.layers[sel.layer]!.heads[sel.head]!;
  const pos = r.tokens.map((t, j) => `${j + 1} ${shown(t)}`);
  const keyPos = keyTokens(r).map((t, j) => `${j + 1} ${shown(t)}`);
  const dims = Array.from({ length: r.model.headDim }, (_, c) => String(c));
  const cols = (m: number[][]) => m[0]!.map((_, c) => m.map((row) => row[c]!)); // (T, d) -> (d, T): columns are vectors, as in the lecture
  const lectureT = (m: (number | null)[][]) => keyPos.map((_, j) => m.map((row) => row[j]!)); // A[j][i] = alpha_{i,j}
  const common = { highlightCol: sel.query, onClickCol: onQuery };
  const maps = [
    heatmap({ title: h('span', {}, 'Q = ', Wsup('q'), ' I'), rowLabel: 'dim', colLabel: 'query i', rows: dims, cols: pos, values: cols(hd.q), scale: 'signed', name: 'Q', ...common }),
    heatmap({ title: h('span', {}, 'K = ', Wsup('k'), ' I'), rowLabel: 'dim', colLabel: 'key j', rows: dims, cols: keyPos, values: cols(hd.k), scale: 'signed', name: 'K' }),
    heatmap({ title: h('span', {}, 'V = ', Wsup('v'), ' I'), rowLabel: 'dim', colLabel: 'key j', rows: dims, cols: keyPos, values: cols(hd.v), scale: 'signed', name: 'V' }),
  ];
  if (hd.alpha && hd.alphaPrime) {
    maps.push(
      heatmap({ title: r.model.relevance === 'additive' ? 'A: w·tanh(qⁱ + kʲ)' : 'A = Kᵀ Q / √d', rowLabel: 'key j', colLabel: 'query i', rows: keyPos, cols: pos, values: lectureT(hd.alpha), scale: 'signed', name: 'A', ...common }),
      heatmap({ title: r.model.normalizer === 'relu' ? 'A′ = ReLU(A)' : 'A′ = softmax(A), each column', rowLabel: 'key j', colLabel: 'query i', rows: keyPos, cols: pos, values: lectureT(hd.alphaPrime.map((row, i) => row.map((x, j) => (hd.alpha![i]![j] === null ? null : x)))), scale: 'weights', name: 'A′', per: isCausal(r) ? 'col' : 'map', ...common }),
    );
  }
  maps.push(heatmap({ title: 'O = V A′', rowLabel: 'dim', colLabel: 'query i', rows: dims, cols: pos, values: cols(hd.b), scale: 'signed', name: 'O', ...common }));
  return h('section', { class: 'matrices', id: 'matrices' },
    h('h2', {}, 'The same, as matrices'),
    h('p', { class: 'note' }, 'In the lecture\'s layout: each column of Q, K, V, O is one position\'s vector; column i of A and A′ holds query i\'s scores over the keys j. Grey cells are blocked by a mask. Click a column to walk that query.'),
    h('div', { class: 'maps' }, ...maps));
}
