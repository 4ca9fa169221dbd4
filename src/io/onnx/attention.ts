// Multi-head attention in ONNX: projections (torch's in_proj / nanoGPT's c_attn), heads, RoPE,
// a KV cache (past keys/values in, present out) or linear attention's state, the kind's lowering
// (attention-kinds.ts), then the heads merged and mixed by W^O.
import type { AttentionKind, MultiheadAttention } from '../../nn/attention/multihead.js';
import type { RotaryEmbedding } from '../../nn/attention/positional.js';
import type { Tensor } from '../../tensor/tensor.js';
import { attentionLowering, type HeadsCall } from './attention-kinds.js';
import type { OnnxGraph } from './graph.js';
import { linear, mergeHeads, slice, splitHeads, unsqueeze } from './layers.js';

export interface AttendOptions {
  causal?: boolean;
  window?: number | null;
  attnMask?: string | null;
  keyPad?: string | null;
  /** A 'kv' kind in the decoder graph: past keys and values (B, H, P, hd). */
  past?: { k: string; v: string } | null;
  /** A 'recurrent' kind in the decoder graph: the state before these positions. */
  state?: { S: string; z: string } | null;
  /** 0-D int64: the position of the first query (a cache's length); default 0. */
  offset?: string | null;
  rope?: RotaryEmbedding | null;
  /** Rows of the rotary tables written into the graph. */
  maxLen?: number;
  /** The kind's own parameters by state-dict name (a module's kindParams). */
  params?: Readonly<Record<string, Tensor>>;
}

export interface Attended {
  /** (B, L, E) before W^O */
  merged: string;
  present?: { k: string; v: string };
  state?: { S: string; z: string };
}

/** q (B, L, E), k and v (B, S, E) projected -> the heads' outputs side by side (B, L, E). */
export function attendHeads(g: OnnxGraph, kind: AttentionKind, q: string, k: string, v: string, H: number, E: number, o: AttendOptions): Attended {
  const hd = E / H;
  let qh = splitHeads(g, q, H, hd);
  let kh = splitHeads(g, k, H, hd);
  let vh = splitHeads(g, v, H, hd);
  if (o.rope) {
    qh = rotary(g, qh, o.rope, o.offset ?? null, o.maxLen ?? 4096);
    kh = rotary(g, kh, o.rope, o.offset ?? null, o.maxLen ?? 4096);
  }
  const lower = attentionLowering(kind); // before any node: a kind without a lowering is one line
  let present: Attended['present'];
  if (o.past) {
    kh = g.op('Concat', [o.past.k, kh], { axis: 2 });
    vh = g.op('Concat', [o.past.v, vh], { axis: 2 });
    present = { k: kh, v: vh };
  }
  const call: HeadsCall = {
    q: qh, k: kh, v: vh, H, hd, causal: o.causal ?? false, window: o.window ?? null, attnMask: o.attnMask ?? null,
    keyPad: o.keyPad ?? null, params: o.params ?? {}, state: o.state ?? null,
  };
  const r = lower(g, call);
  return { merged: mergeHeads(g, r.b, E), present, state: r.state };
}

/** RoPE, rotate-half layout: x·cos(iθ) + [-x2, x1]·sin(iθ) at positions offset..offset+T-1. */
function rotary(g: OnnxGraph, x: string, rope: RotaryEmbedding, offset: string | null, maxLen: number): string {
  const d = rope.headDim;
  const h = d / 2;
  const cos = new Float32Array(maxLen * d);
  const sin = new Float32Array(maxLen * d);
  for (let i = 0; i < maxLen; i++) for (let j = 0; j < h; j++) {
    const angle = i * rope.base ** (-(2 * j) / d); // as RotaryEmbedding's tables
    cos[i * d + j] = cos[i * d + j + h] = Math.cos(angle);
    sin[i * d + j] = sin[i * d + j + h] = Math.sin(angle);
  }
  g.notes.add('RoPE: rotate-half with cos/sin tables as primitive ops');
  const T = g.op('Shape', [x], { start: 2, end: 3 });
  const start = offset ? unsqueeze(g, offset, [0]) : g.ints([0]);
  const end = g.op('Add', [start, T]);
  const c = slice(g, g.table('rope_cos', [maxLen, d], cos), 0, start, end); // (T, d), broadcasts over (B, H)
  const s = slice(g, g.table('rope_sin', [maxLen, d], sin), 0, start, end);
  const rotated = g.op('Concat', [g.op('Neg', [slice(g, x, 3, h, d)]), slice(g, x, 3, 0, h)], { axis: 3 });
  return g.op('Add', [g.op('Mul', [x, c]), g.op('Mul', [rotated, s])]);
}

/** torch.nn.MultiheadAttention: query (B, L, E), key/value (B, S, kdim|vdim) -> output (B, L, E). */
export function multiheadAttention(g: OnnxGraph, m: MultiheadAttention, query: string, kv: string, o: AttendOptions): Attended & { output: string } {
  const E = m.embedDim;
  let q: string, k: string, v: string;
  const biases = m.in_proj_bias ? g.opN('Split', [g.param(m.in_proj_bias), g.ints([E, E, E])], { axis: 0 }, 3) : null;
  const project = (x: string, w: string, i: number) => {
    const y = g.op('MatMul', [x, g.op('Transpose', [w], { perm: [1, 0] })]);
    return biases ? g.op('Add', [y, biases[i]!]) : y;
  };
  if (m.in_proj_weight && query === kv) {
    // self-attention: one matmul for q, k and v
    [q, k, v] = g.opN('Split', [linear(g, query, { weight: m.in_proj_weight, bias: m.in_proj_bias }), g.ints([E, E, E])], { axis: -1 }, 3) as [string, string, string];
  } else if (m.in_proj_weight) {
    const [wq, wk, wv] = g.opN('Split', [g.param(m.in_proj_weight), g.ints([E, E, E])], { axis: 0 }, 3) as [string, string, string];
    [q, k, v] = [project(query, wq, 0), project(kv, wk, 1), project(kv, wv, 2)];
  } else {
    [q, k, v] = [project(query, g.param(m.q_proj_weight!), 0), project(kv, g.param(m.k_proj_weight!), 1), project(kv, g.param(m.v_proj_weight!), 2)];
  }
  const r = attendHeads(g, m.attention, q, k, v, m.numHeads, E, { ...o, rope: o.rope ?? m.rope, params: m.kindParams });
  return { ...r, output: linear(g, r.merged, m.out_proj) };
}
