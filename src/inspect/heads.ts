// One attention call's intermediates as plain JSON, per head: the lecture's names (q, k, v,
// alpha, alpha', b) and this head's rows of W^q, W^k, W^v. Shared by every model inspectModel
// reads (tag/classify encoders, GPT blocks, seq2seq encoder and decoder attentions).
import { attentionKind, decodingOf } from '../nn/attention/kinds/index.js';
import { LinearAttentionState } from '../nn/attention/linear-attention-state.js';
import type { LayerIntermediates } from '../nn/transformer/layers.js';
import { slice } from '../ops/views.js';
import type { Tensor } from '../tensor/tensor.js';
import type { AttentionKindInfo, HeadInspection, LayerInspection } from './wire.js';

/** The page's view of an attention kind, read from its definition. */
export function kindInfo(name: string): AttentionKindInfo {
  const def = attentionKind(name, 'inspectModel');
  return { decoding: decodingOf(def), relevance: def.lecture?.relevance ?? null, normalizer: def.lecture?.normalizer ?? null };
}

export const rows = (t: Tensor): number[][] => t.toArray() as number[][];

/** Where a head's q, k, v come from: the stacked projection (3E, E) as MultiheadAttention's in_proj_weight and GPT's c_attn, its bias, additive attention's w (H, hd). */
export interface Projection { W: Tensor | null; bias: Tensor | null; w: Tensor | null }

/** A layer's intermediates (batch 0) per head; `state`: also linear attention's running (S, z) (causal self-attention only). */
export function layerJSON(l: LayerIntermediates, p: Projection, H: number, hd: number, E: number, state = true): LayerInspection {
  const headRows = (part: number, h: number): number[][] => (p.W ? rows(slice(p.W, 0, part * E + h * hd, part * E + (h + 1) * hd)) : []);
  const headBias = (part: number, h: number): number[] | null => (p.bias ? slice(p.bias, 0, part * E + h * hd, part * E + (h + 1) * hd).toArray() as number[] : null);
  const perHead = (t: Tensor | null, h: number): number[][] | null => (t ? rows(t.select(0, 0).select(0, h)) : null);
  const states = l.alpha || !state ? null : runningState(l, H, hd);
  const heads: HeadInspection[] = [];
  for (let h = 0; h < H; h++) {
    const alpha = perHead(l.alpha, h)?.map((row) => row.map((x) => (x === -Infinity ? null : x))) ?? null;
    heads.push({
      q: perHead(l.q, h)!, k: perHead(l.k, h)!, v: perHead(l.v, h)!, alpha, alphaPrime: perHead(l.alphaPrime, h), b: perHead(l.b, h)!,
      Wq: headRows(0, h), Wk: headRows(1, h), Wv: headRows(2, h), bq: headBias(0, h), bk: headBias(1, h), bv: headBias(2, h),
      w: p.w ? p.w.select(0, h).toArray() as number[] : null,
      state: states ? { S: states.map((st) => st.S[h]!), z: states.map((st) => st.z[h]!) } : null,
    });
  }
  return { a: rows(l.a.select(0, 0)), heads };
}

/** Feeds the layer's k and v through a LinearAttentionState one position at a time: (S, z) per head after each. */
function runningState(l: LayerIntermediates, H: number, hd: number): { S: number[][][]; z: number[][] }[] {
  const state = new LinearAttentionState(1, H, hd, hd);
  try {
    const T = l.k.shape[2]!;
    const out: { S: number[][][]; z: number[][] }[] = [];
    for (let t = 0; t < T; t++) {
      state.step(l.q.select(2, t), l.k.select(2, t), l.v.select(2, t)).dispose(); // q, k, v^t: (1, H, hd)
      out.push(stateJSON(state));
    }
    return out;
  } finally {
    state.dispose();
  }
}

/** A LinearAttentionState's (S, z) of sequence 0, per head. */
export function stateJSON(state: LinearAttentionState): { S: number[][][]; z: number[][] } {
  return { S: (state.S.toArray() as number[][][][])[0]!, z: (state.z.toArray() as number[][][])[0]! };
}
