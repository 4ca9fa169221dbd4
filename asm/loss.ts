// Log-softmax and softmax cross-entropy over rows of a contiguous [rows, cols] float32 array,
// and their gradients, as the reference kernels (src/kernels/ref/softmax.ts, crossentropy.ts).
// Exponentials and sums run in four float32 lanes; each row's log-sum-exp and loss are
// finished in float64 (the reference computes everything in float64).
import { expv, hsum, splat } from './simd';
import { rowMax } from './reduce';

/** Σ_c exp(x[c] - m) over a row, four float32 lanes. */
// @ts-ignore: decorator
@inline function sumExp(x: usize, cols: i32, m: f32): f32 {
  const mv = splat(m);
  let sv = splat(0);
  let c = 0;
  for (; c + 4 <= cols; c += 4) sv = f32x4.add(sv, expv(f32x4.sub(v128.load(x + (<usize>c << 2)), mv)));
  let s = hsum(sv);
  for (; c < cols; c++) s += f32x4.extract_lane(expv(splat(load<f32>(x + (<usize>c << 2)) - m)), 0);
  return s;
}

/** x - lse for four values, the subtraction in float64 (as the reference), rounded once. */
// @ts-ignore: decorator
@inline function minusLse(v: v128, l: v128): v128 {
  const lo = f32x4.demote_f64x2_zero(f64x2.sub(f64x2.promote_low_f32x4(v), l));
  const hi = f32x4.demote_f64x2_zero(f64x2.sub(f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1)), l));
  return v128.shuffle<f32>(lo, hi, 0, 1, 4, 5);
}

/** out = x - (m + log Σ exp(x - m)) per row (an all -Infinity row gives NaN, as the reference). */
export function log_softmax(x: usize, out: usize, rows: i32, cols: i32): void {
  const rowBytes = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>r * rowBytes;
    const yr = out + <usize>r * rowBytes;
    const m = rowMax(xr, cols);
    const lse = <f64>m + Math.log(<f64>sumExp(xr, cols, m));
    const l = f64x2.splat(lse);
    let c = 0;
    for (; c + 4 <= cols; c += 4) {
      const o = <usize>c << 2;
      v128.store(yr + o, minusLse(v128.load(xr + o), l));
    }
    for (; c < cols; c++) {
      const o = <usize>c << 2;
      store<f32>(yr + o, <f32>(<f64>load<f32>(xr + o) - lse));
    }
  }
}

/** dx = dy - exp(y) Σ dy per row, for y = logSoftmax(x). */
export function log_softmax_grad(y: usize, dy: usize, dx: usize, rows: i32, cols: i32): void {
  const rowBytes = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const base = <usize>r * rowBytes;
    let sv = splat(0);
    let c = 0;
    for (; c + 4 <= cols; c += 4) sv = f32x4.add(sv, v128.load(dy + base + (<usize>c << 2)));
    let s = hsum(sv);
    for (; c < cols; c++) s += load<f32>(dy + base + (<usize>c << 2));
    const ss = splat(s);
    c = 0;
    for (; c + 4 <= cols; c += 4) {
      const o = base + (<usize>c << 2);
      v128.store(dx + o, f32x4.sub(v128.load(dy + o), f32x4.mul(expv(v128.load(y + o)), ss)));
    }
    for (; c < cols; c++) {
      const o = base + (<usize>c << 2);
      store<f32>(dx + o, load<f32>(dy + o) - f32x4.extract_lane(expv(splat(load<f32>(y + o))), 0) * s);
    }
  }
}

/**
 * Per-row loss -Σ_c q_c log softmax(x)_c with q = (1-ε)·onehot(t) + ε/C, 0 where t = ignoreIndex;
 * writes the row's log-sum-exp to lse. Targets other than ignoreIndex must be in [0, C).
 */
export function cross_entropy(logits: usize, targets: usize, rows: i32, classes: i32, ignoreIndex: i32, smoothing: f64,
  loss: usize, lse: usize): void {
  const rowBytes = <usize>classes << 2;
  for (let r = 0; r < rows; r++) {
    const xr = logits + <usize>r * rowBytes;
    const m = rowMax(xr, classes);
    const mv = splat(m);
    let ev = splat(0);
    let xv = splat(0);
    let c = 0;
    for (; c + 4 <= classes; c += 4) {
      const v = v128.load(xr + (<usize>c << 2));
      ev = f32x4.add(ev, expv(f32x4.sub(v, mv)));
      xv = f32x4.add(xv, v);
    }
    let s = hsum(ev);
    let sumLogits = hsum(xv);
    for (; c < classes; c++) {
      const v = load<f32>(xr + (<usize>c << 2));
      s += f32x4.extract_lane(expv(splat(v - m)), 0);
      sumLogits += v;
    }
    const l = <f64>m + Math.log(<f64>s);
    store<f32>(lse + (<usize>r << 2), <f32>l);
    const t = load<i32>(targets + (<usize>r << 2));
    if (t == ignoreIndex) {
      store<f32>(loss + (<usize>r << 2), 0);
      continue;
    }
    const nll = l - <f64>load<f32>(xr + (<usize>t << 2));
    const smooth = l - <f64>sumLogits / <f64>classes;
    store<f32>(loss + (<usize>r << 2), <f32>((1 - smoothing) * nll + smoothing * smooth));
  }
}

/** dlogits = dloss_r (softmax(x) - q) per row; 0 on ignored rows. */
export function cross_entropy_grad(logits: usize, targets: usize, lse: usize, dloss: usize, rows: i32, classes: i32,
  ignoreIndex: i32, smoothing: f64, dlogits: usize): void {
  const rowBytes = <usize>classes << 2;
  const qOff = <f32>(smoothing / <f64>classes);
  const qHit = <f32>((1 - smoothing) + smoothing / <f64>classes);
  const qv = splat(qOff);
  for (let r = 0; r < rows; r++) {
    const xr = logits + <usize>r * rowBytes;
    const dr = dlogits + <usize>r * rowBytes;
    const t = load<i32>(targets + (<usize>r << 2));
    if (t == ignoreIndex) {
      memory.fill(dr, 0, rowBytes);
      continue;
    }
    const g = load<f32>(dloss + (<usize>r << 2));
    const l = load<f32>(lse + (<usize>r << 2));
    const gv = splat(g);
    const lv = splat(l);
    let c = 0;
    for (; c + 4 <= classes; c += 4) {
      const o = <usize>c << 2;
      v128.store(dr + o, f32x4.mul(gv, f32x4.sub(expv(f32x4.sub(v128.load(xr + o), lv)), qv)));
    }
    for (; c < classes; c++) {
      const o = <usize>c << 2;
      store<f32>(dr + o, g * (f32x4.extract_lane(expv(splat(load<f32>(xr + o) - l)), 0) - qOff));
    }
    const o = <usize>t << 2;
    store<f32>(dr + o, g * (f32x4.extract_lane(expv(splat(load<f32>(xr + o) - l)), 0) - qHit));
  }
}
