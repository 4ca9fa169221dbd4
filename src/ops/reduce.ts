// Reductions over any axes (sum, mean, max, min, var), arg-reductions, top-k and cumsum.
// The kernels reduce the last axis of a [rows, cols] array, so the op first moves the
// reduced axes last (a permuted copy; none when they already are).
import { OpError, shapeStr } from '../core/errors.js';
import { contiguousStrides, normalizeAxes, normalizeAxis } from '../core/shape.js';
import type { KernelName } from '../kernels/contract.js';
import { kernel } from '../kernels/registry.js';
import { record } from '../tensor/autograd.js';
import { tidy } from '../tensor/engine.js';
import { Tensor } from '../tensor/tensor.js';
import { div, equal, mul, sub } from './elementwise.js';
import { expand, reshape } from './views.js';
import { checkTensor, contiguousTensor, isWhole, release } from './util.js';

export type Axes = number | readonly number[];

interface Plan {
  x: Tensor;
  rows: number;
  cols: number;
  perm: number[]; // x's axes with the reduced ones last
  outShape: number[]; // without the reduced axes, or with them as 1 when keepdim
  keepShape: number[]; // always with the reduced axes as 1
}

function plan(op: string, x: Tensor, axes: Axes | undefined, keepdim: boolean): Plan {
  checkTensor(op, x);
  const reduced = normalizeAxes(op, axes, x.rank);
  const kept = x.shape.map((_, i) => i).filter((i) => !reduced.includes(i));
  const perm = [...kept, ...reduced];
  const cols = reduced.reduce((n, i) => n * x.shape[i]!, 1);
  const rows = kept.reduce((n, i) => n * x.shape[i]!, 1);
  const keepShape = x.shape.map((d, i) => (reduced.includes(i) ? 1 : d));
  const outShape = keepdim ? keepShape : kept.map((i) => x.shape[i]!);
  return { x, rows, cols, perm, outShape, keepShape };
}

/**
 * x's values as [rows, cols] with the reduced axes last: x itself, or a permuted copy on x's
 * backend (so a WebAssembly backend's kernels find it in their memory); free it with
 * release(src, p.x).
 */
function rowsSource(p: Plan): Tensor {
  const { x, perm } = p;
  if (perm.every((a, i) => a === i) && isWhole(x)) return x;
  const permShape = perm.map((i) => x.shape[i]!);
  const copy = Tensor.empty(permShape, x.dtype, x.backend);
  kernel('Copy', x.backend)({ data: x.storage.data, offset: x.offset, strides: perm.map((i) => x.strides[i]!) },
    { data: copy.buffer(), offset: 0, strides: contiguousStrides(permShape) }, permShape);
  return copy;
}

type ReduceName = Extract<KernelName, 'Sum' | 'Max' | 'Min' | 'ArgMax' | 'ArgMin'>;

function run(p: Plan, name: ReduceName, dtype: 'float32' | 'int32'): Tensor {
  const src = rowsSource(p);
  const out = Tensor.empty(p.outShape, dtype, p.x.backend);
  kernel(name, p.x.backend)(src.buffer(), p.rows, p.cols, out.buffer()); // read after allocating: a heap grow detaches earlier views
  release(src, p.x);
  return out;
}

/** Sum over `axes` (all when omitted). */
export function sum(x: Tensor, axes?: Axes, keepdim = false): Tensor {
  const p = plan('sum', x, axes, keepdim);
  const y = run(p, 'Sum', x.dtype);
  return record('sum', [x], y, (g) => [expand(reshape(g, p.keepShape), x.shape)]);
}

export function mean(x: Tensor, axes?: Axes, keepdim = false): Tensor {
  const p = plan('mean', x, axes, keepdim);
  if (p.cols === 0) throw new OpError('mean', `mean over an empty axis of shape ${shapeStr(x.shape)}`);
  return tidy(() => div(sum(x, axes, keepdim), p.cols));
}

function extreme(op: 'max' | 'min', x: Tensor, axes: Axes | undefined, keepdim: boolean): Tensor {
  const p = plan(op, x, axes, keepdim);
  if (p.cols === 0) throw new OpError(op, `${op} over an empty axis of shape ${shapeStr(x.shape)}`);
  const y = run(p, op === 'max' ? 'Max' : 'Min', x.dtype);
  // the gradient goes to every position that attains the extreme, shared equally
  return record(op, [x], y, (g, [x, y]) => {
    const hit = equal(x!, reshape(y!, p.keepShape));
    const count = sum(hit, axes, true);
    return [div(mul(reshape(g, p.keepShape), hit), count)];
  }, [x, y]);
}

export const max = (x: Tensor, axes?: Axes, keepdim = false): Tensor => extreme('max', x, axes, keepdim);
export const min = (x: Tensor, axes?: Axes, keepdim = false): Tensor => extreme('min', x, axes, keepdim);

/** Variance over `axes`; correction 1 (default) is the unbiased estimate, 0 the biased one. */
export function variance(x: Tensor, axes?: Axes, options: { keepdim?: boolean; correction?: number } = {}): Tensor {
  const { keepdim = false, correction = 1 } = options;
  const p = plan('var', x, axes, keepdim);
  return tidy(() => {
    const d = sub(x, mean(x, axes, true));
    return div(sum(mul(d, d), axes, keepdim), Math.max(p.cols - correction, 0));
  });
}

function argExtreme(op: string, k: ReduceName, x: Tensor, axis: number | undefined, keepdim: boolean): Tensor {
  checkTensor(op, x);
  const p = plan(op, x, axis === undefined ? undefined : normalizeAxis(op, axis, x.rank), axis === undefined ? false : keepdim);
  if (p.cols === 0) throw new OpError(op, `${op} over an empty axis of shape ${shapeStr(x.shape)}`);
  return run(p, k, 'int32');
}

/** Index of the largest value along `axis` (of the flattened tensor when omitted). No gradient. */
export const argmax = (x: Tensor, axis?: number, keepdim = false): Tensor => argExtreme('argmax', 'ArgMax', x, axis, keepdim);
export const argmin = (x: Tensor, axis?: number, keepdim = false): Tensor => argExtreme('argmin', 'ArgMin', x, axis, keepdim);

/** The k largest values along `axis` (last by default), sorted descending, and their indices. No gradient. */
export function topk(x: Tensor, k: number, axis = -1): { values: Tensor; indices: Tensor } {
  checkTensor('topk', x);
  const ax = normalizeAxis('topk', axis, x.rank);
  const n = x.shape[ax]!;
  if (!Number.isInteger(k) || k < 0 || k > n) throw new OpError('topk', `k = ${k} is out of range for axis ${ax} of size ${n} (shape ${shapeStr(x.shape)})`);
  const p = plan('topk', x, ax, false);
  const kept = x.shape.filter((_, i) => i !== ax);
  const src = rowsSource(p);
  const values = Tensor.empty([...kept, k], x.dtype, x.backend);
  const indices = Tensor.empty([...kept, k], 'int32', x.backend);
  kernel('TopK', x.backend)(src.buffer(), p.rows, p.cols, k, values.buffer(), indices.buffer() as Int32Array);
  release(src, x);
  // results were computed with the axis last; move it back
  const last = kept.length;
  const back = (t: Tensor): Tensor => {
    if (ax === last) return t;
    const dims = Array.from({ length: last + 1 }, (_, i) => (i < ax ? i : i === ax ? last : i - 1));
    const moved = t.makeView(dims.map((d) => t.shape[d]!), dims.map((d) => t.strides[d]!), 0);
    t.dispose();
    return moved;
  };
  return { values: back(values), indices: back(indices) };
}

/** Running sum along `axis`; reverse sums from the end (its gradient is the other direction). */
export function cumsum(x: Tensor, axis: number, options: { reverse?: boolean } = {}): Tensor {
  checkTensor('cumsum', x);
  const reverse = options.reverse ?? false;
  const ax = normalizeAxis('cumsum', axis, x.rank);
  const outer = x.shape.slice(0, ax).reduce((a, b) => a * b, 1);
  const inner = x.shape.slice(ax + 1).reduce((a, b) => a * b, 1);
  const size = x.rank ? x.shape[ax]! : 1;
  const src = contiguousTensor(x);
  const y = Tensor.empty(x.shape, x.dtype, x.backend);
  kernel('Cumsum', x.backend)(src.buffer(), outer, size, inner, reverse, y.buffer()); // read after allocating: a heap grow detaches earlier views
  release(src, x);
  return record('cumsum', [x], y, (g) => [cumsum(g, ax, { reverse: !reverse })]);
}
