// The WebGPU backend in Node, over the `webgpu` package (Dawn's Node binding, an optional
// dependency: loaded only when asked for, so qkv runs without it). Where no Vulkan driver is
// installed, Debian's chromium package brings SwiftShader (a CPU Vulkan): its loader is
// preloaded and VK_ICD_FILENAMES pointed at its driver, so tests run on machines with no GPU.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { QkvError } from '../../core/errors.js';
import { createWebGpuBackend, type WebGpuBackend, type WebGpuOptions } from './index.js';
import { probeAdapter, type AdapterProbe } from './choose.js';

const HINT = 'use --backend native (or wasm)';
const CHROMIUM_DIRS = ['/usr/lib/chromium', '/usr/lib/chromium-browser', '/usr/lib64/chromium-browser'];
const SYSTEM_VULKAN = ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib/aarch64-linux-gnu/libvulkan.so.1', '/usr/lib64/libvulkan.so.1',
  '/usr/lib/libvulkan.so.1', '/usr/local/lib/libvulkan.so.1'];

/** SwiftShader's Vulkan driver as Chromium installs it, or null. */
export function findSwiftShader(): { icd: string; loader: string | null } | null {
  for (const dir of CHROMIUM_DIRS) {
    const icd = `${dir}/vk_swiftshader_icd.json`;
    if (existsSync(icd)) return { icd, loader: existsSync(`${dir}/libvulkan.so.1`) ? `${dir}/libvulkan.so.1` : null };
  }
  return null;
}

let prepared = false;
let setupNote = '';

/**
 * On Linux without a system Vulkan loader: Chromium's loader (kept loaded for Dawn, which
 * dlopens it by name) and SwiftShader's driver. QKV_WEBGPU_SWIFTSHADER=1 forces SwiftShader.
 */
function prepareVulkan(): void {
  if (prepared || process.platform !== 'linux') return;
  prepared = true;
  const hasLoader = SYSTEM_VULKAN.some((p) => existsSync(p));
  const force = process.env['QKV_WEBGPU_SWIFTSHADER'] === '1';
  if (hasLoader && !force) return;
  const ss = findSwiftShader();
  if (!ss) {
    if (!hasLoader) setupNote = 'no Vulkan loader (libvulkan.so.1) and no SwiftShader (the chromium package) on this machine';
    return;
  }
  if (!process.env['VK_ICD_FILENAMES']) process.env['VK_ICD_FILENAMES'] = ss.icd;
  if (!hasLoader && ss.loader) {
    try {
      // RTLD_NODELETE keeps the library loaded after Node finds it is not an addon
      process.dlopen({ exports: {} } as NodeJS.Module, ss.loader, constants.dlopen.RTLD_NOW | constants.dlopen.RTLD_GLOBAL | 0x1000);
    } catch {
      // expected: "Module did not self-register"; the library stays loaded
    }
  }
}

let gpu: GPU | null = null;

interface DawnModule { create(flags: string[]): GPU; globals: Record<string, unknown> }

/** Why the webgpu package cannot be loaded here, or null when it loads. */
export async function loadDawn(): Promise<{ dawn: DawnModule | null; reason: string }> {
  try {
    const name = 'webgpu'; // a variable: bundlers leave the optional package alone
    const dawn = (await import(name)) as DawnModule;
    return { dawn, reason: '' };
  } catch (e) {
    return { dawn: null, reason: `the optional "webgpu" package is not installed (npm install webgpu): ${(e as Error).message.split('\n')[0]}` };
  }
}

/**
 * Whether Dawn finds an adapter here, asked in a child process first: where there is none, Dawn
 * and the Vulkan loader print their own warnings straight to stderr (native code, out of
 * Node's reach), and a refused run must print only qkv's one line. The child's stderr is shown
 * under QKV_DEBUG=1. null: the child could not say (then the process asks Dawn itself).
 */
function adapterInChild(): boolean | null {
  const me = new URL(import.meta.url).href;
  const script = `import(${JSON.stringify(me)}).then((m) => m.probeHere()).then((ok) => process.stdout.write(ok ? 'adapter' : 'none'), () => process.stdout.write('error'))`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000, env: process.env });
  const debug = Boolean(process.env['QKV_DEBUG']) && process.env['QKV_DEBUG'] !== '0';
  if (debug && r.stderr) process.stderr.write(`webgpu probe (Dawn's own messages):\n${r.stderr.endsWith('\n') ? r.stderr : `${r.stderr}\n`}`);
  return r.stdout === 'adapter' ? true : r.stdout === 'none' ? false : null;
}

/** Run in adapterInChild's child: whether Dawn gives an adapter in this process. */
export async function probeHere(): Promise<boolean> {
  const { dawn } = await loadDawn();
  if (!dawn) return false;
  prepareVulkan();
  return (await dawn.create([]).requestAdapter()) !== null;
}

let childSaid: boolean | null | undefined;

/** The `GPU` object of Dawn's Node binding (one per process), with WebGPU's classes as globals. */
async function dawnGpu(): Promise<GPU> {
  const { dawn, reason } = await loadDawn();
  if (!dawn) throw new QkvError(`webgpu: ${reason}; ${HINT}`);
  prepareVulkan();
  if (!gpu && process.env['QKV_WEBGPU_PROBE'] !== '0') {
    childSaid ??= adapterInChild();
    if (childSaid === false) throw new QkvError(`webgpu: no GPU adapter is available here${setupNote ? ` (${setupNote})` : ''}; ${HINT}`);
  }
  // WebGPU's classes (GPUBufferUsage, GPUShaderStage...) as globals, as in a browser
  for (const [k, v] of Object.entries(dawn.globals)) if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  return (gpu ??= dawn.create([])); // one Dawn instance per process
}

/** This machine's adapter, or why there is none (for chooseBackend). */
export async function probeAdapterNode(): Promise<AdapterProbe | string> {
  let g: GPU;
  try {
    g = await dawnGpu();
  } catch (e) {
    return (e as Error).message.replace(/^webgpu: /, '').replace(/; use --backend.*$/, '');
  }
  const probe = await probeAdapter(g);
  return typeof probe === 'string' && setupNote ? `${probe.replace('navigator.gpu', 'Dawn')} (${setupNote})` : probe;
}

/** The WebGPU backend on this machine's adapter (a GPU, or SwiftShader on the CPU). */
export async function createWebGpuBackendNode(options: WebGpuOptions = {}): Promise<WebGpuBackend> {
  // QKV_WEBGPU_SHARED=1/0 forces the workgroup-memory kernels on or off (see WebGpuOptions.shared)
  const shared = process.env['QKV_WEBGPU_SHARED'];
  if (options.shared === undefined && (shared === '0' || shared === '1')) options = { ...options, shared: shared === '1' };
  const g = await dawnGpu();
  try {
    const backend = await createWebGpuBackend(g, options);
    const lose = Number(process.env['QKV_WEBGPU_LOSE_AFTER']); // a test hook: see GpuDevice.loseAfter
    if (Number.isInteger(lose) && lose >= 0 && process.env['QKV_WEBGPU_LOSE_AFTER'] !== '') backend.device.loseAfter = lose;
    return backend;
  } catch (e) {
    if (setupNote && e instanceof QkvError) throw new QkvError(`${e.message.replace(/; use --backend.*$/, '')} (${setupNote}); ${HINT}`);
    throw e;
  }
}

/** The backend, or why none can be had here (tests skip with the reason). */
export async function tryWebGpuBackendNode(options: WebGpuOptions = {}): Promise<WebGpuBackend | string> {
  try {
    return await createWebGpuBackendNode(options);
  } catch (e) {
    return (e as Error).message;
  }
}
