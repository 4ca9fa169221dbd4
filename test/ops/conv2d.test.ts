// unfold2d (ViT patches / im2col), conv2d and maxPool2d: a 4×4 example by hand, conv2d
// against a direct loop, and every gradient against finite differences.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as q from '../../src/index.js';
import { assertClose, gradcheck, leaf, throwsOp, values } from '../helpers.js';

describe('unfold2d', () => {
  test('2×2 patches of a 4×4 image, by hand', () => {
    // pixel (r, c) = 10r + c; patch order row-major, each patch flattened row-major
    const x = q.tensor(Float32Array.from({ length: 16 }, (_, i) => 10 * Math.floor(i / 4) + (i % 4)), { shape: [1, 1, 4, 4] });
    const p = q.unfold2d(x, 2);
    assert.deepEqual(p.shape, [1, 4, 4]);
    assert.deepEqual(p.toArray(), [[
      [0, 1, 10, 11], [2, 3, 12, 13],
      [20, 21, 30, 31], [22, 23, 32, 33],
    ]]);
  });

  test('two channels: each patch is channel 0 then channel 1; stride 1 with padding is im2col', () => {
    const x = q.tensor(Float32Array.from({ length: 32 }, (_, i) => i), { shape: [1, 2, 4, 4] });
    const p = q.unfold2d(x, 2);
    assert.deepEqual((p.toArray() as number[][][])[0]![1], [2, 3, 6, 7, 18, 19, 22, 23]);
    const cols = q.unfold2d(q.ones([1, 1, 3, 3]), 3, { stride: 1, padding: 1 });
    assert.deepEqual(cols.shape, [1, 9, 9]);
    // the centre patch sees all nine ones, a corner patch four
    assert.equal(values(cols).slice(4 * 9, 5 * 9).reduce((a, b) => a + b), 9);
    assert.equal(values(cols).slice(0, 9).reduce((a, b) => a + b), 4);
  });

  test('gradient', () => gradcheck('unfold2d', (x) => q.unfold2d(x, 2, { stride: 1, padding: 1 }), [leaf([2, 2, 3, 4], 1)]));
});

describe('conv2d', () => {
  /** F.conv2d by its definition. */
  function direct(x: q.Tensor, w: q.Tensor, b: q.Tensor, stride: number, padding: number): number[] {
    const [B, C, H, W] = x.shape as number[];
    const [O, , kh, kw] = w.shape as number[];
    const [xv, wv, bv] = [values(x), values(w), values(b)];
    const Ho = Math.floor((H! + 2 * padding - kh!) / stride) + 1;
    const Wo = Math.floor((W! + 2 * padding - kw!) / stride) + 1;
    const out: number[] = [];
    for (let n = 0; n < B!; n++) for (let o = 0; o < O!; o++) for (let r = 0; r < Ho; r++) for (let s = 0; s < Wo; s++) {
      let acc = bv[o]!;
      for (let c = 0; c < C!; c++) for (let i = 0; i < kh!; i++) for (let j = 0; j < kw!; j++) {
        const [y, z] = [r * stride + i - padding, s * stride + j - padding];
        if (y >= 0 && y < H! && z >= 0 && z < W!) acc += xv[((n * C! + c) * H! + y) * W! + z]! * wv[((o * C! + c) * kh! + i) * kw! + j]!;
      }
      out.push(acc);
    }
    return out;
  }

  test('equals the direct sum (stride 1 padding 1, stride 2 no padding, 3×2 kernel)', () => {
    const [x, b] = [leaf([2, 3, 5, 6], 2), leaf([4], 3)];
    for (const [w, stride, padding] of [[leaf([4, 3, 3, 3], 4), 1, 1], [leaf([4, 3, 3, 2], 5), 2, 0]] as const) {
      const y = q.conv2d(x, w, b, { stride, padding });
      assertClose(values(y), direct(x, w, b, stride, padding), `conv2d stride ${stride}`, 1e-5, 1e-5);
    }
  });

  test('gradients of input, weight and bias', () =>
    gradcheck('conv2d', (x, w, b) => q.conv2d(x, w, b, { padding: 1 }), [leaf([2, 2, 4, 3], 6), leaf([3, 2, 3, 3], 7), leaf([3], 8)]));

  test('maxPool2d values and gradient', () => {
    const x = q.tensor([[[[1, 5, 2, 0], [3, 4, 8, 1], [0, 0, 1, 1], [9, 0, 1, 2]]]]);
    assert.deepEqual(q.maxPool2d(x, 2).toArray(), [[[[5, 8], [9, 2]]]]);
    gradcheck('maxPool2d', (x) => q.maxPool2d(x, 2), [leaf([1, 2, 4, 4], 9)]);
  });

  test('errors name the op and the shapes', () => {
    throwsOp(() => q.unfold2d(q.ones([3, 4, 4]), 2), 'unfold2d', /\[batch, channels, height, width\], got \[3, 4, 4\]/);
    throwsOp(() => q.conv2d(q.ones([1, 2, 4, 4]), q.ones([1, 3, 3, 3])), 'conv2d', /has 2 channels, weight \[1, 3, 3, 3\] expects 3/);
    throwsOp(() => q.unfold2d(q.ones([1, 1, 2, 2]), 3), 'unfold2d', /smaller than the 3×3 kernel/);
    throwsOp(() => q.maxPool2d(q.ones([1, 1, 5, 4]), 2), 'maxPool2d', /multiples of the pool size 2/);
  });
});
