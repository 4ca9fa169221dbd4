// Row reductions over a contiguous [rows, cols] array (the op moves reduced axes last),
// plus top-k and cumulative sums. Sums accumulate in float64.
import type { TypedArray } from '../../core/dtype.js';

export function sum(x: TypedArray, rows: number, cols: number, out: TypedArray): void {
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = r * cols, e = c + cols; c < e; c++) s += x[c]!;
    out[r] = s;
  }
}

function extreme(sign: 1 | -1, wantIndex: boolean) {
  return (x: TypedArray, rows: number, cols: number, out: TypedArray): void => {
    for (let r = 0; r < rows; r++) {
      const base = r * cols;
      let best = x[base]!;
      let at = 0;
      for (let c = 1; c < cols; c++) {
        const v = x[base + c]!;
        if (Number.isNaN(best)) break; // NaN propagates, like PyTorch
        if (Number.isNaN(v) || sign * (v - best) > 0) { best = v; at = c; }
      }
      out[r] = wantIndex ? at : best;
    }
  };
}

export const max = extreme(1, false);
export const min = extreme(-1, false);
export const argMax = extreme(1, true);
export const argMin = extreme(-1, true);

export function topK(x: TypedArray, rows: number, cols: number, k: number, values: TypedArray, indices: Int32Array): void {
  const order = new Array<number>(cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) order[c] = c;
    order.sort((i, j) => x[base + j]! - x[base + i]! || i - j);
    for (let i = 0; i < k; i++) {
      values[r * k + i] = x[base + order[i]!]!;
      indices[r * k + i] = order[i]!;
    }
  }
}

export function cumsum(x: TypedArray, outer: number, size: number, inner: number, reverse: boolean, out: TypedArray): void {
  const acc = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    acc.fill(0);
    const base = o * size * inner;
    for (let s = 0; s < size; s++) {
      const row = base + (reverse ? size - 1 - s : s) * inner;
      for (let i = 0; i < inner; i++) {
        acc[i]! += x[row + i]!;
        out[row + i] = acc[i]!;
      }
    }
  }
}
