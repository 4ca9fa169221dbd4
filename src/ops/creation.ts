// Making tensors: from arrays, filled, ranges, and random from a seeded generator.
import { arrayFor, type DType, type TypedArray } from '../core/dtype.js';
import { OpError } from '../core/errors.js';
import { defaultGenerator, type Generator } from '../core/rng.js';
import { sizeOf, type Shape } from '../core/shape.js';
import { getBackend, getBackendByName, kernel } from '../kernels/registry.js';
import type { Backend } from '../kernels/contract.js';
import { Tensor, type NestedArray } from '../tensor/tensor.js';

export interface CreateOptions {
  dtype?: DType;
  /** Mark the result as a parameter (a leaf whose gradient backward() fills). */
  requiresGrad?: boolean;
  /** The backend that holds it, by name (default: the default backend, see setBackend). */
  backend?: string;
}

function backendOf(options: CreateOptions): Backend {
  return options.backend === undefined ? getBackend() : getBackendByName(options.backend);
}

export interface RandomOptions extends CreateOptions {
  generator?: Generator;
}

function finish(t: Tensor, options: CreateOptions): Tensor {
  if (options.requiresGrad) t.requiresGrad_();
  return t;
}

function checkShape(op: string, shape: Shape): void {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new OpError(op, `shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
}

/**
 * A tensor from nested arrays, a typed array or a number. The shape is read from the nesting
 * (or given, for flat data); the dtype is int32 for an Int32Array, else float32 unless given.
 */
export function tensor(values: NestedArray | TypedArray | readonly number[], options: CreateOptions & { shape?: Shape } = {}): Tensor {
  let flat: ArrayLike<number>;
  let shape: number[];
  if (ArrayBuffer.isView(values)) {
    flat = values as TypedArray;
    shape = options.shape ? [...options.shape] : [flat.length];
  } else {
    shape = inferShape(values as NestedArray);
    flat = Array.isArray(values) ? flattenNested(values as NestedArray[]) : [values as number];
    if (options.shape) shape = [...options.shape];
  }
  if (sizeOf(shape) !== flat.length) throw new OpError('tensor', `${flat.length} values do not fill shape [${shape.join(', ')}]`);
  for (let i = 0; i < flat.length; i++) {
    if (typeof flat[i] !== 'number') throw new OpError('tensor', `value at flat index ${i} is ${typeof flat[i]}, not a number`);
  }
  const dtype = options.dtype ?? (values instanceof Int32Array ? 'int32' : 'float32');
  const t = Tensor.empty(shape, dtype, backendOf(options));
  t.write(flat);
  return finish(t, options);
}

function flattenNested(v: NestedArray[], out: number[] = []): number[] {
  for (const x of v) {
    if (Array.isArray(x)) flattenNested(x, out);
    else out.push(x);
  }
  return out;
}

function inferShape(v: NestedArray): number[] {
  if (!Array.isArray(v)) return [];
  if (v.length === 0) return [0];
  const inner = inferShape(v[0]!);
  for (let i = 1; i < v.length; i++) {
    const s = inferShape(v[i]!);
    if (s.join() !== inner.join()) throw new OpError('tensor', `ragged nested array: item ${i} has shape [${s.join(', ')}], item 0 has [${inner.join(', ')}]`);
  }
  return [v.length, ...inner];
}

export function full(shape: Shape, value: number, options: CreateOptions = {}): Tensor {
  checkShape('full', shape);
  const on = backendOf(options);
  const t = Tensor.empty(shape, options.dtype ?? 'float32', on);
  kernel('Fill', on)(t.buffer(), value);
  return finish(t, options);
}

export const zeros = (shape: Shape, options: CreateOptions = {}): Tensor => full(shape, 0, options);
export const ones = (shape: Shape, options: CreateOptions = {}): Tensor => full(shape, 1, options);
export const zerosLike = (x: Tensor, options: CreateOptions = {}): Tensor => full(x.shape, 0, { dtype: x.dtype, backend: x.backend.name, ...options });
export const onesLike = (x: Tensor, options: CreateOptions = {}): Tensor => full(x.shape, 1, { dtype: x.dtype, backend: x.backend.name, ...options });

/** start, start+step, ... < end (one argument: 0 .. end-1). int32 when all arguments are integers. */
export function arange(start: number, end?: number, step = 1, options: CreateOptions = {}): Tensor {
  if (end === undefined) [start, end] = [0, start];
  if (step === 0 || !Number.isFinite(start) || !Number.isFinite(end) || !Number.isFinite(step)) {
    throw new OpError('arange', `invalid range start=${start} end=${end} step=${step}`);
  }
  const n = Math.max(0, Math.ceil((end - start) / step));
  const dtype = options.dtype ?? ([start, end, step].every(Number.isInteger) ? 'int32' : 'float32');
  const data = arrayFor(dtype, n);
  for (let i = 0; i < n; i++) data[i] = start + i * step;
  return tensor(data, { ...options, dtype, shape: [n] });
}

function random(op: string, shape: Shape, options: RandomOptions, draw: (g: Generator) => number): Tensor {
  checkShape(op, shape);
  const g = options.generator ?? defaultGenerator;
  const data = arrayFor(options.dtype ?? 'float32', sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = draw(g);
  return tensor(data, { ...options, shape });
}

/** Uniform in [low, high) (default [0, 1)). */
export function rand(shape: Shape, options: RandomOptions & { low?: number; high?: number } = {}): Tensor {
  const { low = 0, high = 1 } = options;
  return random('rand', shape, options, (g) => low + (high - low) * g.uniform());
}

/** Normal with the given mean and std (default standard normal). */
export function randn(shape: Shape, options: RandomOptions & { mean?: number; std?: number } = {}): Tensor {
  const { mean = 0, std = 1 } = options;
  return random('randn', shape, options, (g) => mean + std * g.normal());
}

/** Uniform integers in [low, high), int32. */
export function randint(low: number, high: number, shape: Shape, options: RandomOptions = {}): Tensor {
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) throw new OpError('randint', `invalid range [${low}, ${high})`);
  return random('randint', shape, { ...options, dtype: 'int32' }, (g) => g.int(low, high));
}
