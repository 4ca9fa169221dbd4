// The attention kinds' ONNX lowerings, one per kind, registered by name: what q, k, v (per head)
// become in ONNX. The kind definitions (nn/attention/kinds/) cannot hold them, as nn sits below
// io; a kind of the user's registers its own with registerAttentionLowering, and exporting a
// model whose kind has none is refused in one line naming it. softmax and relu are the scaled
// dot product with a normaliser; additive, relu, linear and the masks are spelled out in
// primitive ops (ONNX has no operator for them), and the graph's notes say so. Opset 23's
// Attention operator is used for plain softmax attention (no window, no graph mask), where its
// semantics are qkv's. A 'recurrent' kind (nn's decodingOf) carries its state as (S, z) through
// the decoder graph (cache.ts); a 'kv' kind gets the past keys and values concatenated in k, v.
import { QkvError } from '../../core/errors.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { OnnxGraph } from './graph.js';
import { dim, reduce, unsqueeze } from './layers.js';

/** What every kind gets: heads (B, H, L, hd) for q, (B, H, S, hd) for k and v (past included). */
export interface HeadsCall {
  q: string;
  k: string;
  v: string;
  H: number;
  hd: number;
  /** Query i sits at key position i + S - L and sees keys j <= that (a decoder, a KV cache). */
  causal: boolean;
  /** Truncated attention: keys with |i + S - L - j| <= window only. */
  window: number | null;
  /** bool, true = blocked: (B, L, S) (graphs). */
  attnMask: string | null;
  /** bool (B, S), true = padding key. */
  keyPad: string | null;
  /** The kind's own parameters by state-dict name (additive attention's additive_w (H, hd)); put them in the graph with g.param. */
  params: Readonly<Record<string, Tensor>>;
  /** A recurrent kind's state before these positions: S (B, H, hd, hd), z (B, H, hd); null outside the decoder graph. */
  state?: { S: string; z: string } | null;
}

export interface HeadsResult {
  /** (B, H, L, hd) */
  b: string;
  /** A recurrent kind's state after these positions. */
  state?: { S: string; z: string };
}

/** One attention kind in ONNX: heads in, b (and a recurrent kind's state) out. */
export type AttentionLowering = (g: OnnxGraph, c: HeadsCall) => HeadsResult;
type Lowering = AttentionLowering;

const lowerings = new Map<string, AttentionLowering>();

/** Adds the ONNX lowering of an attention kind (or replaces the one of the same name). */
export function registerAttentionLowering(name: string, lower: AttentionLowering): void {
  lowerings.set(name, lower);
}

/** The lowering of a kind; one line naming the kind when it has none. */
export function attentionLowering(name: string): AttentionLowering {
  const lower = lowerings.get(name);
  if (!lower) throw new QkvError(`exportOnnx: the "${name}" attention kind has no ONNX lowering; register one with registerAttentionLowering("${name}", (g, heads) => ...)`);
  return lower;
}

const BLOCKED_SCORE = -1e30; // finite, so a row with every key blocked gives zeros, never NaN

/** Every mask merged into one bool value that broadcasts to (B, H, L, S), or null. */
export function blockedMask(g: OnnxGraph, c: HeadsCall): string | null {
  const parts: string[] = [];
  if (c.causal || c.window !== null) {
    const S = dim(g, c.k, 2);
    const L = dim(g, c.q, 2);
    const one = g.scalar(1, 'int64');
    const rows = unsqueeze(g, g.op('Range', [g.op('Sub', [S, L]), S, one]), [1]); // (L, 1): each query's key position
    const cols = unsqueeze(g, g.op('Range', [g.scalar(0, 'int64'), S, one]), [0]); // (1, S)
    if (c.causal) parts.push(g.op('Greater', [cols, rows]));
    if (c.window !== null) parts.push(g.op('Greater', [g.op('Abs', [g.op('Sub', [rows, cols])]), g.scalar(c.window, 'int64')]));
  }
  if (c.attnMask) parts.push(unsqueeze(g, c.attnMask, [1])); // (B, 1, L, S)
  if (c.keyPad) parts.push(unsqueeze(g, c.keyPad, [1, 2])); // (B, 1, 1, S)
  if (!parts.length) return null;
  return parts.reduce((a, b) => g.op('Or', [a, b]));
}

/** alpha' from scores (B, H, L, S): blocked weights exactly 0, as qkv's masks. */
function normalise(g: OnnxGraph, scores: string, blocked: string | null, normalizer: 'softmax' | 'relu'): string {
  if (normalizer === 'relu') {
    const a = g.op('Relu', [scores]);
    return blocked ? g.op('Where', [blocked, g.scalar(0), a]) : a;
  }
  if (!blocked) return g.op('Softmax', [scores], { axis: -1 });
  const a = g.op('Softmax', [g.op('Where', [blocked, g.scalar(BLOCKED_SCORE), scores])], { axis: -1 });
  return g.op('Where', [blocked, g.scalar(0), a]);
}

function dotScores(g: OnnxGraph, c: HeadsCall): string {
  const a = g.op('MatMul', [c.q, g.op('Transpose', [c.k], { perm: [0, 1, 3, 2] })]); // alpha = q·k, (B, H, L, S)
  return g.op('Mul', [a, g.scalar(1 / Math.sqrt(c.hd))]);
}

const softmax: Lowering = (g, c) => {
  if (g.opset >= 23 && c.window === null && !c.attnMask) return attentionOp(g, c);
  return { b: g.op('MatMul', [normalise(g, dotScores(g, c), blockedMask(g, c), 'softmax'), c.v]) };
};

/** ONNX's Attention (opset 23) on 4-D heads; padding goes in as a bool mask (true = attend). */
function attentionOp(g: OnnxGraph, c: HeadsCall): HeadsResult {
  g.notes.add('softmax attention: the standard Attention operator (opset 23)');
  const inputs = [c.q, c.k, c.v];
  let blocked = c.keyPad ? unsqueeze(g, c.keyPad, [1, 2]) : null;
  if (c.causal) {
    // a KV cache puts query i at key i + S - L, which Attention's is_causal (top-left aligned) does not
    blocked = blockedMask(g, { ...c, keyPad: c.keyPad, attnMask: null, window: null });
  }
  if (blocked) {
    // ONNX Runtime wants the mask's query axis as long as q's (no broadcasting there)
    const L = g.op('Shape', [c.q], { start: 2, end: 3 });
    blocked = g.op('Expand', [blocked, g.op('Concat', [g.ints([1, 1]), L, g.ints([1])], { axis: 0 })]);
    inputs.push(g.op('Not', [blocked]));
  }
  const b = g.op('Attention', inputs, { scale: { float: 1 / Math.sqrt(c.hd) } });
  // a query with every key blocked gets zeros in qkv; zero those rows explicitly
  if (!blocked) return { b };
  const anyOpen = reduce(g, 'ReduceMax', g.op('Cast', [g.op('Not', [blocked])], { to: 1 }), [-1], true); // (B|1, 1, L|1, 1)
  return { b: g.op('Mul', [b, anyOpen]) };
}

const relu: Lowering = (g, c) => {
  g.notes.add('relu attention: ReLU-normalised scores as primitive ops');
  return { b: g.op('MatMul', [normalise(g, dotScores(g, c), blockedMask(g, c), 'relu'), c.v]) };
};

const additive: Lowering = (g, c) => {
  g.notes.add('additive attention: alpha = w·tanh(q + k) as primitive ops');
  const t = g.op('Tanh', [g.op('Add', [unsqueeze(g, c.q, [3]), unsqueeze(g, c.k, [2])])]); // (B, H, L, S, hd)
  const w = g.op('Reshape', [g.param(c.params.additive_w!), g.ints([1, c.H, 1, c.hd, 1])]);
  const scores = g.op('Squeeze', [g.op('MatMul', [t, w]), g.ints([4])]); // (B, H, L, S)
  return { b: g.op('MatMul', [normalise(g, scores, blockedMask(g, c), 'softmax'), c.v]) };
};

/**
 * "Transformers are RNNs": φ(x) = elu(x) + 1, b_i = φ(q_i)ᵀ S_i / (φ(q_i)ᵀ z_i + eps). Causal
 * positions within one call use the materialised (L, L) form; a recurrent state carried in
 * (S, z) adds the earlier positions, and the state after them comes out.
 */
const EPS = 1e-6;
const linear: Lowering = (g, c) => {
  g.notes.add('linear attention: elu+1 feature map and its (S, z) sums as primitive ops');
  const phi = (x: string) => g.op('Add', [g.op('Elu', [x], { alpha: { float: 1 } }), g.scalar(1)]);
  const pq = phi(c.q);
  let pk = phi(c.k);
  let v = c.v;
  if (c.keyPad) {
    const pad = unsqueeze(g, c.keyPad, [1, 3]); // (B, 1, S, 1)
    pk = g.op('Where', [pad, g.scalar(0), pk]);
    v = g.op('Where', [pad, g.scalar(0), v]);
  }
  const pkT = g.op('Transpose', [pk], { perm: [0, 1, 3, 2] }); // (B, H, hd, S)
  let num: string;
  let den: string;
  if (c.causal) {
    let a = g.op('MatMul', [pq, pkT]); // φ(q_i)·φ(k_j), (B, H, L, S)
    a = g.op('Where', [blockedMask(g, { ...c, keyPad: null, attnMask: null, window: null })!, g.scalar(0), a]);
    num = g.op('MatMul', [a, v]);
    den = reduce(g, 'ReduceSum', a, [-1], true);
  } else {
    num = g.op('MatMul', [pq, g.op('MatMul', [pkT, v])]);
    den = g.op('MatMul', [pq, unsqueeze(g, reduce(g, 'ReduceSum', pk, [2], false), [3])]);
  }
  let state: HeadsResult['state'];
  const S = g.op('MatMul', [pkT, v]); // Σ_j φ(k_j) v_jᵀ over these positions, (B, H, hd, hd)
  const z = reduce(g, 'ReduceSum', pk, [2], false); // (B, H, hd)
  if (c.state) {
    num = g.op('Add', [num, g.op('MatMul', [pq, c.state.S])]);
    den = g.op('Add', [den, g.op('MatMul', [pq, unsqueeze(g, c.state.z, [3])])]);
    state = { S: g.op('Add', [c.state.S, S]), z: g.op('Add', [c.state.z, z]) };
  } else {
    state = { S, z };
  }
  return { b: g.op('Div', [num, g.op('Add', [den, g.scalar(EPS)])]), state };
};

registerAttentionLowering('softmax', softmax);
registerAttentionLowering('relu', relu);
registerAttentionLowering('additive', additive);
registerAttentionLowering('linear', linear);
