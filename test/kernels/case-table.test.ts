// Runs the kernel case table (cases.ts) on every backend against the reference backend: the
// same seeded inputs, placed in each backend's own memory, give the same outputs (bit-equal
// where the case says tol 0). A kernel of the contract without a case fails here.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Generator, referenceBackend, type Backend, type KernelName, type KernelSignatures, type TypedArray } from '../../src/index.js';
import { createWasmBackendSync, wasmBuilt } from '../../src/kernels/wasm/node.js';
import { createNativeBackendSync, loadAddon } from '../../src/kernels/native/index.js';
import { KERNEL_CASES, type KernelCase } from './cases.js';
import { relDiff } from './wasm-setup.js';

/** Runs one case on a backend: allocates its arrays there, fills them from `seed`, returns copies of the outputs. */
function runCase(backend: Backend, c: KernelCase, seed: number): TypedArray[] {
  const allocations = c.arrays.map((s) => backend.allocator.allocate(s.dtype, s.length));
  try {
    const g = new Generator(seed);
    c.arrays.forEach((s, i) => {
      const a = allocations[i]!.view();
      for (let j = 0; j < a.length; j++) a[j] = s.init ? s.init(g, j) : s.dtype === 'int32' ? -1 : NaN;
    });
    // views read after every allocation: a WebAssembly memory may have grown and moved
    const kernels = { ...referenceBackend.kernels, ...backend.kernels } as KernelSignatures;
    c.run(kernels, allocations.map((a) => a.view()));
    return c.outputs.map((i) => allocations[i]!.view().slice());
  } finally {
    for (const a of allocations) a.free();
  }
}

test('every kernel of the contract has cases', () => {
  const names = Object.keys(referenceBackend.kernels) as KernelName[];
  const missing = names.filter((n) => !(n in KERNEL_CASES) || KERNEL_CASES[n]().length === 0);
  assert.deepEqual(missing, [], `kernels without a case: ${missing.join(', ')}`);
});

const backends: [string, () => Backend, string | false][] = [
  ['wasm (2 threads)', () => createWasmBackendSync({ threads: 2, name: 'case-table-wasm' }), wasmBuilt() ? false : 'the .wasm is not built'],
  // tiny: every call goes to C++, however small (else small ones are left to wasm)
  ['native (2 threads, every call)', () => createNativeBackendSync({ threads: 2, tiny: true, name: 'case-table-native' }),
    loadAddon().addon ? false : `the native addon is not built (${loadAddon().reason})`],
];

for (const [label, make, skip] of backends) {
  describe(`kernel case table on ${label}`, { skip }, () => {
    let backend: Backend & { dispose?: () => void };
    test('set up', () => { backend = make(); });
    for (const name of Object.keys(KERNEL_CASES) as KernelName[]) {
      test(name, () => {
        if (!(name in backend.kernels)) return; // not on this backend: the registry falls back to the reference
        KERNEL_CASES[name]().forEach((c, i) => {
          const expected = runCase(referenceBackend, c, 100 + i);
          const got = runCase(backend, c, 100 + i);
          got.forEach((g, j) => {
            if (c.tol === 0) assert.deepEqual(Array.from(g), Array.from(expected[j]!), `${c.what}: output ${c.outputs[j]}`);
            else {
              // error relative to the output's scale: max |got - ref| / max(1, max |ref|)
              const d = relDiff(g, expected[j]!);
              assert.ok(d <= (c.tol ?? 1e-5), `${c.what}: output ${c.outputs[j]} differs by ${d} (tolerance ${c.tol ?? 1e-5})`);
            }
          });
        });
      });
    }
    test('tear down', () => backend.dispose?.());
  });
}
