// Runs the kernel case table (cases.ts) on every backend against the reference backend: the
// same seeded inputs, placed in each backend's own memory, give the same outputs (bit-equal
// where the case says tol 0). A kernel of the contract without a case fails here.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { referenceBackend, type Backend, type KernelName } from '../../src/index.js';
import { createWasmBackendSync, wasmBuilt } from '../../src/kernels/wasm/node.js';
import { createNativeBackendSync, loadAddon } from '../../src/kernels/native/index.js';
import { KERNEL_CASES, runCase } from './cases.js';
import { counted } from './native-setup.js';
import { relDiff } from './wasm-setup.js';

test('every kernel of the contract has cases', () => {
  const names = Object.keys(referenceBackend.kernels) as KernelName[];
  const missing = names.filter((n) => !(n in KERNEL_CASES) || KERNEL_CASES[n]().length === 0);
  assert.deepEqual(missing, [], `kernels without a case: ${missing.join(', ')}`);
});

// the native backend's addon counts its calls, so a case that names its export must reach it
const nativeCalls = new Map<string, number>();
const backends: [string, () => Backend, string | false][] = [
  ['wasm (2 threads)', () => createWasmBackendSync({ threads: 2, name: 'case-table-wasm' }), wasmBuilt() ? false : 'the .wasm is not built'],
  // tiny: every call goes to C++, however small (else small ones are left to wasm)
  ['native (2 threads, every call)', () => createNativeBackendSync({ threads: 2, tiny: true, name: 'case-table-native', addon: counted(nativeCalls).addon }),
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
          if (c.needs && !backend[c.needs]) return; // a capability this backend does not claim (the op never asks it)
          const expected = runCase(referenceBackend, c, 100 + i);
          const calls = c.native ? nativeCalls.get(c.native) ?? 0 : 0;
          const got = runCase(backend, c, 100 + i);
          if (c.native && backend.name === 'case-table-native') assert.ok((nativeCalls.get(c.native) ?? 0) > calls, `${c.what}: ran in C++ (${c.native})`);
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
