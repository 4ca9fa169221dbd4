// The WebAssembly SIMD backend: the kernels of asm/ (AssemblyScript, built at install time by
// `npm run build:wasm`) computing in place on tensors that live in the module's memory, on
// several threads where the memory can be shared (threads.ts).
// Kernels it does not have fall back to the reference backend through the registry; kernels it
// has fall back per call when an array is not in its memory (see util.ts).
// Browser-safe: bytes come from the caller or from fetch(); node.ts reads them from disk.
import { QkvError } from '../../core/errors.js';
import type { Backend, KernelSignatures } from '../contract.js';
import { attentionKernels } from './attention.js';
import { copyKernels } from './copy.js';
import { elementwiseKernels } from './elementwise.js';
import { gatherKernels } from './gather.js';
import { linearAttentionKernels } from './linear-attention.js';
import { lossKernels } from './loss.js';
import { convKernels } from './conv.js';
import { biasByAdd } from '../bias.js';
import { gemmRunner, matmulKernels } from './matmul.js';
import { instantiate, pickVariant, sharedMemorySupported, wasmFile, type WasmInstance, type WasmInstanceOptions, type WasmVariant } from './module.js';
import { optimKernels } from './optim.js';
import { reduceKernels } from './reduce.js';
import { rowKernels } from './rows.js';
import { ThreadPool, type SpawnWorker } from './threads.js';
import { MemoryBuffer } from './util.js';

export { relaxedSimdSupported, simdSupported, sharedMemorySupported, pickVariant, wasmFile, WASM_FILES, type WasmVariant, type WasmInstanceOptions } from './module.js';
export type { SpawnWorker } from './threads.js';

export interface WasmBackend extends Backend {
  /** Which build runs: 'relaxed-simd' where the engine has it, else 'simd'. */
  readonly variant: WasmVariant;
  /** The memory tensors live in (the allocator's); shared when threads > 1. */
  readonly memory: WebAssembly.Memory;
  /** Threads kernels may use, the calling one included (1 where memory cannot be shared). */
  readonly threads: number;
  /** Parts of kernel calls worker threads have run so far. */
  readonly workerParts: number;
  /** Resolves once every worker thread has started (they start on the first parallel kernel call). */
  whenReady(): Promise<void>;
  /** Stops the worker threads; the backend keeps working on the calling thread. */
  dispose(): void;
}

export interface WasmBackendOptions extends WasmInstanceOptions {
  /** Backend name for registerBackend/setBackend (default 'wasm'). */
  name?: string;
  /** Which build to run (default: the best this engine supports). */
  variant?: WasmVariant;
  /**
   * Threads in all (default: the machine's cores in Node, navigator.hardwareConcurrency in a
   * cross-origin isolated page, else 1). More than 1 needs shared WebAssembly memory; without
   * it the backend runs on one thread.
   */
  threads?: number;
  /**
   * Run even the tiniest calls on wasm (tests, so op suites on small tensors reach the wasm
   * kernels, and split them across threads). By default elementwise calls, copies, fills, sums,
   * maxes, gathers and scatters under 16 elements, binary calls and wheres under 32 and matmuls
   * under 64 multiply-adds go to the reference kernel, which does them as fast without crossing into wasm.
   */
  tiny?: boolean;
}

/** The kernels of one instance, each checking per call that its arrays live in the instance's memory. */
export function wasmKernels(instance: WasmInstance, tiny = false, pool: ThreadPool | null = null): Partial<KernelSignatures> {
  const { kernels: w, memory, allocator } = instance;
  const mem = new MemoryBuffer(memory);
  const gemm = gemmRunner(w, pool, tiny);
  const kernels = {
    ...copyKernels(w, mem, tiny), ...matmulKernels(mem, tiny, gemm), ...convKernels(w, mem, allocator, gemm, tiny), ...elementwiseKernels(w, mem, tiny, pool),
    ...rowKernels(w, mem), ...optimKernels(w, mem), ...lossKernels(w, mem), ...reduceKernels(w, mem, tiny),
    ...gatherKernels(w, mem, tiny), ...linearAttentionKernels(w, mem, allocator), ...attentionKernels(w, mem, allocator, pool),
  };
  // the wasm GEMM has no bias epilogue: its MatMul adds a Linear's bias with its own Add
  return { ...kernels, MatMul: biasByAdd(kernels as Pick<KernelSignatures, 'MatMul' | 'Add'>) };
}

/**
 * A backend from a compiled module of the given build (synchronous). `shared`: the module is a
 * *-shared build; with `spawn` (how to start a worker) it runs on `threads` threads.
 */
export function wasmBackendFromModule(module: WebAssembly.Module, variant: WasmVariant,
  options: WasmBackendOptions & { shared?: boolean; spawn?: SpawnWorker; canBlock?: boolean } = {}): WasmBackend {
  const shared = options.shared ?? false;
  const instance = instantiate(module, options, shared);
  const threads = shared && options.spawn ? Math.max(1, Math.floor(options.threads ?? 1)) : 1;
  const pool = threads > 1
    ? new ThreadPool({
      module, memory: instance.memory, allocator: instance.allocator, threads, spawn: options.spawn!,
      scratchBytes: instance.kernels.scratch_bytes(), mainScratch: instance.kernels.main_scratch(), canBlock: options.canBlock ?? false,
    })
    : null;
  return {
    name: options.name ?? 'wasm',
    matmulBias: true,
    allocator: instance.allocator,
    kernels: wasmKernels(instance, options.tiny ?? false, pool),
    variant,
    memory: instance.memory,
    get threads() { return pool ? pool.threads : 1; },
    get workerParts() { return pool ? pool.workerParts : 0; },
    whenReady: () => (pool ? pool.whenReady() : Promise.resolve()),
    dispose: () => pool?.dispose(),
  };
}

/** Web Workers running worker-web.js, next to this module. */
const spawnWebWorker: SpawnWorker = (data) => {
  const worker = new Worker(new URL('./worker-web.js', import.meta.url), { type: 'module' });
  worker.postMessage(data);
  return worker;
};

/**
 * Loads the kernels and returns a backend to pass to registerBackend (it is not made active).
 * `source`: the .wasm bytes, a Response, or a URL of the build `variant` (and `shared`) names;
 * by default the best build this page can run, fetched from next to this module (bundlers that
 * understand `new URL(..., import.meta.url)` ship it). Threads need a cross-origin isolated page.
 * In Node, `import { createWasmBackend } from 'qkv'` reads the file and uses worker_threads instead.
 */
export async function createWasmBackend(options: WasmBackendOptions & { source?: BufferSource | Response | URL | string; shared?: boolean } = {}): Promise<WasmBackend> {
  const variant = options.variant ?? pickVariant();
  const cores = typeof navigator !== 'undefined' ? navigator.hardwareConcurrency || 1 : 1;
  const threads = options.threads ?? cores;
  const shared = options.shared ?? (threads > 1 && sharedMemorySupported());
  let source = options.source ?? new URL(`./${wasmFile(variant, shared)}`, import.meta.url);
  if (typeof source === 'string' || source instanceof URL) {
    const response = await fetch(source);
    if (!response.ok) throw new QkvError(`wasm backend: cannot fetch ${String(source)}: HTTP ${response.status}`);
    source = response;
  }
  const bytes = source instanceof Response ? await source.arrayBuffer() : source;
  return wasmBackendFromModule(await WebAssembly.compile(bytes), variant, { ...options, threads, shared, spawn: spawnWebWorker, canBlock: false });
}
