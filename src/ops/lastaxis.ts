// Row-wise kernels (softmax, layerNorm, cross-entropy) work on the last axis of a
// contiguous array. These move any axis last (copying only when needed) and back (a view).
import { contiguousStrides, isContiguous } from '../core/shape.js';
import type { Backend } from '../kernels/contract.js';
import { kernel } from '../kernels/registry.js';
import { Tensor } from '../tensor/tensor.js';

/** The order of axes that puts `axis` last. */
export function lastPerm(rank: number, axis: number): number[] {
  return [...Array.from({ length: rank }, (_, i) => i).filter((i) => i !== axis), axis];
}

/**
 * x's values with `axis` last, as a contiguous tensor: x itself when its memory already is laid
 * out so, else a copy on x's backend (so a WebAssembly backend's kernels find it in
 * their memory; free it with `release(t, x)`). `data()` is its memory in that layout (x itself may
 * be a permuted view of it), read after the last allocation (a heap grow detaches earlier views).
 */
export function rowsOf(x: Tensor, axis: number): { t: Tensor; data: () => Float32Array; rows: number; cols: number } {
  const perm = lastPerm(x.rank, axis);
  const shape = perm.map((i) => x.shape[i]!);
  const strides = perm.map((i) => x.strides[i]!);
  const cols = x.rank ? x.shape[axis]! : 1;
  const rows = cols ? x.size / cols : 0;
  const t = isContiguous(shape, strides) && x.offset === 0 && x.storage.length === x.size ? x : Tensor.empty(shape, x.dtype, x.backend);
  if (t !== x) {
    kernel('Copy', x.backend)({ data: x.storage.data, offset: x.offset, strides }, { data: t.buffer(), offset: 0, strides: contiguousStrides(shape) }, shape);
  }
  return { t, data: () => t.storage.data as Float32Array, rows, cols };
}

/**
 * A new tensor of `shape` whose memory is laid out with `axis` last (what row kernels write);
 * `data()` is that memory, read after the last allocation (a heap grow detaches earlier views).
 */
export function emptyRows(shape: readonly number[], axis: number, on: Backend): { t: Tensor; data: () => Float32Array } {
  const perm = lastPerm(shape.length, axis);
  const permShape = perm.map((i) => shape[i]!);
  const inner = Tensor.empty(permShape, 'float32', on);
  // view it back in the original axis order
  const strides = new Array<number>(shape.length);
  perm.forEach((p, i) => (strides[p] = inner.strides[i]!));
  const t = inner.makeView(shape, strides, 0);
  inner.dispose();
  return { t, data: () => t.storage.data as Float32Array };
}
