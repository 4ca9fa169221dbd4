// Shared by the native kernel tests: the real addon behind a wrapper that counts calls per
// export, so a test can tell a kernel ran in C++ from a silent fallback to wasm or the reference.
import { loadAddon, type NativeAddon } from '../../src/kernels/native/index.js';

/** The real addon behind a wrapper that counts calls per export (into `calls`). */
export function counted(calls = new Map<string, number>()): { addon: NativeAddon; calls: Map<string, number> } {
  const real = loadAddon().addon!;
  const addon = Object.fromEntries(Object.entries(real).map(([name, f]) => [name, typeof f !== 'function' ? f : (...args: unknown[]) => {
    calls.set(name, (calls.get(name) ?? 0) + 1);
    return (f as (...a: unknown[]) => unknown)(...args);
  }])) as unknown as NativeAddon;
  return { addon, calls };
}
