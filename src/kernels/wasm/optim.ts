// AdamW on wasm, in place over the parameter, its gradient and both moment buffers.
import type { KernelSignatures } from '../contract.js';
import { adamW as refAdamW } from '../ref/optim.js';
import type { WasmKernels } from './module.js';
import { ptr, type MemoryBuffer } from './util.js';

export function optimKernels(w: WasmKernels, mem: MemoryBuffer): Pick<KernelSignatures, 'AdamW'> {
  return {
    AdamW: (p, g, m, v, a) => {
      if (!mem.holds(p, g, m, v)) return refAdamW(p, g, m, v, a);
      // the bias corrections in float64, as the reference; the per-element update in float32
      const c1 = 1 - a.beta1 ** a.step;
      const c2 = 1 - a.beta2 ** a.step;
      w.adamw(ptr(p), ptr(g), ptr(m), ptr(v), p.length, a.beta1, 1 - a.beta1, a.beta2, 1 - a.beta2, 1 - a.lr * a.weightDecay,
        a.lr / c1, Math.sqrt(c2), a.eps);
    },
  };
}
