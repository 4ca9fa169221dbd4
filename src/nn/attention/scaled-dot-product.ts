// The matrix form of self-attention (lecture §4): A = Q Kᵀ (scaled), A' = normalise(A), O = A' V,
// for every batch and head at once. Masks block positions: a blocked weight is exactly 0, and
// a query with nothing left to attend to gets a zero output (not NaN, unlike PyTorch).
import { OpError, shapeStr } from '../../core/errors.js';
import type { Generator } from '../../core/rng.js';
import { dropout } from '../../ops/dropout.js';
import { add, maskedFill, relu } from '../../ops/elementwise.js';
import { matmul } from '../../ops/linalg.js';
import { softmax } from '../../ops/softmax.js';
import { reshape, transpose } from '../../ops/views.js';
import { tidy } from '../../tensor/engine.js';
import type { Tensor } from '../../tensor/tensor.js';

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
}

/**
 * q (B, H, L, d), k (B, H, S, d), v (B, H, S, dv) -> b (B, H, L, dv) and the weights
 * alphaPrime (B, H, L, S). `module` names the caller in errors.
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, options: ScaledDotProductOptions = {}, module = 'attention'): { b: Tensor; alphaPrime: Tensor } {
  if (q.rank !== 4 || k.rank !== 4 || v.rank !== 4) {
    throw new OpError(module, `q, k, v must be (B, H, N, d), got ${shapeStr(q.shape)}, ${shapeStr(k.shape)}, ${shapeStr(v.shape)}`);
  }
  const [B, H, L, d] = q.shape as [number, number, number, number];
  const S = k.shape[2]!;
  if (k.shape[0] !== B || k.shape[1] !== H || k.shape[3] !== d || v.shape[0] !== B || v.shape[1] !== H || v.shape[2] !== S) {
    throw new OpError(module, `q ${shapeStr(q.shape)}, k ${shapeStr(k.shape)} and v ${shapeStr(v.shape)} do not match`);
  }
  const scale = options.scale ?? 1 / Math.sqrt(d);
  return tidy(() => {
    let alpha = matmul(q, transpose(k)); // alpha_{i,j} = q^i · k^j, (B, H, L, S)
    if (scale !== 1) alpha = alpha.mul(scale);
    alpha = applyMasks(alpha, options, [B, H, L, S], module);
    let alphaPrime = options.normalizer === 'relu' ? relu(alpha) : softmax(alpha, -1); // normalise over j
    if (options.dropout && options.training) alphaPrime = dropout(alphaPrime, options.dropout, true, options.generator);
    const b = matmul(alphaPrime, v); // b^i = Σ_j alpha'_{i,j} v^j, (B, H, L, dv)
    return { b, alphaPrime };
  });
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
    if (p.rank !== 2 || p.shape[0] !== B || p.shape[1] !== S) {
      throw new OpError(module, `key padding mask of shape ${shapeStr(p.shape)} does not fit batch ${B} and ${S} keys (expected [${B}, ${S}])`);
    }
    out = p.dtype === 'int32' ? maskedFill(out, reshape(p, [B!, 1, 1, S]), -Infinity) : add(out, reshape(p, [B!, 1, 1, S]));
  }
  return out;
}
