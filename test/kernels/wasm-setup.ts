// Shared by the wasm kernel tests: a wasm instance whose exports count their calls (so a test
// can tell a wasm run from a silent fallback to the reference), arrays in its memory, comparisons.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { referenceBackend, type Generator, type KernelSignatures, type Tensor } from '../../src/index.js';
import { wasmKernels } from '../../src/kernels/wasm/index.js';
import { instantiate, relaxedSimdSupported, type WasmKernels, type WasmVariant } from '../../src/kernels/wasm/module.js';
import { wasmBuilt, wasmPath } from '../../src/kernels/wasm/node.js';

export const ref = referenceBackend.kernels;
export const skip = wasmBuilt() ? false : 'the .wasm is not built (npm run build:wasm)';

/** The build createWasmBackendSync loads: relaxed SIMD where the engine has it (and it was built). */
export function bestBuilt(): WasmVariant {
  return relaxedSimdSupported() && existsSync(wasmPath('relaxed-simd')) ? 'relaxed-simd' : 'simd';
}

/** The backend under test, plus a count of calls into each wasm export (to see which path ran). */
export function setup() {
  const module = new WebAssembly.Module(readFileSync(wasmPath(bestBuilt())));
  const inst = instantiate(module, { poison: true, initialPages: 1 });
  const calls = new Map<string, number>();
  const counted = Object.fromEntries(Object.entries(inst.kernels).map(([name, f]) => [name, (...args: number[]) => {
    calls.set(name, (calls.get(name) ?? 0) + 1);
    return (f as (...a: number[]) => unknown)(...args);
  }])) as unknown as WasmKernels;
  const kernels = wasmKernels({ ...inst, kernels: counted }, true) as KernelSignatures;
  calls.clear(); // setting up asks the module where its parameter block is
  return { kernels, allocator: inst.allocator, memory: inst.memory, calls };
}

export type Setup = ReturnType<typeof setup>;

/** Float32 arrays in the module's memory; views are re-read after every allocation (a grow detaches them). */
export function arrays(s: Setup, lengths: number[]): () => Float32Array[] {
  const allocations = lengths.map((n) => s.allocator.allocate('float32', n));
  return () => allocations.map((a) => a.view() as Float32Array);
}

export const values = (t: Tensor): number[] => Array.from(t.toTypedArray());

export function fillRandom(a: Float32Array, g: Generator, draw: (g: Generator) => number = (r) => r.uniform() * 2 - 1): void {
  for (let i = 0; i < a.length; i++) a[i] = draw(g);
}

/** max |a - b| / max(1, max |b|); NaN where one side is NaN and the other is not; equal infinities count 0. */
export function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let d = 0;
  let scale = 1;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (Number.isNaN(x) && Number.isNaN(y)) continue;
    if (x === y) continue;
    if (Number.isFinite(y)) scale = Math.max(scale, Math.abs(y));
    d = Math.max(d, Math.abs(x - y));
    if (!Number.isFinite(d)) return NaN;
  }
  return d / scale;
}

/** Elementwise: |a - b| <= tol * max(|b|, floor) everywhere (NaN = NaN, inf = inf). */
export function assertRelClose(a: ArrayLike<number>, b: ArrayLike<number>, what: string, tol = 1e-5, floor = 1e-6): void {
  for (let i = 0; i < b.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if ((Number.isNaN(x) && Number.isNaN(y)) || x === y) continue;
    if (!(Math.abs(x - y) <= tol * Math.max(Math.abs(y), floor))) assert.fail(`${what}: index ${i}: got ${x}, reference ${y}`);
  }
}
