// Sum and Max of each row of a contiguous [rows, cols] float32 array on wasm (asm/reduce.ts), and
// the max-pool over each row (values and indices) with its gradient; int32 arrays, arrays outside
// the module's memory and tiny calls go to the reference.
import type { KernelSignatures, ReduceKernel } from '../contract.js';
import { maxPool as refMaxPool, maxPoolGrad as refMaxPoolGrad } from '../ref/max-pool.js';
import { max as refMax, sum as refSum } from '../ref/reduce.js';
import type { WasmKernels } from './module.js';
import { ptr, type MemoryBuffer } from './util.js';

/** Below this many elements the reference's loop is as fast as the call into wasm. */
const MIN_ELEMENTS = 16;

function rows(mem: MemoryBuffer, min: number, ref: ReduceKernel, f: (x: number, rows: number, cols: number, out: number) => void): ReduceKernel {
  return (x, r, c, out) => {
    if (r * c < min || !mem.holds(x, out) || x.length < r * c || out.length < r) return ref(x, r, c, out);
    f(ptr(x as Float32Array), r, c, ptr(out as Float32Array));
  };
}

export function reduceKernels(w: WasmKernels, mem: MemoryBuffer, tiny: boolean): Pick<KernelSignatures, 'Sum' | 'Max' | 'MaxPool' | 'MaxPoolGrad'> {
  const min = tiny ? 0 : MIN_ELEMENTS;
  return {
    Sum: rows(mem, min, refSum, w.sum_rows),
    Max: rows(mem, min, refMax, w.max_rows),
    MaxPool: (x, r, c, values, indices) => {
      if (r * c < min || c < 1 || !mem.holds(x, values) || !mem.holdsInt32(indices) || x.length < r * c || values.length < r || indices.length < r) {
        return refMaxPool(x, r, c, values, indices);
      }
      w.max_pool(ptr(x), r, c, ptr(values), ptr(indices));
    },
    // the kernel checks each index itself (a JS loop over them cost more than the kernel)
    MaxPoolGrad: (dy, indices, r, c, dx) => {
      if (r * c < min || !mem.holds(dy, dx) || !mem.holdsInt32(indices) || dy.length < r || indices.length < r || dx.length < r * c) {
        return refMaxPoolGrad(dy, indices, r, c, dx);
      }
      w.max_pool_grad(ptr(dy), ptr(indices), r, c, ptr(dx));
    },
  };
}
