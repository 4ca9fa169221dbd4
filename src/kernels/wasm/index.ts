// The WebAssembly SIMD backend: the kernels of asm/ (AssemblyScript, built at install time by
// `npm run build:wasm`) computing in place on tensors that live in the module's memory.
// Kernels it does not have fall back to the reference backend through the registry; kernels it
// has fall back per call when an array is not in its memory (see util.ts).
// Browser-safe: bytes come from the caller or from fetch(); node.ts reads them from disk.
import { QkvError } from '../../core/errors.js';
import type { Backend, KernelSignatures } from '../contract.js';
import { copyKernels } from './copy.js';
import { elementwiseKernels } from './elementwise.js';
import { gatherKernels } from './gather.js';
import { linearAttentionKernels } from './linear-attention.js';
import { lossKernels } from './loss.js';
import { matmulKernels } from './matmul.js';
import { instantiate, pickVariant, WASM_FILES, type WasmInstance, type WasmInstanceOptions, type WasmVariant } from './module.js';
import { optimKernels } from './optim.js';
import { reduceKernels } from './reduce.js';
import { rowKernels } from './rows.js';
import { MemoryBuffer } from './util.js';

export { relaxedSimdSupported, simdSupported, pickVariant, WASM_FILES, type WasmVariant, type WasmInstanceOptions } from './module.js';

export interface WasmBackend extends Backend {
  /** Which build runs: 'relaxed-simd' where the engine has it, else 'simd'. */
  readonly variant: WasmVariant;
  /** The memory tensors live in (the allocator's). */
  readonly memory: WebAssembly.Memory;
}

export interface WasmBackendOptions extends WasmInstanceOptions {
  /** Backend name for registerBackend/setBackend (default 'wasm'). */
  name?: string;
  /** Which build to run (default: the best this engine supports). */
  variant?: WasmVariant;
  /**
   * Run even the tiniest calls on wasm (tests, so op suites on small tensors reach the wasm
   * kernels). By default elementwise calls, copies, fills, sums, maxes, gathers and scatters
   * under 16 elements, binary calls and wheres under 32 and matmuls under 64 multiply-adds go to
   * the reference kernel, which does them as fast without crossing into wasm.
   */
  tiny?: boolean;
}

/** The kernels of one instance, each checking per call that its arrays live in the instance's memory. */
export function wasmKernels({ kernels: w, memory, allocator }: WasmInstance, tiny = false): Partial<KernelSignatures> {
  const mem = new MemoryBuffer(memory);
  return {
    ...copyKernels(w, mem, tiny), ...matmulKernels(w, mem, tiny), ...elementwiseKernels(w, mem, tiny), ...rowKernels(w, mem),
    ...optimKernels(w, mem), ...lossKernels(w, mem), ...reduceKernels(w, mem, tiny), ...gatherKernels(w, mem, tiny),
    ...linearAttentionKernels(w, mem, allocator),
  };
}

/** A backend from a compiled module of the given build (synchronous). */
export function wasmBackendFromModule(module: WebAssembly.Module, variant: WasmVariant, options: WasmBackendOptions = {}): WasmBackend {
  const instance = instantiate(module, options);
  return {
    name: options.name ?? 'wasm',
    allocator: instance.allocator,
    kernels: wasmKernels(instance, options.tiny ?? false),
    variant,
    memory: instance.memory,
  };
}

/**
 * Loads the kernels and returns a backend to pass to registerBackend (it is not made active).
 * `source`: the .wasm bytes, a Response, or a URL; by default the build picked by pickVariant(),
 * fetched from next to this module (bundlers that understand `new URL(..., import.meta.url)`
 * ship it). In Node, `import { createWasmBackend } from 'qkv'` reads the file instead.
 */
export async function createWasmBackend(options: WasmBackendOptions & { source?: BufferSource | Response | URL | string } = {}): Promise<WasmBackend> {
  const variant = options.variant ?? pickVariant();
  let source = options.source ?? new URL(`./${WASM_FILES[variant]}`, import.meta.url);
  if (typeof source === 'string' || source instanceof URL) {
    const response = await fetch(source);
    if (!response.ok) throw new QkvError(`wasm backend: cannot fetch ${String(source)}: HTTP ${response.status}`);
    source = response;
  }
  const bytes = source instanceof Response ? await source.arrayBuffer() : source;
  return wasmBackendFromModule(await WebAssembly.compile(bytes), variant, options);
}
