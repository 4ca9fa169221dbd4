// Shared by the native kernel tests: the real addon behind a wrapper that counts calls per
// export, so a test can tell a kernel ran in C++ from a silent fallback to wasm or the reference,
// and a native backend on n threads with helpers that place data in its heap.
import { createNativeBackendSync, type Generator, type KernelSignatures } from '../../src/index.js';
import { loadAddon, type NativeAddon } from '../../src/kernels/native/index.js';
import { fillRandom } from './wasm-setup.js';

/** The real addon behind a wrapper that counts calls per export (into `calls`). */
export function counted(calls = new Map<string, number>()): { addon: NativeAddon; calls: Map<string, number> } {
  const real = loadAddon().addon!;
  const addon = Object.fromEntries(Object.entries(real).map(([name, f]) => [name, typeof f !== 'function' ? f : (...args: unknown[]) => {
    calls.set(name, (calls.get(name) ?? 0) + 1);
    return (f as (...a: unknown[]) => unknown)(...args);
  }])) as unknown as NativeAddon;
  return { addon, calls };
}

/** A native backend on `threads` threads (its addon counted, fresh allocations poisoned). */
export function backend(threads: number) {
  const c = counted();
  const b = createNativeBackendSync({ name: `native-test-${threads}`, addon: c.addon, tiny: true, poison: true, threads, initialPages: 1 });
  const kernels = b.kernels as KernelSignatures;
  /** Float32 arrays in the heap holding copies of `data` (views re-read after each allocation: a grow moves them). */
  const place = (...data: Float32Array[]): Float32Array[] => {
    const al = data.map((d) => b.allocator.allocate('float32', d.length));
    const views = al.map((a) => a.view() as Float32Array);
    views.forEach((v, i) => v.set(data[i]!));
    return views;
  };
  const placeInt = (data: Int32Array): Int32Array => {
    const v = b.allocator.allocate('int32', data.length).view() as Int32Array;
    v.set(data);
    return v;
  };
  return { b, kernels, place, placeInt, calls: c.calls, addon: c.addon };
}

export const rand = (n: number, g: Generator): Float32Array => {
  const a = new Float32Array(n);
  fillRandom(a, g);
  return a;
};
