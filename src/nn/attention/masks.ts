// Attention masks. Convention (PyTorch's): an int32 mask is boolean, nonzero = blocked (may
// not attend); a float32 mask is added to the scores (-Infinity blocks). Every builder
// returns an int32 (N, S) mask with 1 where attention is blocked.
import { OpError, shapeStr } from '../../core/errors.js';
import { tensor } from '../../ops/creation.js';
import type { Tensor } from '../../tensor/tensor.js';

function build(op: string, n: number, s: number, blocked: (i: number, j: number) => boolean): Tensor {
  if (!Number.isInteger(n) || n < 0 || !Number.isInteger(s) || s < 0) throw new OpError(op, `sizes must be non-negative integers, got ${n} x ${s}`);
  const m = new Int32Array(n * s);
  for (let i = 0; i < n; i++) for (let j = 0; j < s; j++) m[i * s + j] = blocked(i, j) ? 1 : 0;
  return tensor(m, { shape: [n, s] });
}

/** Position i may look at j <= i only (a decoder's masked self-attention). */
export function causalMask(n: number, s = n): Tensor {
  // with a longer key sequence (cached past), query i sits at position s - n + i
  return build('causalMask', n, s, (i, j) => j > i + (s - n));
}

/** Truncated self-attention: position i looks at j with |i - j| <= window only (long inputs such as speech). */
export function windowMask(n: number, window: number, s = n): Tensor {
  if (!Number.isInteger(window) || window < 0) throw new OpError('windowMask', `window must be a non-negative integer, got ${window}`);
  return build('windowMask', n, s, (i, j) => Math.abs(i + (s - n) - j) > window);
}

/**
 * Self-attention as a graph network: node i attends to node j only along an edge j -> i (or
 * i -> j; edges are undirected unless `directed`), and to itself unless `selfLoops` is false.
 * `edges` is a list of [from, to] pairs, or an (N, N) adjacency tensor (nonzero = edge).
 */
export function graphMask(n: number, edges: readonly (readonly [number, number])[] | Tensor, options: { directed?: boolean; selfLoops?: boolean } = {}): Tensor {
  const { directed = false, selfLoops = true } = options;
  const allowed = new Uint8Array(n * n);
  if (Array.isArray(edges)) {
    edges.forEach(([a, b], e) => {
      if (![a, b].every((x) => Number.isInteger(x) && x >= 0 && x < n)) throw new OpError('graphMask', `edge ${e} [${a}, ${b}] names a node outside 0..${n - 1}`);
      allowed[b * n + a] = 1; // b receives from a
      if (!directed) allowed[a * n + b] = 1;
    });
  } else {
    const adj = edges as Tensor;
    if (adj.shape.join() !== `${n},${n}`) throw new OpError('graphMask', `adjacency of shape ${shapeStr(adj.shape)} for ${n} nodes (expected [${n}, ${n}])`);
    const a = adj.toTypedArray();
    for (let i = 0; i < n * n; i++) if (a[i] !== 0) allowed[i] = 1;
  }
  return build('graphMask', n, n, (i, j) => !(allowed[i * n + j] || (selfLoops && i === j)));
}

/** A key padding mask (B, S) from sequence lengths: 1 at positions >= length. */
export function paddingMask(lengths: readonly number[], s?: number): Tensor {
  const max = s ?? Math.max(0, ...lengths);
  const m = new Int32Array(lengths.length * max);
  lengths.forEach((len, b) => { for (let j = len; j < max; j++) m[b * max + j] = 1; });
  return tensor(m, { shape: [lengths.length, max] });
}
