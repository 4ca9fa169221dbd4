// The kernel case table (cases.ts) on the WebGPU backend against the reference backend: the same
// seeded inputs written into GPU buffers, the backend's own WGSL kernels (a device backend has no
// fallback), outputs read back. Runs on SwiftShader where the machine has no GPU; skips, saying
// why, where no adapter can be had.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { referenceBackend, type KernelName } from '../../src/index.js';
import { KERNEL_CASES, runCase, runCaseOnDevice } from './cases.js';
import { relDiff } from './wasm-setup.js';
import { webgpuBackend, webgpuSkip } from './webgpu-setup.js';

describe('kernel case table on webgpu', { skip: webgpuSkip }, () => {
  after(async () => webgpuBackend().dispose());

  test('every kernel of the contract is a WGSL kernel of its own', async () => {
    const be = webgpuBackend();
    const missing = (Object.keys(referenceBackend.kernels) as KernelName[]).filter((n) => typeof be.kernels[n] !== 'function');
    assert.deepEqual(missing, []);
  });

  // kernels with two shapes (workgroup tiles behind barriers for GPUs, one thread alone for
  // CPU-emulated adapters): the adapter's own choice first, then the other one
  const TWO_SHAPES = new Set<KernelName>(['Sum', 'Max', 'Min', 'ArgMax', 'ArgMin', 'MatMul', 'Softmax', 'LogSoftmax', 'SoftmaxGrad',
    'LogSoftmaxGrad', 'LayerNorm', 'LayerNormGrad', 'CrossEntropy', 'FlashAttention', 'FlashAttentionGrad']);
  const runs = (Object.keys(KERNEL_CASES) as KernelName[]).flatMap((name) => [[name, false], ...(TWO_SHAPES.has(name) ? [[name, true]] : [])] as [KernelName, boolean][]);
  for (const [name, flipped] of runs) {
    test(flipped ? `${name} (the other shape)` : name, async (t) => {
      const be = webgpuBackend();
      const shared = be.device.shared;
      if (flipped) be.device.shared = !shared;
      t.after(() => { be.device.shared = shared; });
      let worst = 0;
      const cases = KERNEL_CASES[name]();
      for (const [i, c] of cases.entries()) {
        if (c.needs && !be[c.needs]) continue; // a capability the device does not claim (the op never asks it)
        const expected = runCase(referenceBackend, c, 100 + i);
        const got = await runCaseOnDevice(be, c, 100 + i);
        got.forEach((g, j) => {
          const want = expected[j]!;
          if (c.tol === 0) assert.deepEqual(Array.from(g), Array.from(want), `${c.what}: output ${c.outputs[j]}`);
          else {
            const d = relDiff(g, want);
            worst = Math.max(worst, d);
            assert.ok(d <= (c.tol ?? 1e-5), `${c.what}: output ${c.outputs[j]} differs by ${d} (tolerance ${c.tol ?? 1e-5})`);
          }
        });
      }
      t.diagnostic(`${name}${be.device.shared ? ' (workgroup tiles)' : ' (one thread each)'}: ${cases.length} cases, max error ${worst.toExponential(2)} (relative to max(1, |ref|))`);
    });
  }
});
