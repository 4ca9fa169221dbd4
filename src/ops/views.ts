// Views: new shapes over the same memory (no copy) where strides allow it, with gradients.
import { OpError, shapeStr } from '../core/errors.js';
import { contiguousStrides, normalizeAxis, resolveShape, type Shape } from '../core/shape.js';
import { kernel } from '../kernels/registry.js';
import { record } from '../tensor/autograd.js';
import { Tensor } from '../tensor/tensor.js';
import { checkTensor, copyTensor } from './util.js';

/** A contiguous tensor with x's values: a view when x already is contiguous, else a copy. */
export function contiguous(x: Tensor): Tensor {
  checkTensor('contiguous', x);
  const y = x.isContiguous ? x.makeView(x.shape, x.strides, x.offset) : copyTensor(x);
  return record('contiguous', [x], y, (g) => [g]);
}

/** A copy of x in memory of its own (torch.clone); the gradient passes through unchanged. */
export function clone(x: Tensor): Tensor {
  checkTensor('clone', x);
  return record('clone', [x], copyTensor(x), (g) => [g]);
}

/** Same values, new shape (one dimension may be -1). A view when x is contiguous, else a copy. */
export function reshape(x: Tensor, shape: Shape): Tensor {
  checkTensor('reshape', x);
  const target = resolveShape('reshape', shape, x.size);
  const src = x.isContiguous ? x : copyTensor(x);
  const y = src.makeView(target, contiguousStrides(target), src.offset);
  if (src !== x) src.dispose();
  return record('reshape', [x], y, (g) => [reshape(g, x.shape)]);
}

/** Like reshape, but refuses to copy (errors on a non-contiguous input, like PyTorch's view). */
export function view(x: Tensor, shape: Shape): Tensor {
  checkTensor('view', x);
  if (!x.isContiguous) throw new OpError('view', `input of shape ${shapeStr(x.shape)} is not contiguous; use reshape or contiguous()`);
  return reshape(x, shape);
}

export function permute(x: Tensor, dims: readonly number[]): Tensor {
  checkTensor('permute', x);
  const axes = dims.map((d) => normalizeAxis('permute', d, x.rank));
  if (axes.length !== x.rank || new Set(axes).size !== x.rank) {
    throw new OpError('permute', `dims [${dims.join(', ')}] are not a permutation of the ${x.rank} axes of ${shapeStr(x.shape)}`);
  }
  const y = x.makeView(axes.map((a) => x.shape[a]!), axes.map((a) => x.strides[a]!), x.offset);
  const inverse = new Array<number>(axes.length);
  axes.forEach((a, i) => (inverse[a] = i));
  return record('permute', [x], y, (g) => [permute(g, inverse)]);
}

export function transpose(x: Tensor, dim0 = -2, dim1 = -1): Tensor {
  checkTensor('transpose', x);
  const a = normalizeAxis('transpose', dim0, x.rank);
  const b = normalizeAxis('transpose', dim1, x.rank);
  const dims = Array.from({ length: x.rank }, (_, i) => (i === a ? b : i === b ? a : i));
  return permute(x, dims);
}

/** Elements start, start+step, ... < end along one axis (Python slicing; negatives count from the end). */
export function slice(x: Tensor, axis: number, start = 0, end?: number, step = 1): Tensor {
  checkTensor('slice', x);
  const ax = normalizeAxis('slice', axis, x.rank);
  if (!Number.isInteger(step) || step < 1) throw new OpError('slice', `step must be a positive integer, got ${step}`);
  const n = x.shape[ax]!;
  const clampIndex = (i: number): number => Math.min(Math.max(i < 0 ? i + n : i, 0), n);
  const s = clampIndex(start);
  const e = Math.max(clampIndex(end ?? n), s);
  const len = Math.ceil((e - s) / step);
  const shape = [...x.shape];
  shape[ax] = len;
  const strides = [...x.strides];
  strides[ax] = x.strides[ax]! * step;
  const y = x.makeView(shape, strides, x.offset + s * x.strides[ax]!);
  return record('slice', [x], y, (g) => [sliceBackward(g, x.shape, ax, s, step)]);
}

/** The gradient of a slice: zeros of the input's shape with g written into the sliced region. */
function sliceBackward(g: Tensor, shape: Shape, axis: number, start: number, step: number): Tensor {
  const dx = Tensor.empty(shape, 'float32', g.backend);
  kernel('Fill', g.backend)(dx.buffer(), 0);
  const strides = [...dx.strides];
  strides[axis] = dx.strides[axis]! * step;
  kernel('Copy', g.backend)(g.strided(), { data: dx.buffer(), offset: start * dx.strides[axis]!, strides }, g.shape);
  return dx;
}

/** The index-th entry along an axis, with that axis removed. */
export function select(x: Tensor, axis: number, index: number): Tensor {
  checkTensor('select', x);
  const ax = normalizeAxis('select', axis, x.rank);
  const n = x.shape[ax]!;
  if (!Number.isInteger(index) || index < -n || index >= n) {
    throw new OpError('select', `index ${index} is out of range for axis ${ax} of size ${n} (shape ${shapeStr(x.shape)})`);
  }
  const i = index < 0 ? index + n : index;
  const s = slice(x, ax, i, i + 1);
  const y = squeeze(s, ax);
  s.dispose();
  return y;
}

/** Broadcasts size-1 dimensions to a larger size without copying (-1 keeps a size). */
export function expand(x: Tensor, shape: Shape): Tensor {
  checkTensor('expand', x);
  const lead = shape.length - x.rank;
  if (lead < 0) throw new OpError('expand', `cannot expand shape ${shapeStr(x.shape)} to fewer dimensions ${shapeStr(shape)}`);
  const target = shape.map((d, i) => (d === -1 && i >= lead ? x.shape[i - lead]! : d));
  const strides = target.map((d, i) => {
    if (i < lead) return 0;
    const src = x.shape[i - lead]!;
    if (src === d) return x.strides[i - lead]!;
    if (src === 1) return 0;
    throw new OpError('expand', `cannot expand shape ${shapeStr(x.shape)} to ${shapeStr(shape)}`);
  });
  const y = x.makeView(target, strides, x.offset);
  // the autograd walker sums the gradient back to x's shape
  return record('expand', [x], y, (g) => [g]);
}

/** Removes size-1 axes (all of them, or the given ones). */
export function squeeze(x: Tensor, axis?: number | readonly number[]): Tensor {
  checkTensor('squeeze', x);
  const axes = axis === undefined ? null : (typeof axis === 'number' ? [axis] : axis).map((a) => normalizeAxis('squeeze', a, x.rank));
  const shape = x.shape.filter((d, i) => !(d === 1 && (axes === null || axes.includes(i))));
  return reshape(x, shape);
}

/** Inserts a size-1 axis at `axis` (which may be rank, to append). */
export function unsqueeze(x: Tensor, axis: number): Tensor {
  checkTensor('unsqueeze', x);
  const ax = normalizeAxis('unsqueeze', axis, x.rank + 1);
  const shape = [...x.shape];
  shape.splice(ax, 0, 1);
  return reshape(x, shape);
}

/** Merges axes start..end (inclusive) into one. */
export function flatten(x: Tensor, start = 0, end = -1): Tensor {
  checkTensor('flatten', x);
  if (x.rank === 0) return reshape(x, [1]);
  const s = normalizeAxis('flatten', start, x.rank);
  const e = normalizeAxis('flatten', end, x.rank);
  if (e < s) throw new OpError('flatten', `end axis ${end} comes before start axis ${start}`);
  const merged = x.shape.slice(s, e + 1).reduce((a, b) => a * b, 1);
  return reshape(x, [...x.shape.slice(0, s), merged, ...x.shape.slice(e + 1)]);
}

/** A copy converted to another dtype (float -> int truncates toward zero). No gradient to int32. */
export function cast(x: Tensor, dtype: 'float32' | 'int32'): Tensor {
  checkTensor('cast', x);
  const y = copyTensor(x, dtype);
  return dtype === 'float32' && x.dtype === 'float32' ? record('cast', [x], y, (g) => [g]) : y;
}
