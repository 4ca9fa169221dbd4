// Shared test helpers: run a suite on every backend, compare arrays, check gradients
// against central finite differences.
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import {
  createWasmBackendSync, getBackend, Generator, HeapAllocator, listBackends, OpError, noGrad, referenceBackend, registerBackend, setBackend, tensor, tidy,
  type Tensor,
} from '../src/index.js';
import { wasmBuilt } from '../src/kernels/wasm/node.js';
import { createNativeBackendSync, nativeAvailable } from '../src/index.js';

// A second backend for the op suite: the reference kernels computing in one WebAssembly.Memory
// (as the wasm backend does), every new allocation filled with NaN to catch reads of unwritten memory.
if (!listBackends().includes('ref-heap')) {
  registerBackend({ name: 'ref-heap', matmulBias: true, allocator: new HeapAllocator({ poison: true, initialPages: 1 }), kernels: referenceBackend.kernels });
}
// The WebAssembly SIMD backend as the op suites see it: every call on wasm however small
// (`tiny`), matmuls split across 2 threads however small, new allocations NaN-filled as in
// ref-heap. (The default 'wasm' backend, which the other tests run on, is the one users get.)
if (!listBackends().includes('wasm-tiny') && wasmBuilt()) {
  const backend = createWasmBackendSync({ name: 'wasm-tiny', poison: true, tiny: true, initialPages: 1, threads: 2 });
  registerBackend(backend);
  await backend.whenReady(); // starts the workers and waits for them: tests want every thread
}

// The native backend likewise: every call on the C++ kernels however small, on 2 threads of its pool.
if (!listBackends().includes('native-tiny') && nativeAvailable()) {
  registerBackend(createNativeBackendSync({ name: 'native-tiny', poison: true, tiny: true, initialPages: 1, threads: 2 }));
}

/** Runs `suite` once per backend (the defaults 'wasm' and 'native' aside: the '-tiny' ones are them, stricter), inside a describe named after it. */
export function forEachBackend(title: string, suite: (backend: string) => void): void {
  for (const name of listBackends().filter((b) => b !== 'wasm' && b !== 'native')) {
    describe(`${title} [${name}]`, () => {
      let previous = 'ref';
      before(() => { previous = getBackend().name; setBackend(name); });
      after(() => setBackend(previous));
      suite(name);
    });
  }
}

/** Asserts |actual - expected| <= atol + rtol*|expected| everywhere, naming the first bad index. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, atol = 1e-6, rtol = 1e-5): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} != ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) {
      assert.fail(`${what}: index ${i}: got ${a}, expected ${e} (|diff| ${Math.abs(a - e).toExponential(2)})`);
    }
  }
}

export function values(t: Tensor): number[] {
  return Array.from(t.toTypedArray());
}

/** Random float32 leaf of a shape, values drawn by `draw` from a seeded generator. */
export function leaf(shape: number[], seed: number, draw: (g: Generator) => number = (g) => g.normal()): Tensor {
  const g = new Generator(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(Float32Array.from({ length: n }, () => draw(g)), { shape, requiresGrad: true });
}

/** Values away from 0 (for functions with a kink at 0: relu, abs, ...). */
export const awayFromZero = (g: Generator): number => (g.uniform() < 0.5 ? -1 : 1) * (0.2 + g.uniform());
export const positive = (g: Generator): number => 0.5 + 1.5 * g.uniform();

export interface GradcheckOptions {
  eps?: number;
  atol?: number;
  rtol?: number;
}

/**
 * Checks the gradients backward() gives for each leaf against central finite differences of
 * L = Σ f(leaves) · w for a fixed random w (summed in float64 to keep rounding out of it).
 */
export function gradcheck(name: string, f: (...xs: Tensor[]) => Tensor, leaves: Tensor[], options: GradcheckOptions = {}): void {
  const { eps = 1e-2, atol = 2e-3, rtol = 1e-2 } = options;
  tidy(() => {
    for (const l of leaves) l.zeroGrad();
    const out = f(...leaves);
    const w = leaf([...out.shape], 12345);
    w.requiresGrad_(false);
    out.backward(w);
    const wv = w.toTypedArray();
    const loss = (): number => noGrad(() => tidy(() => {
      const o = f(...leaves).toTypedArray();
      let s = 0;
      for (let i = 0; i < o.length; i++) s += o[i]! * wv[i]!;
      return s;
    }));
    leaves.forEach((x, li) => {
      if (!x.grad) assert.fail(`${name}: input ${li} got no gradient`);
      const analytic = x.grad.toTypedArray();
      // re-read after every loss(): its allocations may grow a heap, which detaches older views
      const data = (): Float32Array => x.storage.data as Float32Array;
      for (let j = 0; j < x.size; j++) {
        const orig = data()[j]!;
        data()[j] = orig + eps;
        const up = data()[j]! - orig;
        const lp = loss();
        data()[j] = orig - eps;
        const down = orig - data()[j]!;
        const lm = loss();
        data()[j] = orig;
        const numeric = (lp - lm) / (up + down);
        const a = analytic[j]!;
        if (!(Math.abs(a - numeric) <= atol + rtol * Math.abs(numeric))) {
          assert.fail(`${name}: d/d(input ${li})[${j}]: backward gave ${a}, finite differences ${numeric}`);
        }
      }
    });
  });
}

/** Asserts fn throws an OpError of `op` whose message matches `pattern`. */
export function throwsOp(fn: () => unknown, op: string, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof OpError, `expected an OpError, got ${String(e)}`);
    assert.equal(e.op, op);
    assert.match(e.message, pattern);
    return true;
  });
}
