/// <reference types="@webgpu/types" preserve="true" />
// The WebGPU backend: a device backend (kind 'device') whose buffers live on the GPU. Values
// cross only through read() (async) and write(); every kernel of the contract is its own WGSL
// (nothing falls back to the CPU). Works over any `GPU` object: navigator.gpu in browsers, the
// `webgpu` package in Node (see ./node.ts).
import type { DType, TypedArray } from '../../core/dtype.js';
import { QkvError } from '../../core/errors.js';
import type { Allocation, Backend, KernelSignatures } from '../contract.js';
import { attentionKernels } from './attention.js';
import { describeAdapter } from './choose.js';
import { dropoutKernels } from './dropout.js';
import { conv1dKernels } from './conv1d.js';
import { GpuBuf, GpuDevice, buf, type GpuStats } from './device.js';
import { elementwiseKernels } from './elementwise.js';
import { indexingKernels } from './indexing.js';
import { linearAttentionKernels } from './linear-attention.js';
import { matmulKernels } from './matmul.js';
import { optimKernels } from './optim.js';
import { reduceKernels } from './reduce.js';
import { rowKernels } from './rows.js';

export interface WebGpuBackend extends Backend {
  readonly kind: 'device';
  readonly kernels: KernelSignatures;
  /** The adapter's description ("SwiftShader driver 5.0.0", a GPU's name). */
  readonly adapter: string;
  /** The device layer (pool, batching, dispatch): for tests and benchmarks. */
  readonly device: GpuDevice;
  /** Live and pooled GPU buffers, dispatches and submits so far. */
  stats(): GpuStats;
  /** Resolves when every queued kernel has run (throws the device's fault, if any). */
  sync(): Promise<void>;
  /** Frees the pooled (unused) GPU buffers. */
  trim(): void;
  dispose(): void;
}

export interface WebGpuOptions {
  /** Registered name (default 'webgpu'). */
  name?: string;
  powerPreference?: GPUPowerPreference;
  /**
   * Stage tiles in workgroup memory behind barriers (default: yes on GPUs, no on CPU-emulated
   * adapters such as SwiftShader, where each barrier costs more than the memory traffic it saves).
   */
  shared?: boolean;
}

const HINT = 'use --backend native (or wasm)';

/** The adapter and device of `gpu`; one line naming the backend when there is none. */
export async function requestDevice(gpu: GPU, options: WebGpuOptions = {}): Promise<{ device: GPUDevice; adapter: string; emulated: boolean }> {
  const adapter = await gpu.requestAdapter(options.powerPreference ? { powerPreference: options.powerPreference } : {});
  if (!adapter) throw new QkvError(`webgpu: no GPU adapter is available here; ${HINT}`);
  const { name, emulated } = describeAdapter(adapter);
  // ask for what the adapter allows of the limits the kernels lean on
  const want = ['maxStorageBuffersPerShaderStage', 'maxStorageBufferBindingSize', 'maxBufferSize',
    'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupsPerDimension'] as const;
  const requiredLimits: Record<string, number> = {};
  for (const k of want) requiredLimits[k] = adapter.limits[k];
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredLimits });
  } catch (e) {
    throw new QkvError(`webgpu: the adapter "${name}" gave no device (${(e as Error).message}); ${HINT}`);
  }
  if (device.limits.maxStorageBuffersPerShaderStage < 8) {
    throw new QkvError(`webgpu: "${name}" allows ${device.limits.maxStorageBuffersPerShaderStage} storage buffers per shader, qkv needs 8; ${HINT}`);
  }
  return { device, adapter: name, emulated };
}

/** A WebGPU backend over `gpu` (navigator.gpu, or the Node package's). */
export async function createWebGpuBackend(gpu: GPU, options: WebGpuOptions = {}): Promise<WebGpuBackend> {
  const { device, adapter, emulated } = await requestDevice(gpu, options);
  const dev = new GpuDevice(device, adapter, options.shared ?? !emulated);
  const kernels = {
    ...elementwiseKernels(dev), ...reduceKernels(dev), ...matmulKernels(dev), ...rowKernels(dev), ...indexingKernels(dev),
    ...optimKernels(dev), ...dropoutKernels(dev), ...conv1dKernels(dev), ...attentionKernels(dev), ...linearAttentionKernels(dev),
  } as KernelSignatures;
  return {
    name: options.name ?? 'webgpu',
    kind: 'device',
    matmulBias: true,
    adapter,
    device: dev,
    allocator: {
      allocate(dtype: DType, length: number): Allocation {
        const b: GpuBuf | null = dev.allocate(dtype, length);
        let live = true;
        return {
          view: () => {
            if (!live) throw new QkvError('webgpu: use of a freed buffer');
            return b as unknown as TypedArray;
          },
          free: () => {
            if (!live) return;
            live = false;
            dev.release(b);
          },
        };
      },
    },
    kernels,
    read: (handle, dtype, offset, length) => dev.read(buf(handle), dtype, offset, length),
    write: (handle, values, offset) => dev.write(buf(handle), values, offset),
    stats: () => dev.stats(),
    sync: () => dev.sync(),
    trim: () => dev.trim(),
    dispose: () => dev.destroy(),
  };
}
