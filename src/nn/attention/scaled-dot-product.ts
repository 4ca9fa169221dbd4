// The matrix form of self-attention (lecture §4): A = Q Kᵀ (scaled), A' = normalise(A), O = A' V,
// for every batch and head at once. Masks block positions: a blocked weight is exactly 0, and
// a query with nothing left to attend to gets a zero output (not NaN, unlike PyTorch).
//
// Two ways to compute it, with the same values:
//   - the naive path (the lecture's): form A and A' (B, H, L, S), then A' V. It is the one that
//     can return the weights A', normalise with ReLU, apply dropout to A', and take any mask
//     (float or int32, (L, S) to (B, H, L, S): graphs, arbitrary patterns).
//   - the fused path, ops/flash-attention.ts (FlashAttention: tiles and an online softmax, O(L + S)
//     memory, never A'). It is taken when it is exact: softmax normaliser, the caller does not
//     want A' (needWeights: false), and masks a kernel can test from indices alone: causal,
//     window, int32 key padding. Attention dropout runs inside it (the counter-based mask is a
//     function of each weight's index: the same weights dropped as the naive path drops with the
//     same key). Any attnMask, or a float key padding mask, keeps the naive path.
// enableFlashAttention(false) forces the naive path everywhere (to compare, or to debug).
import { OpError, shapeStr } from '../../core/errors.js';
import type { Generator } from '../../core/rng.js';
import { dropout } from '../../ops/dropout.js';
import { add, maskedFill, relu, where } from '../../ops/elementwise.js';
import { flashAttention } from '../../ops/flash-attention.js';
import { matmul } from '../../ops/linalg.js';
import { softmax } from '../../ops/softmax.js';
import { reshape, transpose } from '../../ops/views.js';
import { tidy } from '../../tensor/engine.js';
import type { Tensor } from '../../tensor/tensor.js';
import { causalMask, windowMask } from './masks.js';

export type Normalizer = 'softmax' | 'relu';

export interface AttentionMasks {
  /**
   * (L, S), (B, L, S) (one per sequence, e.g. each graph's adjacency), (B*H, L, S) or
   * (B, H, L, S): int32 nonzero = blocked, float32 = added to the scores.
   */
  attnMask?: Tensor | null;
  /** (B, S), nonzero = padding key (never attended to). */
  keyPaddingMask?: Tensor | null;
}

export interface ScaledDotProductOptions extends AttentionMasks {
  /** Defaults to 1/sqrt(d). */
  scale?: number;
  normalizer?: Normalizer;
  /** Dropout on the attention weights (training only). */
  dropout?: number;
  training?: boolean;
  generator?: Generator;
  /** Query i sees keys j <= i + S - L only (a decoder; S > L when a KV cache holds the past). */
  causal?: boolean;
  /** Truncated attention: query i sees keys j with |i + S - L - j| <= window. */
  window?: number | null;
  /**
   * Return alphaPrime (default true). With false, alphaPrime is null and softmax attention may
   * take the fused path, which never forms it.
   */
  needWeights?: boolean;
  /** Also return the scores alpha after the masks (-Infinity where blocked); forces the naive path. */
  returnScores?: boolean;
}

let flashEnabled = true;

/**
 * Whether softmax attention may take the fused FlashAttention path where it is exact (default
 * true). False forces the naive path everywhere, like torch.backends.cuda.enable_flash_sdp(False).
 */
export function enableFlashAttention(enabled: boolean): void {
  flashEnabled = enabled;
}

export function flashAttentionEnabled(): boolean {
  return flashEnabled;
}

/**
 * q (B, H, L, d), k (B, H, S, d), v (B, H, S, dv) -> b (B, H, L, dv) and the weights
 * alphaPrime (B, H, L, S), or null when `needWeights` is false. `module` names the caller in errors.
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, options: ScaledDotProductOptions = {}, module = 'attention'): { b: Tensor; alphaPrime: Tensor | null; alpha?: Tensor } {
  if (q.rank !== 4 || k.rank !== 4 || v.rank !== 4) {
    throw new OpError(module, `q, k, v must be (B, H, N, d), got ${shapeStr(q.shape)}, ${shapeStr(k.shape)}, ${shapeStr(v.shape)}`);
  }
  const [B, H, L, d] = q.shape as [number, number, number, number];
  const S = k.shape[2]!;
  if (k.shape[0] !== B || k.shape[1] !== H || k.shape[3] !== d || v.shape[0] !== B || v.shape[1] !== H || v.shape[2] !== S) {
    throw new OpError(module, `q ${shapeStr(q.shape)}, k ${shapeStr(k.shape)} and v ${shapeStr(v.shape)} do not match`);
  }
  const scale = options.scale ?? 1 / Math.sqrt(d);
  const { causal = false, window = null, needWeights = true } = options;
  checkWindow(window, module);
  const padding = options.keyPaddingMask ?? null;
  if (padding) checkKeyPadding(padding, B, S, module);
  const fused = flashEnabled && !needWeights && !options.returnScores && (options.normalizer ?? 'softmax') === 'softmax' && !options.attnMask &&
    (!padding || padding.dtype === 'int32') && q.dtype === 'float32' && k.dtype === 'float32' && v.dtype === 'float32';
  if (fused) {
    const p = options.training ? options.dropout ?? 0 : 0;
    return { b: flashAttention(q, k, v, { causal, window, keyPaddingMask: padding, scale, dropout: p, ...(options.generator ? { generator: options.generator } : {}) }), alphaPrime: null };
  }
  return tidy(() => {
    let alpha = matmul(q, transpose(k)); // alpha_{i,j} = q^i · k^j, (B, H, L, S)
    if (scale !== 1) alpha = alpha.mul(scale);
    alpha = applyMasks(alpha, withStructure(options, causal, window, L, S, module), [B, H, L, S], module);
    let alphaPrime = options.normalizer === 'relu' ? relu(alpha) : softmax(alpha, -1); // normalise over j
    if (options.dropout && options.training) alphaPrime = dropout(alphaPrime, options.dropout, true, options.generator);
    const b = matmul(alphaPrime, v); // b^i = Σ_j alpha'_{i,j} v^j, (B, H, L, dv)
    return { b, alphaPrime: needWeights ? alphaPrime : null, ...(options.returnScores ? { alpha } : {}) };
  });
}

/**
 * The masks with `causal` and `window` turned into (L, S) int32 masks and merged into attnMask
 * (for the paths that form the scores: the naive one and additive attention).
 */
export function withStructure(masks: AttentionMasks, causal: boolean, window: number | null, L: number, S: number, module: string): AttentionMasks {
  checkWindow(window, module);
  let attnMask = masks.attnMask ?? null;
  if (causal) attnMask = attnMask ? combineMasks(attnMask, causalMask(L, S)) : causalMask(L, S);
  if (window !== null) attnMask = attnMask ? combineMasks(attnMask, windowMask(L, window, S)) : windowMask(L, window, S);
  return { attnMask, keyPaddingMask: masks.keyPaddingMask ?? null };
}

/** Blocks a position when either mask blocks it (both boolean), or adds them (float). */
export function combineMasks(a: Tensor, b: Tensor): Tensor {
  if (a.dtype === 'int32' && b.dtype === 'int32') return a.add(b).gt(0);
  const additive = (m: Tensor) => (m.dtype === 'int32' ? where(m, -Infinity, 0) : m);
  return add(additive(a), additive(b));
}

function checkWindow(window: number | null, module: string): void {
  if (window !== null && (typeof window !== 'number' || !Number.isInteger(window) || window < 0)) {
    throw new OpError(module, `window must be a non-negative integer (or null for none), got ${String(window)}`);
  }
}

function checkKeyPadding(p: Tensor, B: number, S: number, module: string): void {
  if (p.rank !== 2 || p.shape[0] !== B || p.shape[1] !== S) {
    throw new OpError(module, `key padding mask of shape ${shapeStr(p.shape)} does not fit batch ${B} and ${S} keys (expected [${B}, ${S}])`);
  }
}

/** Adds float masks and blocks (-Infinity) the positions of boolean masks and padding. */
export function applyMasks(alpha: Tensor, masks: AttentionMasks, [B, H, L, S]: number[], module: string): Tensor {
  let out = alpha;
  const m = masks.attnMask;
  if (m) {
    let m4: Tensor;
    if (m.rank === 2 && m.shape[0] === L && m.shape[1] === S) m4 = reshape(m, [1, 1, L, S]);
    else if (m.rank === 3 && m.shape[0] === B! * H! && m.shape[1] === L && m.shape[2] === S) m4 = reshape(m, [B!, H!, L, S]);
    else if (m.rank === 3 && m.shape[0] === B && m.shape[1] === L && m.shape[2] === S) m4 = reshape(m, [B!, 1, L, S]);
    else if (m.rank === 4 && m.shape.join() === [B, H, L, S].join()) m4 = m;
    else throw new OpError(module, `attention mask of shape ${shapeStr(m.shape)} does not fit scores (B=${B}, H=${H}, L=${L}, S=${S}): expected [${L}, ${S}], [${B}, ${L}, ${S}], [${B! * H!}, ${L}, ${S}] or [${B}, ${H}, ${L}, ${S}]`);
    out = m.dtype === 'int32' ? maskedFill(out, m4, -Infinity) : add(out, m4);
  }
  const p = masks.keyPaddingMask;
  if (p) {
    checkKeyPadding(p, B!, S!, module);
    out = p.dtype === 'int32' ? maskedFill(out, reshape(p, [B!, 1, 1, S]), -Infinity) : add(out, reshape(p, [B!, 1, 1, S]));
  }
  return out;
}
