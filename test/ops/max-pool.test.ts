// maxPool: the max over an axis with its argmax in one kernel, the gradient one scatter to the
// argmax (PyTorch's max_pool1d over the whole axis). Gradients against finite differences on
// every backend; ties and NaN as PyTorch's CPU kernel; sizes that reach the native and wasm kernels.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as q from '../../src/index.js';
import { Generator } from '../../src/index.js';
import { assertClose, forEachBackend, gradcheck, leaf, values } from '../helpers.js';

forEachBackend('maxPool', () => {
  test('gradient over the last axis', () => gradcheck('maxPool', (x) => q.maxPool(x), [leaf([2, 3, 5], 1)]));
  test('gradient over a middle axis (a permuted copy)', () => gradcheck('maxPool', (x) => q.maxPool(x, 1), [leaf([2, 4, 3], 2)]));
  test('gradient through a transposed view and a relu (the char CNN)', () =>
    gradcheck('maxPool', (x) => q.maxPool(q.relu(x.transpose(1, 2)), -1), [leaf([3, 6, 4], 3)]));

  test('values and indices equal max and argmax', () => {
    const x = leaf([4, 3, 7], 4);
    for (const axis of [0, 1, 2]) {
      const { values: v, indices: i } = q.maxPoolWithIndices(x, axis);
      assert.deepEqual(values(v), values(q.max(x, axis)), `values over axis ${axis}`);
      assert.deepEqual(values(i), values(q.argmax(x, axis)), `indices over axis ${axis}`);
      assert.equal(i.dtype, 'int32');
    }
  });

  test('a tie sends the whole gradient to the first maximum; a NaN propagates', () => {
    const x = q.tensor([[1, 3, 3, 0], [2, Number.NaN, 5, Number.NaN], [-1, -1, -1, -1]], { requiresGrad: true });
    const { values: v, indices: i } = q.maxPoolWithIndices(x);
    assert.deepEqual(values(i), [1, 1, 0]);
    assert.ok(Number.isNaN(values(v)[1]!));
    v.backward(q.tensor([10, 20, 30]));
    assert.deepEqual(values(x.grad!), [0, 10, 0, 0, 0, 20, 0, 0, 30, 0, 0, 0]);
  });

  test('bad input: one line naming the op', () => {
    assert.throws(() => q.maxPool(q.zeros([2, 0])), /maxPool: max over an empty axis 1 of shape \[2, 0\]/);
    assert.throws(() => q.maxPool(q.tensor([1, 2], { dtype: 'int32' })), /maxPool: input must be float32/);
    assert.throws(() => q.maxPool(q.zeros([2, 3]), 2), /maxPool/);
  });
});

// the char CNN's shape on the default backends (native and wasm take calls this size; the op suites' -tiny ones take every call)
test('maxPool at the char CNN\'s size matches the reference on the default backend', () => {
  const g = new Generator(7);
  const n = 96 * 32 * 16;
  // few levels: many ties, the reference's first-maximum rule must hold in every kernel
  const xs = Float32Array.from({ length: n }, () => Math.floor(g.uniform() * 5));
  const dys = Float32Array.from({ length: n / 16 }, () => g.normal());
  const run = (backend: string) => {
    const before = q.getBackend().name;
    q.setBackend(backend);
    try {
      return q.tidy(() => {
        const x = q.tensor(xs, { shape: [96, 32, 16], requiresGrad: true });
        const { values: v, indices: i } = q.maxPoolWithIndices(x);
        v.backward(q.tensor(dys, { shape: [96, 32] }));
        return { v: values(v), i: values(i), dx: values(x.grad!) };
      });
    } finally {
      q.setBackend(before);
    }
  };
  const ref = run('ref');
  for (const b of q.listBackends().filter((n) => n === 'wasm' || n === 'native')) {
    const got = run(b);
    assert.deepEqual(got.i, ref.i, `${b}: indices`);
    assertClose(got.v, ref.v, `${b}: values`, 0, 0);
    assertClose(got.dx, ref.dx, `${b}: gradient`, 0, 0);
  }
});
