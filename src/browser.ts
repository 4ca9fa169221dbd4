// qkv's public API for browsers. On import it loads the WebAssembly backend (fetching the .wasm
// next to this module; threads where the page is cross-origin isolated) and makes it the
// default; where that fails (no WebAssembly SIMD, the file not served) the reference backend
// stays active and `defaultBackendNote()` says why.
import { createWasmBackend } from './kernels/wasm/index.js';
import { registerBackend, setBackend } from './kernels/registry.js';

export * from './api.js';
export { createWasmBackend } from './kernels/wasm/index.js';

let note = '';
try {
  const wasm = await createWasmBackend();
  registerBackend(wasm);
  setBackend(wasm.name);
} catch (e) {
  note = `WebAssembly backend unavailable (${(e as Error).message}); using the reference backend`;
}

/** Why the default backend is not 'wasm' ('' when it is). */
export function defaultBackendNote(): string {
  return note;
}
