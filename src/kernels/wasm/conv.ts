// Conv1d and its two gradients on wasm, as GEMMs on the wasm GEMM (native/src/conv.h does the same
// in C++). With col [(b, t), (ci, k)] the column matrix (asm/conv.ts im2col) and yT [(b, t), co]:
//   forward      yT[:, g] = col[:, g] · w[g]ᵀ, then y = yT transposed per batch row
//   grad-weight  dw[g] = dyT[:, g]ᵀ · col[:, g]
//   grad-input   dcol[:, g] = dyT[:, g] · w[g], then col2im scatters dcol back into dx
// (g: the group's band of channels). The products run on the pool's threads like MatMul's; the
// moves on the calling thread. Before these, the reference ran every convolution: 60% of the word
// tagger's training step on wasm (the char CNN, bench --profile train --workloads tagger).
import type { Conv1dArgs, KernelSignatures } from '../contract.js';
import { conv1d as refConv1d, conv1dGradInput as refGradInput, conv1dGradWeight as refGradWeight } from '../ref/conv1d.js';
import type { HeapAllocator } from './heap.js';
import type { GemmRunner } from './matmul.js';
import type { WasmKernels } from './module.js';
import { ptr, type MemoryBuffer } from './util.js';

type Names = 'Conv1d' | 'Conv1dGradInput' | 'Conv1dGradWeight';

/** Below this many multiply-adds the reference's loops are as fast as the moves and the GEMM. */
const MIN_WORK = 4096;

export function convKernels(w: WasmKernels, mem: MemoryBuffer, allocator: HeapAllocator, gemm: GemmRunner, tiny: boolean): Pick<KernelSignatures, Names> {
  const minWork = tiny ? 0 : MIN_WORK;
  const work = (a: Conv1dArgs) => a.batch * a.outLength * a.cout * (a.cin / a.groups) * a.kernel;
  /** The GEMMs' sizes: rows (b, t) of col and yT, each group's channels, col's row length. */
  const dims = (a: Conv1dArgs) => ({ rows: a.batch * a.outLength, cinG: a.cin / a.groups, coutG: a.cout / a.groups, cols: a.cin * a.kernel });
  const shape = (a: Conv1dArgs) => [a.batch, a.cin, a.length, a.kernel, a.outLength, a.stride, a.padLeft, a.dilation] as const;
  /** Runs `fn` with the addresses of fresh heap blocks of these many floats, freed after. */
  const withScratch = (lengths: number[], fn: (...addresses: number[]) => void) => {
    const blocks = lengths.map((n) => allocator.allocate('float32', Math.max(1, n)));
    try {
      fn(...blocks.map((b) => b.view().byteOffset));
    } finally {
      for (const b of blocks) b.free();
    }
  };
  return {
    Conv1d: (x, wt, a, out) => {
      if (work(a) < minWork || !mem.holds(x, wt, out)) return refConv1d(x, wt, a, out);
      const [px, pw, py] = [ptr(x), ptr(wt), ptr(out)]; // addresses first: allocating may grow the memory
      const { rows, cinG, coutG, cols } = dims(a);
      withScratch([rows * cols, rows * a.cout], (col, yT) => {
        w.im2col(px, col, ...shape(a));
        for (let g = 0; g < a.groups; g++) {
          // yT[:, g] (rows × coutG, row stride cout) = col[:, g] (rows × cinG·K) · w[g]ᵀ (w[g]: coutG × cinG·K)
          gemm([col + 4 * g * cinG * a.kernel, cols, 1, 0, pw + 4 * g * coutG * cinG * a.kernel, 1, cinG * a.kernel, 0,
            yT + 4 * g * coutG, a.cout, 0, 1, rows, coutG, cinG * a.kernel, 0]);
        }
        w.transpose_batched(yT, py, a.batch, a.outLength, a.cout); // [b, t, co] -> [b, co, t]
      });
    },
    Conv1dGradWeight: (dy, x, a, dw) => {
      if (work(a) < minWork || !mem.holds(dy, x, dw)) return refGradWeight(dy, x, a, dw);
      const [pdy, px, pdw] = [ptr(dy), ptr(x), ptr(dw)];
      const { rows, cinG, coutG, cols } = dims(a);
      withScratch([rows * cols, rows * a.cout], (col, dyT) => {
        w.im2col(px, col, ...shape(a));
        w.transpose_batched(pdy, dyT, a.batch, a.cout, a.outLength); // [b, co, t] -> [b, t, co]
        for (let g = 0; g < a.groups; g++) {
          // dw[g] (coutG × cinG·K) = dyT[:, g]ᵀ (coutG × rows) · col[:, g] (rows × cinG·K)
          gemm([dyT + 4 * g * coutG, 1, a.cout, 0, col + 4 * g * cinG * a.kernel, cols, 1, 0,
            pdw + 4 * g * coutG * cinG * a.kernel, cinG * a.kernel, 0, 1, coutG, cinG * a.kernel, rows, 0]);
        }
      });
    },
    Conv1dGradInput: (dy, wt, a, dx) => {
      if (work(a) < minWork || !mem.holds(dy, wt, dx)) return refGradInput(dy, wt, a, dx);
      const [pdy, pw, pdx] = [ptr(dy), ptr(wt), ptr(dx)];
      const { rows, cinG, coutG, cols } = dims(a);
      withScratch([rows * cols, rows * a.cout], (dcol, dyT) => {
        w.transpose_batched(pdy, dyT, a.batch, a.cout, a.outLength);
        for (let g = 0; g < a.groups; g++) {
          // dcol[:, g] (rows × cinG·K, row stride cin·K) = dyT[:, g] (rows × coutG) · w[g] (coutG × cinG·K)
          gemm([dyT + 4 * g * coutG, a.cout, 1, 0, pw + 4 * g * coutG * cinG * a.kernel, cinG * a.kernel, 1, 0,
            dcol + 4 * g * cinG * a.kernel, cols, 0, 1, rows, cinG * a.kernel, coutG, 0]);
        }
        w.col2im(dcol, pdx, ...shape(a));
      });
    },
  };
}
