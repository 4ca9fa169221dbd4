/// <reference types="@webgpu/types" preserve="true" />
// The GPU side of the WebGPU backend: buffers from a pool by size, one command encoder that
// batches kernel dispatches (submitted when a value is read or written, or every
// MAX_BATCH dispatches), the uniform parameters of each dispatch in one arena per batch, the
// compiled pipelines, and faults (a lost device, an out-of-memory, a shader that fails to
// compile) turned into one line naming the backend and what to do.
import type { DType, TypedArray } from '../../core/dtype.js';
import { DeviceError, QkvError } from '../../core/errors.js';

/** The handle kernels get for a webgpu allocation (passed in the contract's typed-array slots). */
export class GpuBuf {
  constructor(
    readonly buffer: GPUBuffer,
    readonly dtype: DType,
    /** Elements the tensor asked for (kernels that walk a whole buffer use this). */
    readonly length: number,
  ) {}
}

/** Casts a contract slot back to the handle (the one place the backend's boundary is crossed). */
export function buf(x: TypedArray | null | undefined): GpuBuf {
  if (!(x instanceof GpuBuf)) {
    throw new QkvError(`webgpu: a kernel got ${x === null || x === undefined ? 'no buffer' : 'a host array'} where a webgpu buffer belongs (mixing backends in one op); move the tensor with t.to('webgpu') first`);
  }
  return x;
}

/** How a storage buffer is bound: read-only, or written (read_write). */
export interface Bind { b: GpuBuf | null; write?: boolean }

/** A field of a shader's uniform struct: a 32-bit scalar or 8 int32s (shape/strides, as 2 vec4s). */
export type FieldType = 'u32' | 'i32' | 'f32' | 'v8';

/** A compute shader: its WGSL body (after the generated bindings) and its uniform fields. */
export interface ShaderSpec {
  /** Key for the pipeline cache; must determine the code. */
  key: string;
  fields: [string, FieldType][];
  /** Storage bindings in order: [name, element type ('f32' | 'i32' | 'u32' | 'atomic<u32>'), written]. */
  buffers: [string, string, boolean][];
  /** The WGSL after the struct and bindings (entry point `main`). */
  code: string;
}

const MAX_BATCH = 64;
const UNIFORM_SLOT = 256; // minUniformBufferOffsetAlignment is at most 256
const DEV_HINT = 'use --backend native (or wasm)';

interface Layout { offsets: number[]; size: number }

function layoutOf(fields: [string, FieldType][]): Layout {
  let o = 0;
  const offsets: number[] = [];
  for (const [, t] of fields) {
    if (t === 'v8') o = Math.ceil(o / 16) * 16;
    offsets.push(o);
    o += t === 'v8' ? 32 : 4;
  }
  return { offsets, size: Math.max(16, Math.ceil(o / 16) * 16) };
}

function wgslType(t: FieldType): string {
  return t === 'v8' ? 'array<vec4<i32>, 2>' : t;
}

interface Pipeline { pipeline: GPUComputePipeline; layout: GPUBindGroupLayout; fields: [string, FieldType][]; lay: Layout; nBuffers: number }

export interface GpuStats {
  /** Buffers handed out and not yet freed. */
  liveBuffers: number;
  liveBytes: number;
  /** Freed buffers kept for reuse. */
  pooledBuffers: number;
  pooledBytes: number;
  /** Dispatches since the device was made. */
  dispatches: number;
  submits: number;
}

export class GpuDevice {
  private pool = new Map<number, GPUBuffer[]>();
  private pipelines = new Map<string, Pipeline>();
  private encoder: GPUCommandEncoder | null = null;
  private batch = 0;
  private uniforms: ArrayBuffer;
  private uniformView: DataView;
  private uniformBuffers: GPUBuffer[] = [];
  private uniformUsed = 0;
  private dummy: GpuBuf;
  private fault: string | null = null;
  private live = 0;
  private liveBytes = 0;
  private pooledBytes = 0;
  private pooledCount = 0;
  private dispatches = 0;
  private submits = 0;
  private destroyed = false;
  /** Scratch buffers freed once the current batch is submitted. */
  private scratch: GpuBuf[] = [];

  /**
   * Whether kernels stage data in workgroup memory behind barriers (GPUs), or each thread works
   * alone (CPU-emulated adapters like SwiftShader, where a barrier costs more than it saves).
   */
  shared: boolean;

  /**
   * Test hook: destroy the GPU device once this many dispatches have been queued, as a GPU that
   * is lost mid-run (Node: QKV_WEBGPU_LOSE_AFTER=N). Null: never.
   */
  loseAfter: number | null = null;

  constructor(readonly device: GPUDevice, readonly adapterName: string, shared = true) {
    this.shared = shared;
    this.uniforms = new ArrayBuffer(MAX_BATCH * UNIFORM_SLOT);
    this.uniformView = new DataView(this.uniforms);
    device.addEventListener('uncapturederror', (e) => {
      const err = (e as GPUUncapturedErrorEvent).error;
      this.fault ??= describeError(err);
    });
    void device.lost.then((info) => {
      if (!this.destroyed) this.fault ??= `webgpu: the GPU device was lost (${info.message || info.reason}); ${DEV_HINT}`;
    });
    this.dummy = this.allocate('float32', 4);
  }

  /** Throws the first recorded fault (a lost device, an out-of-memory, a bad shader). */
  check(): void {
    if (this.fault) throw new DeviceError(this.fault);
  }

  stats(): GpuStats {
    return { liveBuffers: this.live, liveBytes: this.liveBytes, pooledBuffers: this.pooledCount, pooledBytes: this.pooledBytes,
      dispatches: this.dispatches, submits: this.submits };
  }

  // --- memory

  /** Size classes: multiples of 256 bytes up to 64 KiB, then powers of two halved (at most 25% slack). */
  private sizeClass(bytes: number): number {
    const b = Math.max(16, bytes);
    if (b <= 65536) return Math.ceil(b / 256) * 256;
    const p = 2 ** Math.floor(Math.log2(b));
    const step = p / 4;
    return Math.ceil(b / step) * step;
  }

  allocate(dtype: DType, length: number): GpuBuf {
    this.check();
    const size = this.sizeClass(length * 4);
    const max = this.device.limits.maxStorageBufferBindingSize;
    if (size > max) {
      throw new DeviceError(`webgpu: a buffer of ${length * 4} bytes is over this GPU's limit of ${max} bytes per buffer; ${DEV_HINT}`);
    }
    let buffer = this.pool.get(size)?.pop();
    if (buffer) {
      this.pooledBytes -= size;
      this.pooledCount--;
    } else {
      buffer = this.device.createBuffer({ size, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    }
    this.live++;
    this.liveBytes += size;
    return new GpuBuf(buffer, dtype, length);
  }

  /** Returns a buffer to the pool (work already queued on it runs first: the queue is in order). */
  release(b: GpuBuf): void {
    const size = b.buffer.size;
    let list = this.pool.get(size);
    if (!list) this.pool.set(size, (list = []));
    list.push(b.buffer);
    this.live--;
    this.liveBytes -= size;
    this.pooledBytes += size;
    this.pooledCount++;
  }

  /** Destroys the pooled (free) buffers. */
  trim(): void {
    for (const list of this.pool.values()) for (const b of list) b.destroy();
    this.pool.clear();
    this.pooledBytes = 0;
    this.pooledCount = 0;
  }

  /** A buffer that lives until the current batch is submitted (kernels' intermediate values). */
  temp(dtype: DType, length: number): GpuBuf {
    const b = this.allocate(dtype, length);
    this.scratch.push(b);
    return b;
  }

  // --- moving values

  write(h: GpuBuf, values: TypedArray, offset: number): void {
    this.check();
    if (values.length === 0) return;
    this.flush(); // kernels queued before this write run before it
    this.device.queue.writeBuffer(h.buffer, offset * 4, values.buffer, values.byteOffset, values.byteLength);
  }

  async read(h: GpuBuf, dtype: DType, offset: number, length: number): Promise<TypedArray> {
    this.check();
    const out = dtype === 'int32' ? new Int32Array(length) : new Float32Array(length);
    if (length === 0) return out;
    const staging = this.device.createBuffer({ size: length * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    try {
      this.enc().copyBufferToBuffer(h.buffer, offset * 4, staging, 0, length * 4);
      this.flush();
      try {
        await staging.mapAsync(GPUMapMode.READ);
      } catch (e) {
        this.check();
        throw new DeviceError(`webgpu: reading a buffer back failed (${(e as Error).message}); ${DEV_HINT}`);
      }
      this.check();
      out.set(dtype === 'int32' ? new Int32Array(staging.getMappedRange()) : new Float32Array(staging.getMappedRange()));
      staging.unmap();
    } finally {
      staging.destroy();
    }
    return out;
  }

  /** Copies `length` elements between buffers, in order with the kernels. */
  copy(src: GpuBuf, srcOffset: number, dst: GpuBuf, dstOffset: number, length: number): void {
    if (length > 0) this.enc().copyBufferToBuffer(src.buffer, srcOffset * 4, dst.buffer, dstOffset * 4, length * 4);
  }

  /** Waits until the queued work is done. */
  async sync(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    this.check();
  }

  // --- kernels

  private enc(): GPUCommandEncoder {
    this.check();
    return (this.encoder ??= this.device.createCommandEncoder());
  }

  /** Submits the batch: the uniform arena first (queue order puts it before the commands). */
  flush(): void {
    if (!this.encoder) return;
    if (this.uniformUsed > 0) {
      const ub = this.uniformBuffers[0]!;
      this.device.queue.writeBuffer(ub, 0, this.uniforms, 0, this.uniformUsed);
    }
    this.device.queue.submit([this.encoder.finish()]);
    this.submits++;
    this.encoder = null;
    this.batch = 0;
    this.uniformUsed = 0;
    for (const s of this.scratch) this.release(s);
    this.scratch = [];
  }

  private pipeline(spec: ShaderSpec): Pipeline {
    let p = this.pipelines.get(spec.key);
    if (p) return p;
    const lay = layoutOf(spec.fields);
    const struct = spec.fields.length === 0 ? 'struct P { pad: u32 }'
      : `struct P { ${spec.fields.map(([n, t]) => `${n}: ${wgslType(t)}`).join(', ')} }`;
    const binds = spec.buffers.map(([name, type, written], i) =>
      `@group(0) @binding(${i + 1}) var<storage, ${written ? 'read_write' : 'read'}> ${name}: array<${type}>;`).join('\n');
    const code = `${struct}\n@group(0) @binding(0) var<uniform> p: P;\n${binds}\n${spec.code}`;
    const module = this.device.createShaderModule({ code, label: spec.key });
    const layout = this.device.createBindGroupLayout({
      entries: [
        { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform' } },
        ...spec.buffers.map(([, , written], i) => ({
          binding: i + 1, visibility: GPUShaderStage.COMPUTE, buffer: { type: written ? 'storage' as const : 'read-only-storage' as const },
        })),
      ],
    });
    const pipeline = this.device.createComputePipeline({
      layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: 'main' },
      label: spec.key,
    });
    p = { pipeline, layout, fields: spec.fields, lay, nBuffers: spec.buffers.length };
    this.pipelines.set(spec.key, p);
    return p;
  }

  /**
   * Queues one dispatch of `spec` over `groups` workgroups with its uniform values and storage
   * buffers (null: a dummy for an absent optional input). A buffer read here that the same
   * dispatch writes is read from a copy (WebGPU forbids binding it both ways).
   */
  dispatch(spec: ShaderSpec, values: Record<string, number | readonly number[]>, binds: Bind[], groups: [number, number?, number?]): void {
    this.check();
    if (this.destroyed) throw new DeviceError(`webgpu: the device was disposed; ${DEV_HINT}`);
    const [gx, gy = 1, gz = 1] = groups;
    if (gx === 0 || gy === 0 || gz === 0) return;
    const max = this.device.limits.maxComputeWorkgroupsPerDimension;
    if (gx > max || gy > max || gz > max) throw new DeviceError(`webgpu: ${spec.key}: ${gx}×${gy}×${gz} workgroups exceed this GPU's ${max} per dimension; ${DEV_HINT}`);
    if (this.loseAfter !== null && this.dispatches >= this.loseAfter) {
      this.loseAfter = null;
      this.device.destroy(); // reported by device.lost as a real loss would be
    }
    const p = this.pipeline(spec);
    if (this.batch >= MAX_BATCH) this.flush();
    const encoder = this.enc();
    // uniforms into this batch's arena slot
    if (this.uniformBuffers.length === 0) {
      this.uniformBuffers.push(this.device.createBuffer({ size: MAX_BATCH * UNIFORM_SLOT, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST }));
    }
    const at = this.uniformUsed;
    if (p.lay.size > UNIFORM_SLOT) throw new QkvError(`webgpu: ${spec.key}: uniform block too large`);
    p.fields.forEach(([name, t], i) => {
      const v = values[name];
      const o = at + p.lay.offsets[i]!;
      if (v === undefined) throw new QkvError(`webgpu: ${spec.key}: no value for uniform ${name}`);
      if (t === 'v8') {
        const arr = v as readonly number[];
        for (let j = 0; j < 8; j++) this.uniformView.setInt32(o + 4 * j, arr[j] ?? 0, true);
      } else if (t === 'f32') this.uniformView.setFloat32(o, v as number, true);
      else if (t === 'u32') this.uniformView.setUint32(o, (v as number) >>> 0, true);
      else this.uniformView.setInt32(o, (v as number) | 0, true);
    });
    this.uniformUsed += UNIFORM_SLOT;
    // storage bindings, with read-side copies where a written buffer is also read
    if (binds.length !== p.nBuffers) throw new QkvError(`webgpu: ${spec.key}: ${binds.length} buffers for ${p.nBuffers} bindings`);
    const written = new Set(binds.filter((x) => x.write && x.b).map((x) => x.b!.buffer));
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: this.uniformBuffers[0]!, offset: at, size: p.lay.size } }];
    binds.forEach((x, i) => {
      let b = x.b ?? this.dummy;
      if (!x.write && written.has(b.buffer)) {
        const c = this.temp(b.dtype, b.length);
        encoder.copyBufferToBuffer(b.buffer, 0, c.buffer, 0, b.buffer.size);
        b = c;
      }
      entries.push({ binding: i + 1, resource: { buffer: b.buffer } });
    });
    const group = this.device.createBindGroup({ layout: p.layout, entries });
    const pass = encoder.beginComputePass();
    pass.setPipeline(p.pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(gx, gy, gz);
    pass.end();
    this.batch++;
    this.dispatches++;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.flush();
    this.destroyed = true;
    this.trim();
    this.device.destroy();
  }
}

function describeError(err: GPUError): string {
  const msg = err.message.split('\n').map((l) => l.trim()).filter(Boolean).slice(0, 3).join(' ');
  if (typeof GPUOutOfMemoryError !== 'undefined' && err instanceof GPUOutOfMemoryError) {
    return `webgpu: the GPU is out of memory (${msg}); use a smaller model or batch, or ${DEV_HINT}`;
  }
  if (/shader|WGSL|ShaderModule/i.test(msg)) return `webgpu: a shader failed to compile on this GPU (${msg}); ${DEV_HINT}`;
  return `webgpu: the GPU reported an error (${msg}); ${DEV_HINT}`;
}
