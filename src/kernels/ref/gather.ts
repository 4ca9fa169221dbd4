// Row gather (embedding lookup) and its gradient, a scatter-add into the table.
import type { TypedArray } from '../../core/dtype.js';

export function gather(table: TypedArray, cols: number, ids: Int32Array, out: TypedArray): void {
  for (let i = 0; i < ids.length; i++) out.set(table.subarray(ids[i]! * cols, ids[i]! * cols + cols), i * cols);
}

export function scatterAdd(src: Float32Array, cols: number, ids: Int32Array, out: Float32Array): void {
  for (let i = 0; i < ids.length; i++) {
    const o = ids[i]! * cols;
    const s = i * cols;
    for (let c = 0; c < cols; c++) out[o + c]! += src[s + c]!;
  }
}
