// AdamW on native, in place over the parameter, its gradient and both moment buffers; dropout's
// dropout with its counter-based mask (the same bits as the reference, in pieces on the pool).
import type { KernelSignatures } from '../contract.js';
import { ptr } from '../wasm/util.js';
import { enter, fall, type NativeContext } from './context.js';

export function optimKernels(ctx: NativeContext): Pick<KernelSignatures, 'AdamW' | 'Dropout'> {
  const wasm = fall(ctx, 'AdamW');
  const wasmDropout = fall(ctx, 'Dropout');
  return {
    AdamW: (p, g, m, v, a) => {
      if (!ctx.mem.holds(p, g, m, v)) return wasm(p, g, m, v, a);
      enter(ctx);
      // the bias corrections in float64, as the reference and wasm; the per-element update in float32
      const c1 = 1 - a.beta1 ** a.step;
      const c2 = 1 - a.beta2 ** a.step;
      ctx.addon.adamw(ptr(p), ptr(g), ptr(m), ptr(v), p.length, a.beta1, 1 - a.beta1, a.beta2, 1 - a.beta2,
        1 - a.lr * a.weightDecay, a.lr / c1, Math.sqrt(c2), a.eps);
    },
    Dropout: (x, out, a) => {
      if (!ctx.mem.holds(x, out)) return wasmDropout(x, out, a);
      enter(ctx);
      ctx.addon.dropout(ptr(x), ptr(out), out.length, a.key0, a.key1, a.threshold, a.scale);
    },
  };
}
