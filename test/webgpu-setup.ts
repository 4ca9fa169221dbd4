// The WebGPU backend for model and training tests: registered as 'webgpu' (on the machine's GPU,
// or on SwiftShader from the chromium package), or the reason there is none (tests skip with it).
// The default backend is left as it was: tests pick webgpu where they want it.
import { getBackend, getBackendByName, selectBackendAsync, setBackend, type WebGpuBackend } from '../src/index.js';

const previous = getBackend().name;
let reason: string | false = false;
try {
  await selectBackendAsync('webgpu');
} catch (e) {
  reason = (e as Error).message;
}
setBackend(previous);

/** False when an adapter was had, else why not (the skip message). */
export const webgpuSkip: string | false = reason;

export function webgpu(): WebGpuBackend {
  return getBackendByName('webgpu') as WebGpuBackend;
}

/** Runs fn with webgpu as the default backend (where tensors and models are made). */
export async function onWebGpu<T>(fn: () => T | Promise<T>): Promise<T> {
  const before = getBackend().name;
  setBackend('webgpu');
  try {
    return await fn();
  } finally {
    setBackend(before);
  }
}
