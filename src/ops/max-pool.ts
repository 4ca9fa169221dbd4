// Max-pooling over a whole axis (a char CNN's max over a word's characters): one kernel finds
// each maximum and its index, and the gradient is one scatter to those indices: PyTorch's
// max_pool1d with the window the whole axis (and torch.max(x, dim)'s gradient). Ties: the first
// maximum takes the whole gradient, as PyTorch's CPU kernel; NaN propagates. (max() in reduce.ts
// shares a tie's gradient equally instead, as torch.amax.)
import { OpError, shapeStr } from '../core/errors.js';
import { contiguousStrides, normalizeAxis } from '../core/shape.js';
import { kernel } from '../kernels/registry.js';
import { record } from '../tensor/autograd.js';
import { Tensor } from '../tensor/tensor.js';
import { checkDtype, checkTensor, contiguousTensor, isWhole, release } from './util.js';

/**
 * The max over `axis` (default the last) and the index of each maximum along it:
 * x (..., L, ...) -> values and int32 indices, shaped like x without `axis`.
 */
export function maxPoolWithIndices(x: Tensor, axis = -1): { values: Tensor; indices: Tensor } {
  checkTensor('maxPool', x);
  checkDtype('maxPool', x, 'float32');
  const ax = normalizeAxis('maxPool', axis, x.rank);
  const cols = x.shape[ax]!;
  if (cols === 0) throw new OpError('maxPool', `max over an empty axis ${ax} of shape ${shapeStr(x.shape)}`);
  const outShape = x.shape.filter((_, i) => i !== ax);
  const rows = x.size / cols;
  const be = x.backend;
  // the pooled axis last: x itself when it already is, else a permuted copy on x's backend
  const perm = [...x.shape.keys()].filter((i) => i !== ax).concat(ax);
  const last = ax === x.rank - 1 && isWhole(x);
  const permShape = perm.map((i) => x.shape[i]!);
  const src = last ? x : Tensor.empty(permShape, 'float32', be);
  if (!last) {
    kernel('Copy', be)({ data: x.storage.data, offset: x.offset, strides: perm.map((i) => x.strides[i]!) },
      { data: src.buffer(), offset: 0, strides: contiguousStrides(permShape) }, permShape);
  }
  const values = Tensor.empty(outShape, 'float32', be);
  const indices = Tensor.empty(outShape, 'int32', be);
  kernel('MaxPool', be)(src.buffer() as Float32Array, rows, cols, values.buffer() as Float32Array, indices.buffer() as Int32Array);
  release(src, x);
  record('maxPool', [x], values, (g, [idx]) => {
    const dx = Tensor.empty(permShape, 'float32', be);
    const dy = contiguousTensor(g);
    kernel('MaxPoolGrad', be)(dy.buffer() as Float32Array, idx!.buffer() as Int32Array, rows, cols, dx.buffer() as Float32Array);
    release(dy, g);
    if (ax === x.rank - 1) return [dx];
    // back to x's axis order: a view of dx with the pooled axis where it was
    const inv = x.shape.map((_, i) => perm.indexOf(i));
    const strides = contiguousStrides(permShape);
    const back = dx.makeView(inv.map((p) => permShape[p]!), inv.map((p) => strides[p]!), 0);
    dx.dispose();
    return [back];
  }, [indices]);
  return { values, indices };
}

/** The max over `axis` (default the last), the gradient going to the first maximum (see maxPoolWithIndices). */
export function maxPool(x: Tensor, axis = -1): Tensor {
  const { values, indices } = maxPoolWithIndices(x, axis);
  indices.dispose(); // the backward keeps its own handle
  return values;
}
