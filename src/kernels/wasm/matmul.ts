// MatMul on the wasm GEMM (asm/gemm.ts): a packed, blocked GEMM with a 4×8 f32x4 micro-kernel.
// Every transpose variant and batch stride maps to element strides, so no operand is copied.
// With worker threads, a large product is cut into one block per thread: whole matrices of a
// batch, else bands of rows, else bands of columns; each thread packs into its own scratch and
// writes its own part of `out`, so results do not depend on the number of threads.
import type { KernelSignatures, MatMulArgs } from '../contract.js';
import { matMul as refMatMul } from '../ref/matmul.js';
import type { WasmKernels } from './module.js';
import type { ThreadPool } from './threads.js';
import { ptr, type MemoryBuffer } from './util.js';

/** Below this many multiply-adds the reference's plain loop is as fast as the call into wasm (measured). */
const MIN_WORK = 64;
/** Below this many multiply-adds one thread finishes before another would have started its part. */
const MIN_PARALLEL_WORK = 1 << 17;
const MR = 4;
const NR = 8;

/** One gemm call's arguments (see asm/index.ts gemm), the scratch last. */
export type GemmArgs = [a: number, aRs: number, aCs: number, aBatch: number, b: number, bRs: number, bCs: number, bBatch: number,
  out: number, ldc: number, cBatch: number, batch: number, m: number, n: number, k: number, scratch: number];

/** Cuts `total` into at most `parts` bands whose sizes are multiples of `step`: [start, size] pairs. */
function bands(total: number, parts: number, step: number): [number, number][] {
  const size = Math.ceil(total / parts / step) * step;
  const out: [number, number][] = [];
  for (let s = 0; s < total; s += size) out.push([s, Math.min(size, total - s)]);
  return out;
}

/** The parts of one product for `threads` threads (scratch filled in by the caller). */
export function splitGemm(g: GemmArgs, threads: number): GemmArgs[] {
  const [a, aRs, aCs, aBatch, b, bRs, bCs, bBatch, out, ldc, cBatch, batch, m, n, k, scratch] = g;
  if (batch >= threads && (batch % threads === 0 || batch >= 4 * threads)) {
    return bands(batch, threads, 1).map(([t0, bt]) =>
      [a + 4 * t0 * aBatch, aRs, aCs, aBatch, b + 4 * t0 * bBatch, bRs, bCs, bBatch, out + 4 * t0 * cBatch, ldc, cBatch, bt, m, n, k, scratch]);
  }
  if (m >= n) {
    return bands(m, threads, MR).map(([i0, mi]) =>
      [a + 4 * i0 * aRs, aRs, aCs, aBatch, b, bRs, bCs, bBatch, out + 4 * i0 * ldc, ldc, cBatch, batch, mi, n, k, scratch]);
  }
  return bands(n, threads, NR).map(([j0, nj]) =>
    [a, aRs, aCs, aBatch, b + 4 * j0 * bCs, bRs, bCs, bBatch, out + 4 * j0, ldc, cBatch, batch, m, nj, k, scratch]);
}

/**
 * A MatMul as element strides: op(A)(i, p) = a[i*aRs + p*aCs], op(B)(p, j) = b[p*bRs + j*bCs];
 * when B is shared by the batch and A's matrices are stacked, one product of batch*m rows
 * (bigger tiles, splits better). Shared by the wasm and native GEMM wrappers.
 */
export function gemmLayout(args: MatMulArgs): { aRs: number; aCs: number; bRs: number; bCs: number; rows: number; batch: number } {
  const { m, n, k, transA, transB, batch } = args;
  const aRs = transA ? 1 : k;
  const aCs = transA ? m : 1;
  const [bRs, bCs] = transB ? [1, k] : [n, 1];
  if (batch > 1 && args.bBatchStride === 0 && aCs === 1 && args.aBatchStride === m * aRs) return { aRs, aCs, bRs, bCs, rows: m * batch, batch: 1 };
  return { aRs, aCs, bRs, bCs, rows: m, batch };
}

/**
 * Runs one gemm call (scratch ignored) on the calling thread, or cut across the pool's threads
 * when the product is large enough to pay for the hand-off. Used by MatMul and by Conv1d's GEMMs.
 */
export type GemmRunner = (g: GemmArgs) => void;

export function gemmRunner(w: WasmKernels, pool: ThreadPool | null, tiny: boolean): GemmRunner {
  const minParallel = tiny ? 0 : MIN_PARALLEL_WORK;
  const mainScratch = w.main_scratch();
  const local = w.gemm as (...args: number[]) => void;
  return (g) => {
    const [, , , , , , , , , , , batch, rows, n, k] = g;
    g[15] = mainScratch;
    const threads = pool && batch * rows * n * k >= minParallel ? pool.available() : 1;
    if (threads === 1) {
      local(...g);
      return;
    }
    const parts = splitGemm(g, threads);
    parts.forEach((p, t) => { p[15] = pool!.scratch(t); });
    pool!.run('gemm', parts, local);
  };
}

export function matmulKernels(mem: MemoryBuffer, tiny: boolean, gemm: GemmRunner): Pick<KernelSignatures, 'MatMul'> {
  const minWork = tiny ? 0 : MIN_WORK;
  return {
    MatMul: (args) => {
      const { a, b, out, m, n, k } = args;
      if (m * n * k < minWork || !mem.holds(a, b, out)) return refMatMul(args);
      const { aRs, aCs, bRs, bCs, rows, batch } = gemmLayout(args);
      gemm([ptr(a as Float32Array, args.aOffset), aRs, aCs, args.aBatchStride,
        ptr(b as Float32Array, args.bOffset), bRs, bCs, args.bBatchStride,
        ptr(out), n, rows * n, batch, rows, n, k, 0]);
    },
  };
}
