// MatMul on the native packed GEMM (native/src/gemm.h): every transpose and batch stride maps to
// element strides, so no operand is copied; the addon cuts the product into tasks for its pool and
// adds a Linear's bias as the tiles finish.
import type { KernelSignatures } from '../contract.js';
import { gemmLayout } from '../wasm/matmul.js';
import { ptr } from '../wasm/util.js';
import { enter, fall, type NativeContext } from './context.js';

/** Below this many multiply-adds the call goes to wasm, whose crossing is cheaper than Node-API's. */
const MIN_WORK = 4096;
/**
 * Products of fewer rows than this (a decoding step's one query row: a matrix-vector product)
 * go to wasm below MAX_THIN_WORK multiply-adds: there the pool's wake-up and the Node-API crossing
 * cost more than the threads give. Since the native GEMV reads each thread's columns as one run
 * (gemm.h), that is only below 32 Ki: the baby GPT's greedy generation (products 128 × 384 and
 * 128 × 512 now native) 3121–3425 → 3436–4047 tokens/s, and its bias gradients (ones · dY,
 * 768 × 128) 28.5 → 14.4 µs, 8 a step (alternating builds, medians of 15; at 1 << 18 it had been
 * 880 tokens/s native vs 1720 wasm with the old GEMV).
 */
const THIN_ROWS = 8;
const MAX_THIN_WORK = 1 << 15;

export function matmulKernels(ctx: NativeContext): Pick<KernelSignatures, 'MatMul'> {
  const minWork = ctx.tiny ? 0 : MIN_WORK;
  const wasm = fall(ctx, 'MatMul');
  return {
    MatMul: (args) => {
      const { a, b, out, m, n, k, batch, bias } = args;
      const work = m * n * k * batch;
      const thin = !ctx.tiny && m * batch < THIN_ROWS && work < MAX_THIN_WORK;
      if (work < minWork || thin || !ctx.mem.holds(a, b, out) || (bias && !(bias.data instanceof Float32Array && ctx.mem.holds(bias.data)))) return wasm(args);
      enter(ctx);
      const l = gemmLayout(args);
      // the bias goes into the GEMM: each tile adds it as its sums become whole (gemm.h, addBias)
      ctx.addon.gemm(ptr(a as Float32Array, args.aOffset), l.aRs, l.aCs, args.aBatchStride, ptr(b as Float32Array, args.bOffset), l.bRs, l.bCs,
        args.bBatchStride, ptr(out), n, l.rows * n, l.batch, l.rows, n, k, bias ? ptr(bias.data as Float32Array, bias.offset) : -1);
    },
  };
}
