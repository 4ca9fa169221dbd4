// qkv's public API for browsers. On import it loads the WebAssembly backend (fetching the .wasm
// next to this module; threads where the page is cross-origin isolated) and makes it the
// default; where that fails (no WebAssembly SIMD, the file not served) the reference backend
// stays active and `defaultBackendNote()` says why.
import { createWasmBackend } from './kernels/wasm/index.js';
import { QkvError } from './core/errors.js';
import { listBackends, registerBackend, setBackend } from './kernels/registry.js';
import { createWebGpuBackend, type WebGpuBackend } from './kernels/webgpu/index.js';
import { chooseAndSelect, probeAdapter, type ChooseOptions, type ChosenBackend, type ModelSize } from './kernels/webgpu/choose.js';

export * from './api.js';
export { createWasmBackend } from './kernels/wasm/index.js';
export { decideBackend, WEBGPU_MIN_FLOPS, WEBGPU_MIN_PARAMS, type ChooseOptions, type ChosenBackend, type ModelSize } from './kernels/webgpu/choose.js';

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

let webgpu: WebGpuBackend | null = null;

/**
 * Makes `name` the default backend: 'webgpu' (the page's GPU through navigator.gpu, made once;
 * one line naming the backend when the page has no adapter), 'wasm' or 'ref'.
 */
export async function selectBackendAsync(name: 'webgpu' | 'wasm' | 'ref'): Promise<void> {
  if (name === 'webgpu' && !webgpu) {
    const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
    if (!gpu) throw new QkvError('webgpu: this page has no navigator.gpu (WebGPU is off or unsupported here); use the wasm backend');
    webgpu = await createWebGpuBackend(gpu);
    registerBackend(webgpu);
  }
  if (!listBackends().includes(name)) throw new QkvError(`no backend named "${name}" (registered: ${listBackends().join(', ')})`);
  setBackend(name);
}

/**
 * Picks the page's backend for a model of this size and makes it the default: WebGPU when the
 * page has a GPU adapter that is not a CPU emulation and the model has at least
 * WEBGPU_MIN_PARAMS parameters or WEBGPU_MIN_FLOPS FLOPs a call, else wasm. Returns the choice
 * and a sentence saying why (show it: nothing is chosen silently). A GPU that then gives no
 * device is wasm too, its error in the reason. `select: false` only answers.
 */
export async function chooseBackend(size: ModelSize, options: ChooseOptions & { select?: boolean } = {}): Promise<ChosenBackend> {
  const probe = await probeAdapter((globalThis.navigator as Navigator | undefined)?.gpu);
  return chooseAndSelect(size, probe, options, 'wasm', () => selectBackendAsync('webgpu'), (choice) => {
    if (!listBackends().includes('wasm')) return { ...choice, reason: `${choice.reason}; but ${note || 'the wasm backend is not loaded'}` };
    setBackend('wasm');
    return choice;
  });
}
