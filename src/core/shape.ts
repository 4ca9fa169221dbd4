// Shapes, strides and broadcasting. Pure functions over number arrays; no tensors here.
import { OpError, shapeStr } from './errors.js';

export type Shape = readonly number[];

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides of a contiguous tensor of this shape. */
export function contiguousStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

/** True when (shape, strides) walks memory in row-major order with no gaps. */
export function isContiguous(shape: Shape, strides: readonly number[]): boolean {
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && strides[i] !== s) return false;
    s *= shape[i]!;
  }
  return true;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** NumPy broadcasting: align on the right; a dimension of 1 stretches. */
export function broadcastShapes(op: string, ...shapes: Shape[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const j = rank - s.length + i;
      const d = s[i]!;
      if (d === out[j] || d === 1) continue;
      if (out[j] === 1) out[j] = d;
      else throw new OpError(op, `shapes ${shapes.map(shapeStr).join(' and ')} cannot be broadcast together`);
    }
  }
  return out;
}

/** Strides that read `shape` as if broadcast to `target` (stride 0 along stretched dims). */
export function broadcastStrides(shape: Shape, strides: readonly number[], target: Shape): number[] {
  const out = new Array<number>(target.length).fill(0);
  const lead = target.length - shape.length;
  for (let i = 0; i < shape.length; i++) out[lead + i] = shape[i] === 1 && target[lead + i] !== 1 ? 0 : strides[i]!;
  return out;
}

/** Resolves a possibly negative axis; throws naming the op when it is out of range. */
export function normalizeAxis(op: string, axis: number, rank: number): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= Math.max(rank, 1)) {
    throw new OpError(op, `axis ${axis} is out of range for a tensor of rank ${rank}`);
  }
  return axis < 0 ? axis + rank : axis;
}

/** Resolves a list of axes (undefined = all), sorted and without duplicates. */
export function normalizeAxes(op: string, axes: number | readonly number[] | undefined, rank: number): number[] {
  if (axes === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axes === 'number' ? [axes] : axes;
  const out = [...new Set(list.map((a) => normalizeAxis(op, a, rank)))].sort((x, y) => x - y);
  if (out.length !== list.length) throw new OpError(op, `repeated axis in [${list.join(', ')}]`);
  return out;
}

/** Checks a user-given shape: non-negative integers, at most one -1 which is inferred. */
export function resolveShape(op: string, shape: Shape, size: number): number[] {
  const out = [...shape];
  const free = out.indexOf(-1);
  if (out.some((d, i) => !(Number.isInteger(d) && (d >= 0 || (d === -1 && i === free))))) {
    throw new OpError(op, `invalid shape ${shapeStr(shape)}`);
  }
  if (free >= 0) {
    const known = sizeOf(out.filter((_, i) => i !== free));
    if (known === 0 || size % known !== 0) throw new OpError(op, `cannot reshape ${size} elements into ${shapeStr(shape)}`);
    out[free] = size / known;
  }
  if (sizeOf(out) !== size) throw new OpError(op, `cannot reshape ${size} elements into ${shapeStr(shape)}`);
  return out;
}
