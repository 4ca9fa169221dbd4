// AdamW on wasm, in place over the parameter, its gradient and both moment buffers; dropout's
// dropout with its counter-based mask (the same bits as the reference).
import type { KernelSignatures } from '../contract.js';
import { dropout as refDropout } from '../ref/dropout.js';
import { adamW as refAdamW } from '../ref/optim.js';
import type { WasmKernels } from './module.js';
import { ptr, type MemoryBuffer } from './util.js';

export function optimKernels(w: WasmKernels, mem: MemoryBuffer): Pick<KernelSignatures, 'AdamW' | 'Dropout'> {
  return {
    AdamW: (p, g, m, v, a) => {
      if (!mem.holds(p, g, m, v)) return refAdamW(p, g, m, v, a);
      // the bias corrections in float64, as the reference; the per-element update in float32
      const c1 = 1 - a.beta1 ** a.step;
      const c2 = 1 - a.beta2 ** a.step;
      w.adamw(ptr(p), ptr(g), ptr(m), ptr(v), p.length, a.beta1, 1 - a.beta1, a.beta2, 1 - a.beta2, 1 - a.lr * a.weightDecay,
        a.lr / c1, Math.sqrt(c2), a.eps);
    },
    Dropout: (x, out, a) => {
      if (!mem.holds(x, out)) return refDropout(x, out, a);
      w.dropout(ptr(x), ptr(out), 0, out.length, a.key0, a.key1, a.threshold, a.scale);
    },
  };
}
