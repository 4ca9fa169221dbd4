// The kernel contract: dispatch by name, fallback to the reference, and the WebAssembly heap.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as q from '../../src/index.js';
import { HeapAllocator, referenceBackend, type KernelSignatures } from '../../src/index.js';
import { UNARY_KERNELS, BINARY_KERNELS } from '../../src/kernels/contract.js';

test('the reference backend implements every kernel of the contract', () => {
  const names = Object.keys(referenceBackend.kernels);
  for (const k of [...UNARY_KERNELS, ...BINARY_KERNELS, 'MatMul', 'Softmax', 'LayerNormGrad', 'Conv1dGradWeight', 'CrossEntropyGrad', 'TopK', 'Cumsum', 'ScatterAdd']) {
    assert.ok(names.includes(k), `missing ${k}`);
  }
  for (const [name, fn] of Object.entries(referenceBackend.kernels)) assert.equal(typeof fn, 'function', name);
});

test('a backend that registers one kernel gets it dispatched; the rest fall back to the reference', () => {
  let calls = 0;
  const matMul: KernelSignatures['MatMul'] = (args) => {
    calls++;
    referenceBackend.kernels.MatMul(args);
  };
  q.registerBackend({ name: 'spy', allocator: new HeapAllocator(), kernels: { MatMul: matMul } });
  const previous = q.getBackend().name;
  q.setBackend('spy');
  try {
    assert.equal(q.getBackend().name, 'spy');
    const y = q.matmul(q.ones([2, 3]), q.ones([3, 4])).relu().sum();
    assert.equal(y.item(), 24);
    assert.equal(calls, 1);
  } finally {
    q.setBackend(previous);
  }
  assert.throws(() => q.setBackend('nope'), /no backend named "nope" \(registered: ref/);
});

test('heap allocator: 64-byte aligned, reuses freed blocks, merges neighbours, lowers the top', () => {
  const heap = new HeapAllocator({ initialPages: 1 });
  const a = heap.allocate('float32', 10);
  const b = heap.allocate('float32', 10);
  const c = heap.allocate('int32', 3);
  for (const x of [a, b, c]) assert.equal(x.view().byteOffset % 64, 0);
  assert.equal(heap.stats().used, 192);
  b.free();
  const d = heap.allocate('float32', 16); // fits exactly where b was
  assert.equal(d.view().byteOffset, 128);
  a.free();
  d.free();
  assert.equal(heap.stats().freeBlocks, 1, 'a and d merged');
  c.free();
  assert.deepEqual([heap.stats().used, heap.stats().freeBlocks], [0, 0]);
  assert.throws(() => c.view(), /freed/);
});

test('heap allocator: growing the memory detaches old buffers, and tensors re-read their view', () => {
  const heap = new HeapAllocator({ initialPages: 1 });
  q.registerBackend({ name: 'tiny-heap', allocator: heap, kernels: {} });
  const previous = q.getBackend().name;
  q.setBackend('tiny-heap');
  try {
    const x = q.arange(0, 100, 1, { dtype: 'float32' });
    const oldBuffer = x.storage.data.buffer;
    const big = q.zeros([100000]); // forces memory.grow
    assert.ok(heap.stats().capacity > 65536);
    assert.equal(oldBuffer.byteLength, 0, 'the old ArrayBuffer was detached by grow');
    assert.equal(x.sum().item(), 4950, 'x still reads right through a fresh view');
    assert.equal(x.storage.data.buffer, heap.memory.buffer, 'tensors live in the WebAssembly memory itself');
    big.dispose();
  } finally {
    q.setBackend(previous);
  }
});
