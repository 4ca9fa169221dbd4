// Walking strided arrays. `offsets` lists, for every element of `shape` in row-major order,
// where it lives in memory; the fast path is a plain range when the view is contiguous.
import type { Shape } from '../../core/shape.js';
import type { Strided } from '../contract.js';

export function offsets(x: Strided, shape: Shape): Int32Array {
  let size = 1;
  for (const d of shape) size *= d;
  const out = new Int32Array(size);
  if (size === 0) return out;
  const rank = shape.length;
  // Contiguous: offset, offset+1, ...
  let expected = 1;
  let contiguous = true;
  for (let i = rank - 1; i >= 0; i--) {
    if (shape[i] !== 1 && x.strides[i] !== expected) { contiguous = false; break; }
    expected *= shape[i]!;
  }
  if (contiguous) {
    for (let i = 0; i < size; i++) out[i] = x.offset + i;
    return out;
  }
  // Odometer over all but the last axis; the last axis is an inner loop.
  const inner = rank === 0 ? 1 : shape[rank - 1]!;
  const innerStride = rank === 0 ? 0 : x.strides[rank - 1]!;
  const idx = new Array<number>(rank).fill(0);
  let base = x.offset;
  for (let o = 0; o < size; o += inner) {
    for (let j = 0; j < inner; j++) out[o + j] = base + j * innerStride;
    for (let ax = rank - 2; ax >= 0; ax--) {
      idx[ax]!++;
      base += x.strides[ax]!;
      if (idx[ax]! < shape[ax]!) break;
      base -= idx[ax]! * x.strides[ax]!;
      idx[ax] = 0;
    }
  }
  return out;
}
