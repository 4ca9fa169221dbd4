// The WebGPU backend's device layer and its faults: buffers return to a pool by size; a buffer a
// kernel both reads and writes is read from a copy; no adapter, a buffer over the GPU's limit, a
// shader that fails to compile and a lost device are each one line naming the backend and what
// to do; `qkv --backend webgpu` says so where no adapter can be had.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import * as q from '../../src/index.js';
import { createWebGpuBackend } from '../../src/index.js';
import { createWebGpuBackendNode } from '../../src/kernels/webgpu/node.js';
import { repoRoot } from '../fixtures.js';
import { webgpuBackend, webgpuSkip } from './webgpu-setup.js';

const oneLine = (pattern: RegExp) => (e: unknown) => {
  const m = (e as Error).message;
  assert.ok(!m.includes('\n'), `one line: ${m}`);
  assert.match(m, pattern);
  return true;
};

test('no adapter: one line naming the backend and what to do', async () => {
  const noGpu = { requestAdapter: async () => null } as unknown as GPU;
  await assert.rejects(createWebGpuBackend(noGpu), oneLine(/^webgpu: no GPU adapter is available here; use --backend native/));
});

test('freed buffers go back to a pool by size and are reused', { skip: webgpuSkip }, () => {
  const be = webgpuBackend();
  const before = be.stats();
  const a = be.allocator.allocate('float32', 1000);
  assert.equal(be.stats().liveBuffers, before.liveBuffers + 1);
  a.free();
  assert.equal(be.stats().liveBuffers, before.liveBuffers);
  const pooled = be.stats().pooledBuffers;
  const b = be.allocator.allocate('float32', 990); // the same size class: no new GPU buffer
  assert.equal(be.stats().pooledBuffers, pooled - 1);
  b.free();
  assert.throws(() => b.view(), /freed/);
});

test('an op writing into a buffer it also reads (in place) reads the values from before', { skip: webgpuSkip }, async () => {
  const be = webgpuBackend();
  const x = be.allocator.allocate('float32', 6);
  be.write!(x.view(), Float32Array.from([1, 2, 3, 4, 5, 6]), 0);
  // out = x[::-1] + x, written over x itself
  be.kernels.Add({ data: x.view(), offset: 5, strides: [-1] }, { data: x.view(), offset: 0, strides: [1] }, [6], x.view());
  assert.deepEqual(Array.from(await be.read!(x.view(), 'float32', 0, 6)), [7, 7, 7, 7, 7, 7]);
  x.free();
});

test('a buffer over the GPU\'s limit is one line', { skip: webgpuSkip }, () => {
  const be = webgpuBackend();
  const limit = be.device.device.limits.maxStorageBufferBindingSize;
  assert.throws(() => be.allocator.allocate('float32', Math.ceil(limit / 4) + 1024), oneLine(/^webgpu: a buffer of \d+ bytes is over this GPU's limit of \d+ bytes per buffer; use --backend native/));
});

test('a shader that fails to compile, and a lost device: one line each, on every later call', { skip: webgpuSkip }, async () => {
  // a device of its own: a fault stays with the device it happened on
  const be = await createWebGpuBackendNode({ name: 'webgpu-faulty' });
  const x = be.allocator.allocate('float32', 4);
  const bad = /^webgpu: a shader failed to compile on this GPU \(.*undefined_thing.*\); use --backend native/;
  // Dawn reports it during the call; a browser may report it later: then the next call throws it
  try {
    be.device.dispatch({ key: 'broken', fields: [['n', 'u32']], buffers: [['out', 'f32', true]], code: '@compute @workgroup_size(1) fn main() { out[0] = undefined_thing; }' },
      { n: 1 }, [{ b: x.view() as never, write: true }], [1]);
  } catch (e) {
    oneLine(bad)(e);
  }
  await assert.rejects(be.read!(x.view(), 'float32', 0, 4), oneLine(bad));
  assert.throws(() => be.kernels.Fill(x.view(), 1), /a shader failed to compile/);
  be.dispose();

  const lost = await createWebGpuBackendNode({ name: 'webgpu-lost' });
  lost.device.device.destroy(); // as if the driver reset
  await new Promise((r) => setTimeout(r, 50));
  assert.throws(() => lost.allocator.allocate('float32', 4), oneLine(/^webgpu: the GPU device was lost \(.*\); use --backend native/));
});

test('qkv --backend webgpu with no adapter: only qkv\'s one line (Dawn\'s own warnings under QKV_DEBUG=1), exit 1', { skip: webgpuSkip ? 'no adapter here anyway' : false }, () => {
  const r = spawnSync(process.execPath, ['dist/cli/qkv.js', '--backend', 'webgpu', 'info', 'no-such-run'], {
    cwd: repoRoot(), encoding: 'utf8', env: { ...process.env, VK_ICD_FILENAMES: '/nonexistent/icd.json', QKV_WEBGPU_SWIFTSHADER: '0' },
  });
  assert.equal(r.status, 1);
  assert.equal(r.stderr, 'qkv: webgpu: no GPU adapter is available here; use --backend native (or wasm)\n', 'nothing but the one line: the Vulkan loader\'s warnings stay in the probe\'s child');
  const debug = spawnSync(process.execPath, ['dist/cli/qkv.js', '--backend', 'webgpu', 'info', 'no-such-run'], {
    cwd: repoRoot(), encoding: 'utf8', env: { ...process.env, VK_ICD_FILENAMES: '/nonexistent/icd.json', QKV_WEBGPU_SWIFTSHADER: '0', QKV_DEBUG: '1' },
  });
  assert.equal(debug.status, 1);
  assert.match(debug.stderr, /webgpu probe \(Dawn's own messages\):\n[^]*vkCreateInstance/, 'QKV_DEBUG=1 shows what Dawn said');
});

test('the webgpu backend is a device: sync reads refused, async ones work', { skip: webgpuSkip }, async () => {
  const be = webgpuBackend();
  q.registerBackend(be);
  const t = q.Tensor.fromHost(Float32Array.from([1, 2, 3]), [3], be);
  assert.throws(() => t.toTypedArray(), /lives on the webgpu backend.*await t\.data\(\)/);
  assert.deepEqual(await t.mul(2).array(), [2, 4, 6]);
  t.dispose();
});
