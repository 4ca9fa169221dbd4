// chooseBackend in Node: WebGPU (Dawn's adapter) for a model large enough to gain, the CPU
// backend otherwise, with the reason; decideBackend's rule on its own (no adapter, emulated,
// small, large, thresholds changed). The browser entry's is tested in Chromium (test/browser).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chooseBackend, decideBackend, getBackend, setBackend } from '../../src/index.js';
import { webgpuSkip } from '../webgpu-setup.js';

test('decideBackend: the rule and its reasons', () => {
  const gpu = { name: 'Some GPU', emulated: false };
  assert.deepEqual(decideBackend({ params: 5e6 }, gpu), { backend: 'webgpu', reason: 'webgpu: the page has the GPU "Some GPU" and the model is large enough to gain (5M parameters)', adapter: 'Some GPU' });
  assert.equal(decideBackend({ flops: 2e9 }, gpu).backend, 'webgpu');
  assert.match(decideBackend({ params: 1e4, flops: 1e6 }, gpu).reason, /^wasm: the model is too small to gain from the GPU "Some GPU" \(10k parameters, 1M FLOPs a call; WebGPU from 1M parameters or 1G FLOPs a call\)$/);
  assert.equal(decideBackend({ params: 1e4 }, gpu, { minParams: 1e3 }).backend, 'webgpu');
  assert.match(decideBackend({}, gpu).reason, /no size given/);
  assert.deepEqual(decideBackend({ params: 5e6 }, 'no adapter here', {}, 'native'), { backend: 'native', reason: 'native: no adapter here', adapter: null });
  const emulated = { name: 'SwiftShader driver', emulated: true };
  assert.match(decideBackend({ params: 5e6 }, emulated).reason, /^wasm: the GPU adapter "SwiftShader driver" is a CPU emulation/);
  assert.equal(decideBackend({ params: 5e6 }, emulated, { allowEmulated: true }).backend, 'webgpu');
});

test('chooseBackend in Node: selects webgpu for a large model (emulated adapter allowed), keeps the CPU backend for a small one', { skip: webgpuSkip }, async () => {
  const before = getBackend().name;
  try {
    const small = await chooseBackend({ params: 1e4 }, { allowEmulated: true });
    assert.equal(small.backend, before);
    assert.equal(getBackend().name, before);
    assert.match(small.reason, new RegExp(`^${before}: the model is too small`));
    const large = await chooseBackend({ params: 5e6 }, { allowEmulated: true });
    assert.equal(large.backend, 'webgpu');
    assert.equal(getBackend().name, 'webgpu');
    const asked = await chooseBackend({ params: 5e6 }, { select: false });
    if (/swiftshader/i.test(asked.adapter ?? '')) assert.match(asked.reason, /is a CPU emulation/);
    assert.equal(getBackend().name, 'webgpu', 'select: false selects nothing');
  } finally {
    setBackend(before);
  }
});
