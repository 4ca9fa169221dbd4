// The native backend (Node only): C++ kernels (native/, a Node-API addon built at install)
// computing in place on the wasm backend's heap, with runtime ISA dispatch (AVX-512, AVX2+FMA,
// generic) and a native thread pool. It is the wasm backend with the hot kernels swapped: same
// allocator and memory, so switching copies nothing and every kernel native lacks (or a call too
// small to be worth crossing into C++) runs the wasm kernel on the same memory.
import { availableParallelism } from 'node:os';
import { QkvError } from '../../core/errors.js';
import type { Backend, KernelSignatures } from '../contract.js';
import { createWasmBackendSync } from '../wasm/node.js';
import type { WasmBackend, WasmBackendOptions } from '../wasm/index.js';
import { MemoryBuffer } from '../wasm/util.js';
import { bindHeap, bindThreads, loadAddon, type NativeAddon } from './addon.js';
import { attentionKernels } from './attention.js';
import { convKernels } from './conv.js';
import { copyKernels } from './copy.js';
import type { NativeContext } from './context.js';
import { elementwiseKernels } from './elementwise.js';
import { lossKernels } from './losses.js';
import { matmulKernels } from './matmul.js';
import { maxPoolKernels } from './max-pool.js';
import { optimKernels } from './optim.js';
import { rowKernels } from './rows.js';

export { loadAddon, type NativeAddon } from './addon.js';

export interface NativeBackend extends Backend {
  /** The instruction set the kernels run: 'avx512', 'avx2' or 'generic' (describeBackend shows it). */
  readonly variant: string;
  readonly threads: number;
  readonly memory: WebAssembly.Memory;
  /** The wasm backend underneath (its allocator and memory are this backend's). */
  readonly wasm: WasmBackend;
  /**
   * The vector FMA peak of these threads on the ISA in use, GFLOP/s, measured by register-only
   * multiply-add chains for about `ms` (default 200): what the bench divides a GEMM's GFLOP/s by.
   */
  fmaPeak(ms?: number): number;
  dispose(): void;
}

export interface NativeBackendOptions extends Pick<WasmBackendOptions, 'poison' | 'initialPages'> {
  /** Backend name (default 'native'). */
  name?: string;
  /** Threads of the native pool (default: every core). */
  threads?: number;
  /** Take every call however small (tests), instead of leaving small ones to wasm. */
  tiny?: boolean;
  /** The addon to call (tests pass one that counts calls); default: the one built at install. */
  addon?: NativeAddon;
}

/** The native kernels over `ctx`, each falling through to ctx.fallback per call. */
export function nativeKernels(ctx: NativeContext): Partial<KernelSignatures> {
  return {
    ...ctx.fallback,
    ...matmulKernels(ctx), ...elementwiseKernels(ctx), ...rowKernels(ctx), ...optimKernels(ctx), ...attentionKernels(ctx),
    ...convKernels(ctx), ...lossKernels(ctx), ...maxPoolKernels(ctx), ...copyKernels(ctx),
  };
}

/** Loads the addon (or throws with the reason it is not there) and returns the backend, not made active. */
export function createNativeBackendSync(options: NativeBackendOptions = {}): NativeBackend {
  const addon = options.addon ?? loadAddon().addon;
  if (!addon) throw new QkvError(loadAddon().reason);
  const threads = Math.max(1, Math.floor(options.threads ?? availableParallelism()));
  // the wasm part runs on the calling thread only: its workers would poll while the native pool works
  const wasm = createWasmBackendSync({
    name: `${options.name ?? 'native'}/wasm`, threads: 1, tiny: options.tiny ?? false,
    ...(options.poison !== undefined ? { poison: options.poison } : {}),
    ...(options.initialPages !== undefined ? { initialPages: options.initialPages } : {}),
  });
  const ctx: NativeContext = { addon, mem: new MemoryBuffer(wasm.memory), threads, fallback: wasm.kernels, tiny: options.tiny ?? false };
  // bound now, before any tensor: the addon asks for huge pages on the heap and the reservation it grows into
  bindHeap(addon, wasm.memory.buffer);
  return {
    name: options.name ?? 'native',
    allocator: wasm.allocator,
    kernels: nativeKernels(ctx),
    get variant() { return addon.isa(); },
    threads,
    stridedAttention: true,
    matmulBias: true,
    memory: wasm.memory,
    wasm,
    fmaPeak: (ms = 200) => {
      bindThreads(addon, threads);
      return addon.fmaPeak(ms);
    },
    dispose: () => wasm.dispose(),
  };
}
