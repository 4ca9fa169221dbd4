// Shapes, broadcasting, axes and the seeded generator.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { broadcastShapes, contiguousStrides, isContiguous, normalizeAxes, resolveShape } from '../../src/core/shape.js';
import { Generator } from '../../src/index.js';
import { dropout, dropoutBits, dropoutThreshold } from '../../src/kernels/ref/dropout.js';

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

test("dropout's counter-based mask: two draws of the stream for a key, then a fair and independent bit per element", () => {
  const a = new Generator(3);
  const b = new Generator(3);
  assert.deepEqual(a.dropoutKey(), [b.nextUint32(), b.nextUint32()]);
  assert.equal(a.nextUint32(), b.nextUint32(), 'a key costs the stream exactly two words');
  assert.equal(dropoutThreshold(0.5), 1 << 23);
  assert.equal(dropoutThreshold(1), 1 << 24);
  assert.equal(dropoutThreshold(1e-9), 1, 'any p > 0 drops something');
  const n = 200000;
  const mask = (key0: number, key1: number, p: number) => {
    const m = new Float32Array(n);
    dropout(new Float32Array(n).fill(1), m, { key0, key1, threshold: dropoutThreshold(p), scale: 1 });
    return m;
  };
  for (const p of [0.1, 0.5, 0.9]) {
    const m = mask(0x12345678, 0x9abcdef0, p);
    const kept = m.reduce((s, v) => s + v, 0);
    const sd = Math.sqrt(n * p * (1 - p));
    assert.ok(Math.abs(kept - n * (1 - p)) < 5 * sd, `p ${p}: ${kept} kept of ${n}`);
    // neighbours independent: both kept with probability (1 - p)²
    let both = 0;
    for (let i = 1; i < n; i++) both += m[i]! * m[i - 1]!;
    const q2 = (1 - p) ** 2;
    assert.ok(Math.abs(both - (n - 1) * q2) < 5 * Math.sqrt(n * q2 * (1 - q2)), `p ${p}: ${both} neighbouring pairs kept`);
    // another key (even one differing in a single bit) is an unrelated mask
    for (const [k0, k1] of [[0x12345679, 0x9abcdef0], [0x12345678, 0x9abcdef1], [0x9abcdef0, 0x12345678]] as const) {
      const o = mask(k0, k1, p);
      let agree = 0;
      for (let i = 0; i < n; i++) agree += m[i]! * o[i]!;
      assert.ok(Math.abs(agree - n * q2) < 5 * Math.sqrt(n * q2 * (1 - q2)), `p ${p}, key ${k0},${k1}: ${agree} kept in both`);
    }
  }
  // every one of the 32 bits is fair over consecutive indices (the mask uses the top 24)
  const ones = new Array<number>(32).fill(0);
  for (let i = 0; i < n; i++) {
    const h = dropoutBits(7, 11, i);
    for (let bit = 0; bit < 32; bit++) ones[bit]! += (h >>> bit) & 1;
  }
  for (let bit = 0; bit < 32; bit++) assert.ok(Math.abs(ones[bit]! - n / 2) < 5 * Math.sqrt(n / 4), `bit ${bit}: ${ones[bit]} ones`);
});
