// The WebGPU backend for tests: one device per test file (Dawn in Node, on the machine's GPU
// or on SwiftShader from the chromium package), or the reason there is none (tests skip with it).
import { tryWebGpuBackendNode } from '../../src/kernels/webgpu/node.js';
import type { WebGpuBackend } from '../../src/kernels/webgpu/index.js';

const made = await tryWebGpuBackendNode({ name: 'webgpu' });

/** False when an adapter was had, else why not (the skip message). */
export const webgpuSkip: string | false = typeof made === 'string' ? made : false;

/** This file's WebGPU backend (only when webgpuSkip is false). */
export function webgpuBackend(): WebGpuBackend {
  if (typeof made === 'string') throw new Error(made);
  return made;
}
