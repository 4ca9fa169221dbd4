// The Tensor: a view (shape, strides, offset) over a reference-counted Storage, plus its
// autograd links. Ops live in src/ops and are attached as methods by src/ops/methods.ts.
import { arrayFor, type DType, type TypedArray } from '../core/dtype.js';
import { AutogradError, MemoryError, OpError, shapeStr } from '../core/errors.js';
import { contiguousStrides, isContiguous, sizeOf, type Shape } from '../core/shape.js';
import type { Backend, Strided } from '../kernels/contract.js';
import { getBackendByName, isDeviceBackend, kernel } from '../kernels/registry.js';
import type { GradNode } from './autograd.js';
import { runBackward, type BackwardOptions } from './backward.js';
import { setTensorCheck, state, track } from './engine.js';
import { formatTensor } from './format.js';
import { Storage } from './storage.js';

export type NestedArray = number | NestedArray[];

export class Tensor {
  readonly id = state.nextId++;
  /** True for parameters and other leaves whose .grad backward() fills. */
  requiresGrad = false;
  /** The accumulated gradient of a leaf (owned by this tensor). */
  grad: Tensor | null = null;
  /** The op that made this tensor, or null for a leaf. */
  gradFn: GradNode | null = null;
  /** An optional name (parameters carry their state-dict key). */
  name: string | undefined;
  private disposed = false;

  /** Low level: a handle on `storage` (which it retains). Prefer the creation functions. */
  constructor(
    readonly storage: Storage,
    readonly shape: readonly number[],
    readonly strides: readonly number[],
    readonly offset: number,
    tracked = true,
  ) {
    state.tensors++;
    if (tracked) track(this);
  }

  /** A new contiguous tensor with uninitialised contents, on backend `on` (default: the default backend). */
  static empty(shape: Shape, dtype: DType = 'float32', on?: Backend): Tensor {
    return new Tensor(new Storage(dtype, sizeOf(shape), on), [...shape], contiguousStrides(shape), 0);
  }

  /** The backend that owns this tensor's memory: its kernels are the ones ops on it run. */
  get backend(): Backend {
    return this.storage.backend;
  }

  get dtype(): DType {
    return this.storage.dtype;
  }
  get rank(): number {
    return this.shape.length;
  }
  get size(): number {
    return sizeOf(this.shape);
  }
  get isContiguous(): boolean {
    return isContiguous(this.shape, this.strides);
  }
  get isLeaf(): boolean {
    return this.gradFn === null;
  }
  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Throws a clear error when the tensor was disposed. */
  live(op: string): this {
    if (this.disposed) throw new MemoryError(`${op}: tensor #${this.id} ${shapeStr(this.shape)} was disposed`);
    return this;
  }

  /** The kernel-facing description of this view. */
  strided(op = 'read'): Strided {
    this.live(op);
    return { data: this.storage.data, offset: this.offset, strides: this.strides };
  }

  /** The raw typed array, only for contiguous tensors at offset 0 (what kernels write to). */
  buffer(): TypedArray {
    this.live('buffer');
    if (!this.isContiguous || this.offset !== 0 || this.storage.length !== this.size) {
      throw new OpError('buffer', `tensor ${shapeStr(this.shape)} is a view; call contiguous() first`);
    }
    return this.storage.data;
  }

  /** Another handle on the same memory (a view with a new shape/strides), no autograd link. */
  makeView(shape: Shape, strides: readonly number[], offset: number, tracked = true): Tensor {
    this.live('view');
    this.storage.retain();
    return new Tensor(this.storage, [...shape], [...strides], offset, tracked);
  }

  /** A handle sharing this tensor's memory, cut from the graph (like torch's detach()). */
  detach(): Tensor {
    return this.makeView(this.shape, this.strides, this.offset);
  }

  /** Marks a leaf as a parameter whose gradient backward() accumulates into .grad. */
  requiresGrad_(flag = true): this {
    if (!this.isLeaf) throw new AutogradError('requiresGrad_: only leaf tensors can change requiresGrad; use detach() first');
    if (flag && this.dtype !== 'float32') throw new AutogradError(`requiresGrad_: only float32 tensors can require gradients, not ${this.dtype}`);
    this.requiresGrad = flag;
    return this;
  }

  /** Reverse-mode autodiff from this tensor (a scalar unless `gradient` is given). */
  backward(gradient?: Tensor, options: BackwardOptions = {}): void {
    runBackward(this, gradient, options);
  }

  /** Drops the accumulated gradient. */
  zeroGrad(): void {
    this.grad?.dispose();
    this.grad = null;
  }

  /** Frees this handle; the memory goes when no other view or saved value holds it. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    state.tensors--;
    this.storage.release();
    this.gradFn?.unref();
    this.gradFn = null;
    this.grad?.dispose();
    this.grad = null;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  /** Records an in-place write (autograd refuses to use values changed after they were saved). */
  bumpVersion(): void {
    this.storage.version++;
  }

  // --- reading back (sync on host backends; async everywhere, as TensorFlow.js names them)

  /** A contiguous copy of the values, as a new Float32Array or Int32Array (host backends; `await t.data()` anywhere). */
  toTypedArray(): TypedArray {
    this.live('toTypedArray');
    if (isDeviceBackend(this.backend)) {
      throw new OpError('toTypedArray', `tensor #${this.id} lives on the ${this.backend.name} backend, which cannot be read synchronously; use await t.data() (or t.array(), t.itemAsync())`);
    }
    state.hostReads++;
    const out = arrayFor(this.dtype, this.size);
    kernel('Copy', this.backend)(this.strided(), { data: out, offset: 0, strides: contiguousStrides(this.shape) }, this.shape);
    return out;
  }

  /** The values as nested arrays (a number for a 0-d tensor); host backends, `await t.array()` anywhere. */
  toArray(): NestedArray {
    return nest(this.toTypedArray(), this.shape);
  }

  /** The single value of a one-element tensor; host backends, `await t.itemAsync()` anywhere. */
  item(): number {
    if (this.size !== 1) throw new OpError('item', `tensor of shape ${shapeStr(this.shape)} has ${this.size} elements, not 1`);
    return this.toTypedArray()[0]!;
  }

  /** A contiguous copy of the values, on every backend (a device's queued work finishes first). */
  async data(): Promise<TypedArray> {
    this.live('data');
    const be = this.backend;
    if (!isDeviceBackend(be)) return this.toTypedArray();
    if (!be.read) throw new OpError('data', `the ${be.name} backend has no read()`);
    state.hostReads++;
    const whole = this.isContiguous && this.storage.length >= this.offset + this.size;
    if (whole) return be.read(this.storage.data, this.dtype, this.offset, this.size);
    const c = Tensor.empty(this.shape, this.dtype, be);
    try {
      kernel('Copy', be)(this.strided(), { data: c.storage.data, offset: 0, strides: c.strides }, this.shape);
      return await be.read(c.storage.data, this.dtype, 0, this.size);
    } finally {
      c.dispose();
    }
  }

  /** The values as nested arrays, on every backend. */
  async array(): Promise<NestedArray> {
    return nest(await this.data(), this.shape);
  }

  /** The single value of a one-element tensor, on every backend. */
  async itemAsync(): Promise<number> {
    if (this.size !== 1) throw new OpError('itemAsync', `tensor of shape ${shapeStr(this.shape)} has ${this.size} elements, not 1`);
    return (await this.data())[0]!;
  }

  // --- moving and writing

  /**
   * This tensor's values on backend `name` (a new leaf, cut from the graph; this tensor itself when
   * it is already there). Counted (transferCounts), so a test can assert a step moves nothing.
   * From a device backend the values must be read first: use `await t.toAsync(name)`.
   */
  to(name: string): Tensor {
    this.live('to');
    const target = getBackendByName(name);
    if (target === this.backend) return this;
    if (isDeviceBackend(this.backend)) {
      throw new OpError('to', `tensor #${this.id} lives on the ${this.backend.name} backend, which cannot be read synchronously; use await t.toAsync('${name}')`);
    }
    state.transfers++;
    state.hostReads--; // the copy below is the transfer, not a read by the caller
    return Tensor.fromHost(this.toTypedArray(), this.shape, target);
  }

  /** Like to(name), from any backend. */
  async toAsync(name: string): Promise<Tensor> {
    this.live('toAsync');
    const target = getBackendByName(name);
    if (target === this.backend) return this;
    if (!isDeviceBackend(this.backend)) return this.to(name);
    const values = await this.data();
    state.transfers++;
    state.hostReads--;
    return Tensor.fromHost(values, this.shape, target);
  }

  /** A new contiguous tensor on backend `on` holding `values` (its dtype is the array's). */
  static fromHost(values: TypedArray, shape: Shape, on?: Backend): Tensor {
    const t = Tensor.empty(shape, values instanceof Int32Array ? 'int32' : 'float32', on);
    t.write(values);
    return t;
  }

  /**
   * Writes host values into this tensor's memory (a whole, contiguous tensor) from element `at`
   * of it: the one way values enter a backend's memory other than a kernel. Numbers are converted
   * to this tensor's dtype. Counts as an in-place write for autograd.
   */
  write(values: ArrayLike<number>, at = 0): this {
    this.live('write');
    if (!this.isContiguous || this.offset !== 0 || this.storage.length !== this.size) {
      throw new OpError('write', `tensor ${shapeStr(this.shape)} is a view; write into the tensor it views`);
    }
    if (!Number.isInteger(at) || at < 0 || at + values.length > this.size) {
      throw new OpError('write', `${values.length} values at element ${at} do not fit a tensor of ${this.size}`);
    }
    const be = this.backend;
    if (isDeviceBackend(be)) {
      if (!be.write) throw new OpError('write', `the ${be.name} backend has no write()`);
      const typed = values instanceof (this.dtype === 'int32' ? Int32Array : Float32Array) ? values as TypedArray : arrayFor(this.dtype, values.length);
      if (typed !== values) typed.set(values as ArrayLike<number>);
      be.write(this.storage.data, typed, at);
    } else {
      this.storage.data.set(values, at);
    }
    this.bumpVersion();
    return this;
  }

  toString(): string {
    if (this.disposed) return `tensor(<disposed>, shape=${shapeStr(this.shape)})`;
    if (isDeviceBackend(this.backend)) return `tensor(<on ${this.backend.name}: await t.array() to read>, shape=${shapeStr(this.shape)}, dtype=${this.dtype})`;
    return formatTensor(this.toTypedArray(), this.shape, this.dtype, this.gradFn?.op ?? (this.requiresGrad ? 'leaf' : null));
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

setTensorCheck((x: unknown): x is Tensor => x instanceof Tensor);

function nest(flat: TypedArray, shape: readonly number[]): NestedArray {
  const build = (axis: number, base: number): NestedArray => {
    if (axis === shape.length) return flat[base]!;
    const inner = sizeOf(shape.slice(axis + 1));
    return Array.from({ length: shape[axis]! }, (_, i) => build(axis + 1, base + i * inner));
  };
  return build(0, 0);
}
