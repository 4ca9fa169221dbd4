// Helpers every op uses: turning numbers into tensors, checking dtypes, running kernels
// into fresh outputs, and the contiguous [rows, cols] layout row-wise kernels expect.
import type { DType } from '../core/dtype.js';
import { OpError, shapeStr } from '../core/errors.js';
import { contiguousStrides } from '../core/shape.js';
import type { Backend } from '../kernels/contract.js';
import { getBackend, isDeviceBackend, kernel } from '../kernels/registry.js';
import { Tensor } from '../tensor/tensor.js';

export type TensorLike = Tensor | number;

/** A 0-d tensor for a number, on `like`'s backend: int32 when `like` is int32 and the number is an integer. */
export function scalar(value: number, like?: Tensor): Tensor {
  const dtype: DType = like?.dtype === 'int32' && Number.isInteger(value) ? 'int32' : 'float32';
  const on = like?.backend ?? getBackend();
  return Tensor.empty([], dtype, on).write([value]);
}

/**
 * The backend every tensor of an op lives on (its kernels run the op; its allocator holds the
 * outputs). Tensors on two backends in one op is an error naming both: moving is explicit (t.to).
 */
export function ownerOf(op: string, ...xs: (Tensor | null | undefined)[]): Backend {
  let owner: Backend | null = null;
  for (const x of xs) {
    if (!x) continue;
    const b = x.storage.backend;
    if (owner === null) owner = b;
    else if (b !== owner) {
      throw new OpError(op, `inputs live on different backends (${owner.name} and ${b.name}); move one with t.to('${owner.name}')`);
    }
  }
  return owner ?? getBackend();
}

export function checkTensor(op: string, x: unknown, what = 'input'): Tensor {
  if (!(x instanceof Tensor)) throw new OpError(op, `${what} must be a Tensor, got ${x === null ? 'null' : typeof x}`);
  return x.live(op);
}

export function checkDtype(op: string, x: Tensor, dtype: DType, what = 'input'): void {
  if (x.dtype !== dtype) throw new OpError(op, `${what} must be ${dtype}, got ${x.dtype} tensor of shape ${shapeStr(x.shape)}`);
}

/** True when x's values are its whole storage in row-major order (what a kernel can read as is). */
export function isWhole(x: Tensor): boolean {
  return x.isContiguous && x.offset === 0 && x.storage.length === x.size;
}

/**
 * x's values as a contiguous tensor for a kernel: x itself when it already is one (isWhole), else
 * a copy from x's backend's allocator, so a WebAssembly backend's kernels find it in their
 * memory (a plain JS array would send them to the reference). Free it with `release(c, x)`; read
 * its data only after the last allocation before the kernel call (a heap grow moves views).
 */
export function contiguousTensor(x: Tensor): Tensor {
  return isWhole(x) ? x : copyTensor(x);
}

/** Disposes c when it is a copy contiguousTensor made of x (never x itself). */
export function release(c: Tensor | null | undefined, x: Tensor | null | undefined): void {
  if (c && c !== x) c.dispose();
}

/** The Float32Array of a float32 tensor that isWhole (a contiguousTensor, or one just allocated). */
export function f32(x: Tensor): Float32Array {
  return x.buffer() as Float32Array;
}

/** Sets elements [start, start + count) of a whole tensor to `value`, by a kernel on its backend (a strided copy of one number). */
export function fillRange(t: Tensor, value: number, start: number, count: number): void {
  const v = scalar(value, t);
  try {
    kernel('Copy', t.backend)({ data: v.buffer(), offset: 0, strides: [0] }, { data: t.buffer(), offset: start, strides: [1] }, [count]);
  } finally {
    v.dispose();
  }
  t.bumpVersion();
}

/** True when values of x can be read in JavaScript without a round trip (a host backend). */
export function onHost(x: Tensor): boolean {
  return !isDeviceBackend(x.backend);
}

/** A fresh contiguous tensor holding x's values, on x's backend (a copy, even when x is contiguous). */
export function copyTensor(x: Tensor, dtype: DType = x.dtype): Tensor {
  const out = Tensor.empty(x.shape, dtype, x.backend);
  kernel('Copy', x.backend)(x.strided(), { data: out.buffer(), offset: 0, strides: contiguousStrides(x.shape) }, x.shape);
  return out;
}

