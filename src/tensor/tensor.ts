// The Tensor: a view (shape, strides, offset) over a reference-counted Storage, plus its
// autograd links. Ops live in src/ops and are attached as methods by src/ops/methods.ts.
import { arrayFor, type DType, type TypedArray } from '../core/dtype.js';
import { AutogradError, MemoryError, OpError, shapeStr } from '../core/errors.js';
import { contiguousStrides, isContiguous, sizeOf, type Shape } from '../core/shape.js';
import type { Strided } from '../kernels/contract.js';
import { kernel } from '../kernels/registry.js';
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

  /** A new contiguous tensor with uninitialised contents. */
  static empty(shape: Shape, dtype: DType = 'float32'): Tensor {
    return new Tensor(new Storage(dtype, sizeOf(shape)), [...shape], contiguousStrides(shape), 0);
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

  // --- reading back

  /** A contiguous copy of the values, as a new Float32Array or Int32Array. */
  toTypedArray(): TypedArray {
    this.live('toTypedArray');
    const out = arrayFor(this.dtype, this.size);
    kernel('Copy')(this.strided(), { data: out, offset: 0, strides: contiguousStrides(this.shape) }, this.shape);
    return out;
  }

  /** The values as nested arrays (a number for a 0-d tensor). */
  toArray(): NestedArray {
    const flat = this.toTypedArray();
    const build = (axis: number, base: number): NestedArray => {
      if (axis === this.rank) return flat[base]!;
      const inner = sizeOf(this.shape.slice(axis + 1));
      return Array.from({ length: this.shape[axis]! }, (_, i) => build(axis + 1, base + i * inner));
    };
    return build(0, 0);
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new OpError('item', `tensor of shape ${shapeStr(this.shape)} has ${this.size} elements, not 1`);
    return this.toTypedArray()[0]!;
  }

  toString(): string {
    if (this.disposed) return `tensor(<disposed>, shape=${shapeStr(this.shape)})`;
    return formatTensor(this.toTypedArray(), this.shape, this.dtype, this.gradFn?.op ?? (this.requiresGrad ? 'leaf' : null));
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

setTensorCheck((x: unknown): x is Tensor => x instanceof Tensor);
