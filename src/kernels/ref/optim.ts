// Optimizer updates, written in place into the parameter and its state buffers.
import type { AdamWArgs, SgdArgs } from '../contract.js';

export function adamW(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, a: AdamWArgs): void {
  const c1 = 1 - a.beta1 ** a.step;
  const c2 = 1 - a.beta2 ** a.step;
  const decay = 1 - a.lr * a.weightDecay;
  const stepSize = a.lr / c1;
  const sqrtC2 = Math.sqrt(c2);
  for (let i = 0; i < p.length; i++) {
    const gi = g[i]!;
    const mi = (m[i] = a.beta1 * m[i]! + (1 - a.beta1) * gi);
    const vi = (v[i] = a.beta2 * v[i]! + (1 - a.beta2) * gi * gi);
    p[i] = p[i]! * decay - (stepSize * mi) / (Math.sqrt(vi) / sqrtC2 + a.eps);
  }
}

export function sgd(p: Float32Array, g: Float32Array, buf: Float32Array | null, a: SgdArgs): void {
  for (let i = 0; i < p.length; i++) {
    let d = g[i]! + a.weightDecay * p[i]!;
    if (buf) {
      const b = (buf[i] = a.first ? d : a.momentum * buf[i]! + (1 - a.dampening) * d);
      d = a.nesterov ? d + a.momentum * b : b;
    }
    p[i] = p[i]! - a.lr * d;
  }
}
