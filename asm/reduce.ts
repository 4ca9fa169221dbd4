// Row reductions over a contiguous [rows, cols] float32 array: sum (accumulated in float64, as
// the reference) and max (NaN propagates; of equal zeros the first one's sign, as the reference).
import { hmax } from './simd';

/** The largest value of a row of `cols` floats (NaN if any is NaN, -Infinity if cols is 0). */
// @ts-ignore: decorator
@inline export function rowMax(x: usize, cols: i32): f32 {
  let mv = f32x4.splat(-Infinity);
  let c = 0;
  for (; c + 4 <= cols; c += 4) mv = f32x4.max(mv, v128.load(x + (<usize>c << 2)));
  let m = hmax(mv);
  for (; c < cols; c++) m = max(m, load<f32>(x + (<usize>c << 2)));
  return m;
}

/** out[r] = Σ_c x[r, c], four lanes of float64 sums per row. */
export function sum_rows(x: usize, rows: i32, cols: i32, out: usize): void {
  const rowBytes = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>r * rowBytes;
    let lo = f64x2.splat(0);
    let hi = f64x2.splat(0);
    let c = 0;
    for (; c + 4 <= cols; c += 4) {
      const v = v128.load(xr + (<usize>c << 2));
      lo = f64x2.add(lo, f64x2.promote_low_f32x4(v));
      hi = f64x2.add(hi, f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1)));
    }
    const t = f64x2.add(lo, hi);
    let s = f64x2.extract_lane(t, 0) + f64x2.extract_lane(t, 1);
    for (; c < cols; c++) s += <f64>load<f32>(xr + (<usize>c << 2));
    store<f32>(out + (<usize>r << 2), <f32>s);
  }
}

/** out[r] = max_c x[r, c]; NaN for cols = 0 (the reference reads past the row: undefined). */
export function max_rows(x: usize, rows: i32, cols: i32, out: usize): void {
  const rowBytes = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>r * rowBytes;
    let m = cols ? rowMax(xr, cols) : NaN;
    if (m == 0) {
      // f32x4.max(-0, +0) is +0; the reference keeps the first of equal values
      for (let c = 0; c < cols; c++) {
        const v = load<f32>(xr + (<usize>c << 2));
        if (v == 0) {
          m = v;
          break;
        }
      }
    }
    store<f32>(out + (<usize>r << 2), m);
  }
}

/**
 * Max-pooling over each whole row: values[r] = max_c x[r, c] and indices[r] its column, the first
 * of equal maxima, a NaN winning (the first one), as the reference (kernels/ref/max-pool.ts).
 */
export function max_pool(x: usize, rows: i32, cols: i32, values: usize, indices: usize): void {
  const rowBytes = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>r * rowBytes;
    let best = load<f32>(xr);
    let at = 0;
    for (let c = 1; c < cols && best == best; c++) {
      const v = load<f32>(xr + (<usize>c << 2));
      if (v > best || v != v) {
        best = v;
        at = c;
      }
    }
    store<f32>(values + (<usize>r << 2), best);
    store<i32>(indices + (<usize>r << 2), at);
  }
}

/** dx[r, c] = c == indices[r] ? dy[r] : 0, every element written; an index outside its row leaves the row 0. */
export function max_pool_grad(dy: usize, indices: usize, rows: i32, cols: i32, dx: usize): void {
  memory.fill(dx, 0, <usize>rows * <usize>cols << 2);
  for (let r = 0; r < rows; r++) {
    const at = load<i32>(indices + (<usize>r << 2));
    if (<u32>at < <u32>cols) store<f32>(dx + ((<usize>r * <usize>cols + <usize>at) << 2), load<f32>(dy + (<usize>r << 2)));
  }
}
