// Shapes, broadcasting, axes and the seeded generator.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { broadcastShapes, contiguousStrides, isContiguous, normalizeAxes, resolveShape } from '../../src/core/shape.js';
import { Generator } from '../../src/index.js';

test('broadcasting follows NumPy', () => {
  assert.deepEqual(broadcastShapes('t', [3, 1, 4], [2, 4]), [3, 2, 4]);
  assert.deepEqual(broadcastShapes('t', [], [2]), [2]);
  assert.deepEqual(broadcastShapes('t', [1], [0]), [0]);
  assert.throws(() => broadcastShapes('t', [3], [4]), /t: shapes \[3\] and \[4\] cannot be broadcast together/);
});

test('strides, contiguity, axes, shape inference', () => {
  assert.deepEqual(contiguousStrides([2, 3, 4]), [12, 4, 1]);
  assert.equal(isContiguous([2, 3], [3, 1]), true);
  assert.equal(isContiguous([2, 3], [1, 2]), false);
  assert.equal(isContiguous([1, 3], [99, 1]), true);
  assert.deepEqual(normalizeAxes('t', [-1, 0], 3), [0, 2]);
  assert.throws(() => normalizeAxes('t', [1, -2], 3), /repeated axis/);
  assert.deepEqual(resolveShape('t', [2, -1], 6), [2, 3]);
  assert.throws(() => resolveShape('t', [-1, -1], 6), /invalid shape/);
});

test('the generator is deterministic, uniform in [0,1), and its state round-trips', () => {
  const a = new Generator(7);
  const b = new Generator(7);
  const xs = Array.from({ length: 1000 }, () => a.uniform());
  assert.deepEqual(xs, Array.from({ length: 1000 }, () => b.uniform()));
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  assert.notDeepEqual(xs.slice(0, 5), Array.from({ length: 5 }, () => new Generator(8).uniform()));
  const s = a.getState();
  const next = [a.normal(), a.normal(), a.int(0, 10)];
  a.setState(s);
  assert.deepEqual([a.normal(), a.normal(), a.int(0, 10)], next);
  assert.deepEqual(new Generator(1).shuffle([1, 2, 3, 4, 5]).sort(), [1, 2, 3, 4, 5]);
});

test('fillMask gives exactly the mask and the state of a loop over uniform()', () => {
  for (const seed of [0, 1, 12345, 0xffffffff]) {
    for (const [n, p] of [[0, 0.5], [1, 0.5], [1000, 0.1], [4097, 0.5], [333, 0.9], [100, 1], [100, 1e-7], [64, 0.25]] as const) {
      const a = new Generator(seed);
      const b = new Generator(seed);
      a.uniform(); // an arbitrary point in the stream
      b.uniform();
      const scale = p === 1 ? 0 : 1 / (1 - p);
      const loop = new Float32Array(n).map(() => (a.uniform() >= p ? scale : 0));
      const fast = new Float32Array(n);
      b.fillMask(fast, p, scale);
      assert.deepEqual(fast, loop, `seed ${seed}, n ${n}, p ${p}`);
      assert.deepEqual(b.getState(), a.getState(), 'the same state after');
      assert.equal(b.nextUint32(), a.nextUint32());
    }
  }
  // p = 0.5 keeps about half, at exactly the threshold 2^23
  const m = new Float32Array(100000);
  new Generator(7).fillMask(m, 0.5, 2);
  const kept = m.reduce((s, v) => s + (v === 2 ? 1 : 0), 0);
  assert.ok(Math.abs(kept - 50000) < 1000, `${kept} kept`);
});
