// nn.Dropout: identity in eval mode and at p = 0 without copying (a view of its input, as
// torch.nn.Dropout returns its input), gradients passing through; masks only while training.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Generator, nn, randn } from '../../src/index.js';

test('Dropout in eval mode and at p = 0 gives a view of its input with the gradient passing through', () => {
  const x = randn([2, 3, 4], { generator: new Generator(1) });
  x.requiresGrad = true;
  for (const d of [(() => { const m = new nn.Dropout(0.5); m.eval(); return m; })(), new nn.Dropout(0)]) {
    const y = d.forward(x);
    assert.notEqual(y, x, 'a handle of its own (safe to dispose alone)');
    assert.equal(y.storage, x.storage, 'no copy');
    assert.deepEqual(Array.from(y.toTypedArray()), Array.from(x.toTypedArray()));
    x.grad = null;
    y.mul(3).sum().backward();
    assert.deepEqual(Array.from(x.grad!.toTypedArray()), new Array(24).fill(3));
    y.dispose();
    assert.equal(x.isDisposed, false);
  }
});

test('Dropout of a strided view in eval mode still gives its values', () => {
  const x = randn([3, 4], { generator: new Generator(2) });
  const d = new nn.Dropout(0.1);
  d.eval();
  assert.deepEqual(d.forward(x.transpose()).toArray(), x.transpose().toArray());
});

test('Dropout in training zeroes about p of the elements and scales the rest', () => {
  const d = new nn.Dropout(0.5, new Generator(3));
  const y = d.forward(randn([1000], { generator: new Generator(4) }).abs().add(1)).toTypedArray();
  const zeros = y.filter((v) => v === 0).length;
  assert.ok(zeros > 400 && zeros < 600, `${zeros} zeros of 1000`);
  assert.ok(y.every((v) => v === 0 || v >= 2), 'kept values are scaled by 1/(1-p)');
});
