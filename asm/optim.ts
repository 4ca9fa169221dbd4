// Optimizer updates, in place over a parameter's buffer and its state.
import { madd, splat } from './simd';

/**
 * AdamW (PyTorch): m = β1 m + (1-β1) g, v = β2 v + (1-β2) g², p = p*decay - stepSize * m / (sqrt(v)/sqrtC2 + eps),
 * all in place. 1-β1 and 1-β2 come from the caller, computed in float64: in float32, 1 - 0.999f is
 * 1.3e-5 away from 0.001.
 */
export function adamw(p: usize, g: usize, m: usize, v: usize, n: i32, beta1: f32, oneMinusBeta1: f32, beta2: f32,
  oneMinusBeta2: f32, decay: f32, stepSize: f32, sqrtC2: f32, eps: f32): void {
  const b1 = splat(beta1);
  const b1c = splat(oneMinusBeta1);
  const b2 = splat(beta2);
  const b2c = splat(oneMinusBeta2);
  const dec = splat(decay);
  const st = splat(stepSize);
  const invC2 = splat(<f32>1 / sqrtC2);
  const ep = splat(eps);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const gi = v128.load(g + o);
    const mi = madd(b1, v128.load(m + o), f32x4.mul(b1c, gi));
    const vi = madd(b2, v128.load(v + o), f32x4.mul(f32x4.mul(b2c, gi), gi));
    v128.store(m + o, mi);
    v128.store(v + o, vi);
    const den = madd(f32x4.sqrt(vi), invC2, ep);
    v128.store(p + o, f32x4.sub(f32x4.mul(v128.load(p + o), dec), f32x4.div(f32x4.mul(st, mi), den)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const gi = load<f32>(g + o);
    const mi = beta1 * load<f32>(m + o) + oneMinusBeta1 * gi;
    const vi = beta2 * load<f32>(v + o) + oneMinusBeta2 * gi * gi;
    store<f32>(m + o, mi);
    store<f32>(v + o, vi);
    store<f32>(p + o, load<f32>(p + o) * decay - (stepSize * mi) / (Mathf.sqrt(vi) / sqrtC2 + eps));
  }
}
