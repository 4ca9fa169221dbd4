// FlashAttention on wasm (asm/attention.ts): forward and backward over the slices bh0..bh1,
// with key blocks of 16 for short sequences (causal masks then skip most hidden keys) and 64
// (forward) or 32 (backward) for long ones (less online-softmax bookkeeping; measured),
// split across threads by slices, each thread with its own scratch (Kᵀ, Vᵀ and a few tiles:
// O(s) bytes, allocated per call from the backend's heap and freed after). Attention dropout's key
// block (16 bytes: key0, key1, threshold, scale) goes ahead of the scratch; the kernels get its
// address as their last argument (0: no dropout), which keeps the backward within a thread slot's arguments.
import type { FlashAttentionArgs, KernelSignatures } from '../contract.js';
import type { HeapAllocator } from './heap.js';
import { checkArgs, flashAttention as refFlash, flashAttentionGrad as refFlashGrad } from '../ref/flash-attention.js';
import type { WasmKernels } from './module.js';
import type { ThreadExport, ThreadPool } from './threads.js';
import { ptr, type MemoryBuffer } from './util.js';

/** Runs `fn` over slices a.bh0..a.bh1, in bands across the threads; `args(bh0, bh1, scratch)` gives one call's arguments (the dropout block's address is appended). */
function overSlices(w: WasmKernels, allocator: HeapAllocator, pool: ThreadPool | null, fn: ThreadExport, a: FlashAttentionArgs,
  args: (bh0: number, bh1: number, scratch: number) => number[]): void {
  const slices = a.bh1 - a.bh0;
  if (slices <= 0) return;
  const work = slices * a.n * a.s * (a.d + a.dv);
  const threads = pool && slices > 1 && work >= 1 << 16 ? Math.min(pool.available(), slices) : 1;
  const bytes = Math.ceil(w.flash_scratch_bytes(a.n, a.s, a.d, a.dv) / 64) * 64;
  const scratch = allocator.allocate('float32', (64 + bytes * threads) / 4);
  try {
    const view = scratch.view();
    const base = view.byteOffset + 64;
    let drop = 0;
    if (a.dropout) {
      const words = new Uint32Array(view.buffer, view.byteOffset, 4);
      words[0] = a.dropout.key0;
      words[1] = a.dropout.key1;
      words[2] = a.dropout.threshold;
      new Float32Array(view.buffer, view.byteOffset + 12, 1)[0] = a.dropout.scale;
      drop = view.byteOffset;
    }
    const local = w[fn] as (...x: number[]) => void;
    if (threads === 1) {
      local(...args(a.bh0, a.bh1, base), drop);
      return;
    }
    const per = Math.ceil(slices / threads);
    const parts: number[][] = [];
    for (let t = 0, b = a.bh0; b < a.bh1; t++, b += per) parts.push([...args(b, Math.min(a.bh1, b + per), base + t * bytes), drop]);
    pool!.run(fn, parts, local);
  } finally {
    scratch.free();
  }
}

export function attentionKernels(w: WasmKernels, mem: MemoryBuffer, allocator: HeapAllocator, pool: ThreadPool | null): Pick<KernelSignatures, 'FlashAttention' | 'FlashAttentionGrad'> {
  return {
    FlashAttention: (q, k, v, keyPadding, a, out, lse) => {
      checkArgs('FlashAttention', a);
      if (!mem.holds(q, k, v, out, lse) || (keyPadding && !mem.holdsInt(keyPadding))) return refFlash(q, k, v, keyPadding, a, out, lse);
      // addresses first: allocating the scratch may grow (and detach) the memory
      const p = [ptr(q), ptr(k), ptr(v), keyPadding ? keyPadding.byteOffset : 0];
      const o = [ptr(out), ptr(lse)];
      const kb = a.s <= 128 ? 16 : 64;
      overSlices(w, allocator, pool, 'flash_forward', a, (bh0, bh1, scratch) =>
        [...p, a.heads, a.n, a.s, a.d, a.dv, a.scale, a.causal ? 1 : 0, a.window, kb, bh0, bh1, ...o, scratch]);
    },
    FlashAttentionGrad: (q, k, v, keyPadding, out, lse, dOut, a, dq, dk, dv) => {
      checkArgs('FlashAttentionGrad', a);
      if (!mem.holds(q, k, v, out, lse, dOut, dq, dk, dv) || (keyPadding && !mem.holdsInt(keyPadding))) {
        return refFlashGrad(q, k, v, keyPadding, out, lse, dOut, a, dq, dk, dv);
      }
      const p = [ptr(q), ptr(k), ptr(v), keyPadding ? keyPadding.byteOffset : 0, ptr(out), ptr(lse), ptr(dOut)];
      const o = [ptr(dq), ptr(dk), ptr(dv)];
      const kb = a.s <= 128 ? 16 : 32;
      overSlices(w, allocator, pool, 'flash_backward', a, (bh0, bh1, scratch) =>
        [...p, a.heads, a.n, a.s, a.d, a.dv, a.scale, a.causal ? 1 : 0, a.window, kb, bh0, bh1, ...o, scratch]);
    },
  };
}
