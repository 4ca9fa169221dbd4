// Joining and cutting: concat, stack, split, chunk, pad.
import { OpError, shapeStr } from '../core/errors.js';
import { normalizeAxis } from '../core/shape.js';
import { kernel } from '../kernels/registry.js';
import { record } from '../tensor/autograd.js';
import { tidy } from '../tensor/engine.js';
import { Tensor } from '../tensor/tensor.js';
import { checkTensor, ownerOf } from './util.js';
import { slice, unsqueeze } from './views.js';

/** Joins tensors along an existing axis; all other sizes must match. */
export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  if (!Array.isArray(tensors) || tensors.length === 0) throw new OpError('concat', 'needs a non-empty array of tensors');
  tensors.forEach((t, i) => checkTensor('concat', t, `tensor ${i}`));
  const first = tensors[0]!;
  const ax = normalizeAxis('concat', axis, first.rank);
  for (const t of tensors) {
    if (t.rank !== first.rank || t.shape.some((d: number, i: number) => i !== ax && d !== first.shape[i]) || t.dtype !== first.dtype) {
      throw new OpError('concat', `shapes ${tensors.map((x) => shapeStr(x.shape) + (x.dtype === 'int32' ? ' int32' : '')).join(', ')} do not match outside axis ${ax}`);
    }
  }
  const sizes = tensors.map((t) => t.shape[ax]!);
  const shape = [...first.shape];
  shape[ax] = sizes.reduce((a, b) => a + b, 0);
  const be = ownerOf('concat', ...tensors);
  const out = Tensor.empty(shape, first.dtype, be);
  let at = 0;
  for (const t of tensors) {
    kernel('Copy', be)(t.strided('concat'), { data: out.buffer(), offset: at * out.strides[ax]!, strides: out.strides }, t.shape);
    at += t.shape[ax]!;
  }
  const starts = sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + b, 0));
  return record('concat', [...tensors], out, (g, _saved, needs) =>
    sizes.map((n, i) => (needs[i] ? slice(g, ax, starts[i]!, starts[i]! + n) : null)));
}

/** Joins tensors of one shape along a new axis. */
export function stack(tensors: readonly Tensor[], axis = 0): Tensor {
  if (!Array.isArray(tensors) || tensors.length === 0) throw new OpError('stack', 'needs a non-empty array of tensors');
  const first = checkTensor('stack', tensors[0]);
  for (const t of tensors) {
    if (checkTensor('stack', t).shape.join() !== first.shape.join()) {
      throw new OpError('stack', `all tensors must have one shape, got ${tensors.map((x) => shapeStr(x.shape)).join(', ')}`);
    }
  }
  const ax = normalizeAxis('stack', axis, first.rank + 1);
  return tidy(() => concat(tensors.map((t) => unsqueeze(t, ax)), ax));
}

/** Cuts along an axis into pieces of the given sizes (or of `size` each, the last may be shorter). Views. */
export function split(x: Tensor, sizes: number | readonly number[], axis = 0): Tensor[] {
  checkTensor('split', x);
  const ax = normalizeAxis('split', axis, x.rank);
  const n = x.shape[ax]!;
  let parts: number[];
  if (typeof sizes === 'number') {
    if (!Number.isInteger(sizes) || sizes <= 0) throw new OpError('split', `split size must be a positive integer, got ${sizes}`);
    parts = [];
    for (let i = 0; i < n; i += sizes) parts.push(Math.min(sizes, n - i));
  } else {
    parts = [...sizes];
    if (parts.some((p) => !Number.isInteger(p) || p < 0) || parts.reduce((a, b) => a + b, 0) !== n) {
      throw new OpError('split', `sizes [${parts.join(', ')}] do not add up to ${n}, the size of axis ${ax} of ${shapeStr(x.shape)}`);
    }
  }
  let at = 0;
  return parts.map((p) => {
    const piece = slice(x, ax, at, at + p);
    at += p;
    return piece;
  });
}

/** Cuts into `chunks` pieces of near-equal size along an axis (as torch.chunk). */
export function chunk(x: Tensor, chunks: number, axis = 0): Tensor[] {
  checkTensor('chunk', x);
  if (!Number.isInteger(chunks) || chunks <= 0) throw new OpError('chunk', `chunks must be a positive integer, got ${chunks}`);
  const n = x.shape[normalizeAxis('chunk', axis, x.rank)]!;
  return split(x, Math.max(1, Math.ceil(n / chunks)), axis);
}

/**
 * Pads with a constant, PyTorch's F.pad order: [left, right] of the last axis, then of the
 * one before, and so on.
 */
export function pad(x: Tensor, pads: readonly number[], value = 0): Tensor {
  checkTensor('pad', x);
  if (pads.length % 2 !== 0 || pads.length / 2 > x.rank || pads.some((p) => !Number.isInteger(p) || p < 0)) {
    throw new OpError('pad', `pads [${pads.join(', ')}] must be pairs of non-negative integers, at most one pair per axis of ${shapeStr(x.shape)}`);
  }
  const before = new Array<number>(x.rank).fill(0);
  const shape = [...x.shape];
  for (let i = 0; i < pads.length / 2; i++) {
    const ax = x.rank - 1 - i;
    before[ax] = pads[2 * i]!;
    shape[ax] = x.shape[ax]! + pads[2 * i]! + pads[2 * i + 1]!;
  }
  const out = Tensor.empty(shape, x.dtype, x.backend);
  kernel('Fill', x.backend)(out.buffer(), value);
  const offset = before.reduce((o, b, i) => o + b * out.strides[i]!, 0);
  kernel('Copy', x.backend)(x.strided('pad'), { data: out.buffer(), offset, strides: out.strides }, x.shape);
  return record('pad', [x], out, (g) => {
    let piece = g;
    for (let ax = 0; ax < x.rank; ax++) {
      if (before[ax] === 0 && shape[ax] === x.shape[ax]) continue;
      piece = slice(piece, ax, before[ax]!, before[ax]! + x.shape[ax]!);
    }
    return [piece === g ? g : piece];
  });
}
