// Node's way to the wasm backend: the .wasm builds lie next to this file (dist/src/kernels/wasm/,
// written by `npm run build:wasm`); worker threads are worker_threads running worker-node.js.
// Not reachable from src/browser.ts (it imports node: modules).
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { QkvError } from '../../core/errors.js';
import { pickVariant, sharedMemorySupported, wasmFile, type WasmVariant } from './module.js';
import { wasmBackendFromModule, type SpawnWorker, type WasmBackend, type WasmBackendOptions } from './index.js';

/** The path of a build's .wasm file. */
export function wasmPath(variant: WasmVariant, shared = false): string {
  return fileURLToPath(new URL(`./${wasmFile(variant, shared)}`, import.meta.url));
}

/** True when the plain SIMD build (the one every SIMD engine runs) has been built. */
export function wasmBuilt(): boolean {
  return existsSync(wasmPath('simd'));
}

/** Worker threads that may end with the process (they sleep in Atomics.wait between jobs). */
const spawnNodeWorker: SpawnWorker = (data) => {
  const worker = new Worker(new URL('./worker-node.js', import.meta.url), { workerData: data });
  worker.unref();
  return worker;
};

interface Choice { variant: WasmVariant; shared: boolean; threads: number; path: string }

/** The build to load: the engine's best whose file exists; the shared one when threads > 1 can run. */
function choose(options: WasmBackendOptions): Choice {
  let variant = options.variant ?? pickVariant();
  if (!options.variant && variant === 'relaxed-simd' && !existsSync(wasmPath(variant))) variant = 'simd';
  let threads = Math.max(1, Math.floor(options.threads ?? availableParallelism()));
  const shared = threads > 1 && sharedMemorySupported() && existsSync(wasmPath(variant, true));
  if (!shared) threads = 1;
  const path = wasmPath(variant, shared);
  if (!existsSync(path)) throw new QkvError(`wasm backend: ${path} does not exist; run \`npm run build:wasm\` (npm install runs it)`);
  return { variant, shared, threads, path };
}

function build(module: WebAssembly.Module, c: Choice, options: WasmBackendOptions): WasmBackend {
  return wasmBackendFromModule(module, c.variant, { ...options, threads: c.threads, shared: c.shared, spawn: spawnNodeWorker, canBlock: true });
}

/**
 * Loads the kernels synchronously (Node compiles any size synchronously) and returns the backend,
 * not made active. Threads: `options.threads`, default every core (os.availableParallelism()).
 */
export function createWasmBackendSync(options: WasmBackendOptions = {}): WasmBackend {
  const c = choose(options);
  return build(new WebAssembly.Module(readFileSync(c.path)), c, options);
}

/** The same, compiling asynchronously; `source` (the .wasm bytes of the chosen build) skips reading the file. */
export async function createWasmBackend(options: WasmBackendOptions & { source?: BufferSource } = {}): Promise<WasmBackend> {
  const c = choose(options);
  const bytes = options.source ?? await readFile(c.path);
  return build(await WebAssembly.compile(bytes), c, options);
}
