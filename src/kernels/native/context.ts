// What every native kernel wrapper shares: the addon, the heap it computes on (the wasm backend's
// memory), the kernels to fall through to (the wasm backend's, which fall back to the reference),
// and the per-call step that binds the process-wide addon to this heap and thread count.
import type { KernelSignatures } from '../contract.js';
import type { MemoryBuffer } from '../wasm/util.js';
import { bindHeap, bindThreads, type NativeAddon } from './addon.js';

export interface NativeContext {
  addon: NativeAddon;
  mem: MemoryBuffer;
  threads: number;
  /** The wasm backend's kernels on the same memory: where calls native does not take go. */
  fallback: Partial<KernelSignatures>;
  /** Take even the tiniest calls (tests), instead of leaving them to wasm. */
  tiny: boolean;
}

/** Binds the addon to this heap's current buffer and thread count; call after mem.holds(...) said yes. */
export function enter(ctx: NativeContext): void {
  bindHeap(ctx.addon, ctx.mem.get());
  bindThreads(ctx.addon, ctx.threads);
}

/** The fallback kernel `name` (the wasm backend has every kernel native wraps). */
export function fall<K extends keyof KernelSignatures>(ctx: NativeContext, name: K): KernelSignatures[K] {
  return ctx.fallback[name] as KernelSignatures[K];
}

/** A nullable array's byte address; -1 for null (the addon reads that as a null pointer). */
export const addr = (a: Float32Array | Int32Array | null): number => (a ? a.byteOffset : -1);
