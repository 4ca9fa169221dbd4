// Row kernels on wasm: Softmax, SoftmaxGrad, LayerNorm, LayerNormGrad over contiguous [rows, cols]
// float32 arrays in the module's memory (else the reference kernel).
import type { KernelSignatures } from '../contract.js';
import { layerNorm as refLayerNorm, layerNormGrad as refLayerNormGrad } from '../ref/layernorm.js';
import { softmax as refSoftmax, softmaxGrad as refSoftmaxGrad } from '../ref/softmax.js';
import type { WasmKernels } from './module.js';
import { ptr, type MemoryBuffer } from './util.js';

/** A nullable array's address; 0 (never a tensor's address: it is in the reserved region) for null. */
const opt = (a: Float32Array | null): number => (a ? ptr(a) : 0);

export function rowKernels(w: WasmKernels, mem: MemoryBuffer): Pick<KernelSignatures, 'Softmax' | 'SoftmaxGrad' | 'LayerNorm' | 'LayerNormGrad'> {
  return {
    Softmax: (x, rows, cols, out) => {
      if (!mem.holds(x, out)) return refSoftmax(x, rows, cols, out);
      w.softmax(ptr(x), ptr(out), rows, cols);
    },
    SoftmaxGrad: (y, dy, rows, cols, dx) => {
      if (!mem.holds(y, dy, dx)) return refSoftmaxGrad(y, dy, rows, cols, dx);
      w.softmax_grad(ptr(y), ptr(dy), ptr(dx), rows, cols);
    },
    LayerNorm: (x, gamma, beta, rows, cols, eps, y, mean, rstd) => {
      if (!mem.holds(x, gamma, beta, y, mean, rstd)) return refLayerNorm(x, gamma, beta, rows, cols, eps, y, mean, rstd);
      w.layernorm(ptr(x), opt(gamma), opt(beta), rows, cols, eps, ptr(y), ptr(mean), ptr(rstd));
    },
    LayerNormGrad: (x, gamma, mean, rstd, dy, rows, cols, dx, dgamma, dbeta) => {
      if (!mem.holds(x, gamma, mean, rstd, dy, dx, dgamma, dbeta)) {
        return refLayerNormGrad(x, gamma, mean, rstd, dy, rows, cols, dx, dgamma, dbeta);
      }
      w.layernorm_grad(ptr(x), opt(gamma), ptr(mean), ptr(rstd), ptr(dy), rows, cols, ptr(dx), opt(dgamma), opt(dbeta));
    },
  };
}
