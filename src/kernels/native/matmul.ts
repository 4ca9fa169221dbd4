// MatMul on the native packed GEMM (native/src/gemm.h): every transpose and batch stride maps to
// element strides, so no operand is copied; the addon cuts the product into tasks for its pool.
import type { KernelSignatures } from '../contract.js';
import { ptr } from '../wasm/util.js';
import { enter, fall, type NativeContext } from './context.js';

/** Below this many multiply-adds the call goes to wasm, whose crossing is cheaper than Node-API's. */
const MIN_WORK = 4096;

export function matmulKernels(ctx: NativeContext): Pick<KernelSignatures, 'MatMul'> {
  const minWork = ctx.tiny ? 0 : MIN_WORK;
  const wasm = fall(ctx, 'MatMul');
  return {
    MatMul: (args) => {
      const { a, b, out, m, n, k, transA, transB } = args;
      let { batch } = args;
      if (m * n * k * batch < minWork || !ctx.mem.holds(a, b, out)) return wasm(args);
      enter(ctx);
      // op(A)(i, p) = a[i*aRs + p*aCs]; op(B)(p, j) = b[p*bRs + j*bCs]
      const aRs = transA ? 1 : k;
      const aCs = transA ? m : 1;
      let rows = m;
      // B shared by the batch and A's matrices stacked: one product with batch*m rows (bigger tiles)
      if (batch > 1 && args.bBatchStride === 0 && aCs === 1 && args.aBatchStride === m * aRs) {
        rows = m * batch;
        batch = 1;
      }
      ctx.addon.gemm(ptr(a as Float32Array, args.aOffset), aRs, aCs, args.aBatchStride,
        ptr(b as Float32Array, args.bOffset), transB ? 1 : n, transB ? k : 1, args.bBatchStride,
        ptr(out), n, rows * n, batch, rows, n, k);
    },
  };
}
