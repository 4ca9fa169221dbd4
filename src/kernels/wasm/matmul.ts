// MatMul on the wasm GEMM (asm/gemm.ts): a packed, blocked GEMM with a 4×8 f32x4 micro-kernel.
// Every transpose variant and batch stride maps to element strides, so no operand is copied.
import type { KernelSignatures } from '../contract.js';
import { matMul as refMatMul } from '../ref/matmul.js';
import type { WasmKernels } from './module.js';
import { ptr, type MemoryBuffer } from './util.js';

/** Below this many multiply-adds the reference's plain loop is as fast as the call into wasm (measured). */
const MIN_WORK = 64;

export function matmulKernels(w: WasmKernels, mem: MemoryBuffer, tiny: boolean): Pick<KernelSignatures, 'MatMul'> {
  const minWork = tiny ? 0 : MIN_WORK;
  return {
    MatMul: (args) => {
      const { a, b, out, batch, m, n, k, transA, transB } = args;
      if (m * n * k < minWork || !mem.holds(a, b, out)) return refMatMul(args);
      // op(A)(i, p) = a[i*aRs + p*aCs]; op(B)(p, j) = b[p*bRs + j*bCs]
      w.gemm(ptr(a as Float32Array, args.aOffset), transA ? 1 : k, transA ? m : 1, args.aBatchStride,
        ptr(b as Float32Array, args.bOffset), transB ? 1 : n, transB ? k : 1, args.bBatchStride,
        ptr(out), batch, m, n, k);
    },
  };
}
