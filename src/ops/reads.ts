// Computations that read values back (predictions, decoding, evaluation), written once for every
// backend: the computation is a generator that yields each tensor whose values it needs and is
// given them back. readNow runs it on a host backend (each read synchronous), readLater on any
// backend (each read awaited: a GPU's values cross only through `await t.data()`).
import type { TypedArray } from '../core/dtype.js';
import { isDeviceBackend } from '../kernels/registry.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * A computation that yields the tensors it reads and returns R. A yielded tensor belongs to the
 * runner, which disposes it once read (yield what a `tidy` returned, not a tensor used later).
 */
export type Reading<R> = Generator<Tensor, R, TypedArray>;

/** Runs `r` reading each tensor synchronously (host backends; a device's tensor is one error). */
export function readNow<R>(r: Reading<R>): R {
  let s = r.next();
  try {
    while (!s.done) {
      const t = s.value;
      let values: TypedArray;
      try {
        values = t.toTypedArray();
      } finally {
        t.dispose();
      }
      s = r.next(values);
    }
  } catch (e) {
    r.return(undefined as R); // the computation's finally blocks free what it holds
    throw e;
  }
  return s.value;
}

/** Runs `r` on any backend, awaiting each read. */
export async function readLater<R>(r: Reading<R>): Promise<R> {
  let s = r.next();
  try {
    while (!s.done) {
      const t = s.value;
      let values: TypedArray;
      try {
        values = await t.data();
      } finally {
        t.dispose();
      }
      s = r.next(values);
    }
  } catch (e) {
    r.return(undefined as R);
    throw e;
  }
  return s.value;
}

/** `readNow` when `on` is a host tensor (the answer now), else `readLater` (a promise). */
export function readOn<R>(on: Tensor | undefined, r: Reading<R>): R | Promise<R> {
  return on && isDeviceBackend(on.backend) ? readLater(r) : readNow(r);
}
