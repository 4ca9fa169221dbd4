// Which backend Node gets: native (C++ addon) → wasm → ref, the first that loads, unless
// QKV_BACKEND (native | wasm | ref | webgpu) or selectBackend says otherwise; QKV_THREADS sets
// the threads. The GPU (webgpu) is asked for asynchronously: selectBackendAsync.
// Not reachable from src/browser.ts (browsers keep the wasm backend).
import { createNativeBackendSync, loadAddon, type NativeBackend } from './native/index.js';
import { getBackend, getBackendByName, listBackends, registerBackend, setBackend } from './registry.js';
import type { WasmBackend } from './wasm/index.js';
import { createWasmBackendSync } from './wasm/node.js';
import type { WebGpuBackend } from './webgpu/index.js';
import { createWebGpuBackendNode, probeAdapterNode } from './webgpu/node.js';
import { chooseAndSelect, type ChooseOptions, type ChosenBackend, type ModelSize } from './webgpu/choose.js';

export type BackendChoice = 'native' | 'wasm' | 'ref';
const CHOICES: readonly BackendChoice[] = ['native', 'wasm', 'ref'];

let note = '';

/** Why the backend in use is not the one wanted or the best one (native), '' when it is. */
export function defaultBackendNote(): string {
  return note;
}

/** True when the addon was built and loads on this machine. */
export function nativeAvailable(): boolean {
  return loadAddon().addon !== null;
}

function tryNative(threads: number | undefined): boolean {
  try {
    const native = createNativeBackendSync(threads !== undefined ? { threads } : {});
    registerBackend(native);
    setBackend(native.name);
    return true;
  } catch (e) {
    note = `${(e as Error).message}; using the WebAssembly backend`;
    return false;
  }
}

function tryWasm(threads: number | undefined): boolean {
  try {
    const wasm = createWasmBackendSync(threads !== undefined ? { threads } : {});
    registerBackend(wasm);
    setBackend(wasm.name);
    return true;
  } catch (e) {
    note = `${note ? `${note.replace(/; using the WebAssembly backend$/, '')}; ` : ''}WebAssembly backend unavailable (${(e as Error).message}); using the reference backend`;
    return false;
  }
}

/**
 * Run by the Node entry on import: the first of native, wasm, ref that loads becomes active
 * (QKV_BACKEND starts the list lower); defaultBackendNote() says why a better one did not.
 */
export function installDefaultBackend(): void {
  const env = process.env['QKV_BACKEND'];
  // webgpu is set up asynchronously (the Node entry awaits selectBackendAsync); native stays the fallback
  const wanted = (env && (CHOICES as readonly string[]).includes(env) ? env : 'native') as BackendChoice;
  const threadsEnv = process.env['QKV_THREADS'];
  const threads = threadsEnv ? Number(threadsEnv) : undefined;
  const threadsOk = threads === undefined || (Number.isInteger(threads) && threads >= 1);
  const bad = (env !== undefined && env !== '' && env !== 'webgpu' && wanted !== env) || !threadsOk
    ? `ignored QKV_BACKEND=${env ?? ''} / QKV_THREADS=${threadsEnv ?? ''} (expected native|wasm|ref|webgpu and a positive integer); ` : '';
  const t = threadsOk ? threads : undefined;
  if (wanted === 'ref') return;
  if (wanted === 'native' && tryNative(t)) return void (note = bad.replace(/; $/, ''));
  tryWasm(t);
  note = bad + note;
}

/**
 * Makes `name` the active backend: 'ref', 'wasm' or 'native' on `threads` threads (a new backend
 * replaces the registered one when the thread count differs). Tensors made before keep their memory.
 * 'native' where the addon is missing throws with the reason.
 */
export function selectBackend(name: BackendChoice, options: { threads?: number } = {}): void {
  if (name !== 'ref') {
    const current = listBackends().includes(name) ? getBackendByName(name) as WasmBackend | NativeBackend : null;
    if (!current || (options.threads !== undefined && current.threads !== options.threads)) {
      const opts = options.threads !== undefined ? { threads: options.threads } : {};
      const next = name === 'native' ? createNativeBackendSync(opts) : createWasmBackendSync(opts);
      current?.dispose();
      registerBackend(next);
    }
  }
  setBackend(name);
}

let webgpu: WebGpuBackend | null = null;

/**
 * Like selectBackend, and also 'webgpu': the GPU through WebGPU (the optional `webgpu` package,
 * on a GPU or on SwiftShader), made once and kept. Throws one line naming the backend and what
 * to do when no adapter can be had.
 */
export async function selectBackendAsync(name: BackendChoice | 'webgpu', options: { threads?: number } = {}): Promise<void> {
  if (name !== 'webgpu') return selectBackend(name, options);
  if (!webgpu) {
    webgpu = await createWebGpuBackendNode();
    registerBackend(webgpu);
  }
  setBackend(webgpu.name);
}

/**
 * The browser entry's chooseBackend in Node: WebGPU (Dawn's adapter) for a model large enough to
 * gain on a real GPU, else the default CPU backend (native where built); selects it (unless
 * `select: false`) and says why.
 */
export async function chooseBackend(size: ModelSize, options: ChooseOptions & { select?: boolean } = {}): Promise<ChosenBackend> {
  const cpu = getBackend().kind === 'device' ? (listBackends().includes('native') ? 'native' : listBackends().includes('wasm') ? 'wasm' : 'ref') : getBackend().name;
  return chooseAndSelect(size, await probeAdapterNode(), options, cpu, () => selectBackendAsync('webgpu'), (choice) => {
    setBackend(cpu);
    return choice;
  });
}

/** Run by the Node entry after installDefaultBackend: QKV_BACKEND=webgpu, or a note saying why not. */
export async function installEnvWebGpu(): Promise<void> {
  if (process.env['QKV_BACKEND'] !== 'webgpu') return;
  try {
    await selectBackendAsync('webgpu');
    note = '';
  } catch (e) {
    note = `QKV_BACKEND=webgpu: ${(e as Error).message}; using ${listBackends().includes('native') ? 'native' : listBackends().includes('wasm') ? 'wasm' : 'ref'}`;
  }
}
