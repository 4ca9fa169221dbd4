// Node's way to the wasm backend: the .wasm builds lie next to this file (dist/src/kernels/wasm/,
// written by `npm run build:wasm`). Not reachable from src/browser.ts (it imports node:fs).
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { QkvError } from '../../core/errors.js';
import { pickVariant, WASM_FILES, type WasmVariant } from './module.js';
import { wasmBackendFromModule, type WasmBackend, type WasmBackendOptions } from './index.js';

/** The path of a build's .wasm file. */
export function wasmPath(variant: WasmVariant): string {
  return fileURLToPath(new URL(`./${WASM_FILES[variant]}`, import.meta.url));
}

/** True when the plain SIMD build (the one every SIMD engine runs) has been built. */
export function wasmBuilt(): boolean {
  return existsSync(wasmPath('simd'));
}

/** The build to load: the engine's best whose file exists. */
function chooseVariant(asked?: WasmVariant): WasmVariant {
  if (asked) return asked;
  const best = pickVariant();
  return best === 'relaxed-simd' && !existsSync(wasmPath(best)) ? 'simd' : best;
}

function missing(path: string): QkvError {
  return new QkvError(`wasm backend: ${path} does not exist; run \`npm run build:wasm\` (npm install runs it)`);
}

/** Loads the kernels synchronously (Node compiles any size synchronously) and returns the backend, not made active. */
export function createWasmBackendSync(options: WasmBackendOptions = {}): WasmBackend {
  const variant = chooseVariant(options.variant);
  const path = wasmPath(variant);
  if (!existsSync(path)) throw missing(path);
  return wasmBackendFromModule(new WebAssembly.Module(readFileSync(path)), variant, options);
}

/** The same, compiling asynchronously; `source` (the .wasm bytes of `variant`) skips reading the file. */
export async function createWasmBackend(options: WasmBackendOptions & { source?: BufferSource } = {}): Promise<WasmBackend> {
  const variant = chooseVariant(options.variant);
  if (options.source) return wasmBackendFromModule(await WebAssembly.compile(options.source), variant, options);
  const path = wasmPath(variant);
  if (!existsSync(path)) throw missing(path);
  return wasmBackendFromModule(await WebAssembly.compile(await readFile(path)), variant, options);
}
