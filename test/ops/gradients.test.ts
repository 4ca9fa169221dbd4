// Every op's gradient against central finite differences, on random small shapes, with
// broadcast inputs and non-contiguous views, on every backend.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as q from '../../src/index.js';
import { Generator, type Tensor } from '../../src/index.js';
import { awayFromZero, forEachBackend, gradcheck, leaf, positive } from '../helpers.js';

/** A random shape of `rank` dims, each 1..4 (seeded, so failures reproduce). */
function shape(rank: number, seed: number): number[] {
  const g = new Generator(seed);
  return Array.from({ length: rank }, () => g.int(1, 5));
}

forEachBackend('gradients', () => {
  // ---- unary
  const unary: [string, (x: Tensor) => Tensor, ((g: Generator) => number)?][] = [
    ['neg', q.neg], ['exp', q.exp], ['log', q.log, positive], ['sqrt', q.sqrt, positive], ['rsqrt', q.rsqrt, positive],
    ['abs', q.abs, awayFromZero], ['tanh', q.tanh], ['sigmoid', q.sigmoid], ['relu', q.relu, awayFromZero],
    ['gelu (erf)', (x) => q.gelu(x)], ['gelu (tanh)', (x) => q.gelu(x, 'tanh')], ['elu', (x) => q.elu(x, 0.7), awayFromZero],
    ['softplus', q.softplus], ['clamp', (x) => q.clamp(x, -0.5, 0.6), awayFromZero],
  ];
  for (const [i, [name, f, draw]] of unary.entries()) {
    test(`${name}`, () => gradcheck(name, f, [leaf(shape(3, i), i, draw)]));
    test(`${name} of a transposed view`, () => gradcheck(name, (x) => f(x.transpose(0, 2)), [leaf(shape(3, 100 + i), i, draw)]));
    // a contiguous view at an offset (select, slice) is not a whole buffer: kernels must copy it
    test(`${name} of a contiguous view at an offset`, () => gradcheck(name, (x) => f(x.select(0, 1)), [leaf([2, 3], 150 + i, draw)]));
  }

  test('relu: the zeroed positions pass no gradient, not even a NaN or an infinite one (PyTorch threshold_backward)', () => {
    const x = q.tensor([-1, 2, -3, 4, 0]).requiresGrad_();
    q.relu(x).backward(q.tensor([NaN, 1, Infinity, 2, -Infinity]));
    assert.deepEqual(Array.from(x.grad!.toTypedArray()), [0, 1, 0, 2, 0]);
  });

  // ---- binary, with broadcasting
  // maximum/minimum have a kink where a = b: a smaller step keeps the differences off it
  const binary: [string, (a: Tensor, b: q.TensorLike) => Tensor, ((g: Generator) => number)?, number?][] = [
    ['add', q.add], ['sub', q.sub], ['mul', q.mul], ['div', q.div, positive], ['pow', q.pow, positive],
    ['maximum', q.maximum, undefined, 1e-3], ['minimum', q.minimum, undefined, 1e-3],
  ];
  for (const [i, [name, f, draw, eps]] of binary.entries()) {
    test(`${name}`, () => gradcheck(name, f, [leaf([2, 3], i, draw), leaf([2, 3], 50 + i, draw)], { eps }));
    test(`${name} broadcast [3,1,4] with [2,4]`, () => gradcheck(name, f, [leaf([3, 1, 4], i, draw), leaf([2, 4], 60 + i, draw)], { eps }));
    test(`${name} with a strided slice`, () =>
      gradcheck(name, (a, b) => f(a.slice(1, 0, 4, 2), b), [leaf([2, 4], i, draw), leaf([2, 2], 70 + i, draw)], { eps }));
    test(`${name} with a number`, () => gradcheck(name, (a) => f(a, 1.5), [leaf([3, 2], i, draw)], { eps }));
  }
  test('where (both branches, broadcast condition)', () => {
    const cond = q.tensor([[1], [0], [1]], { dtype: 'int32' });
    gradcheck('where', (a, b) => q.where(cond, a, b), [leaf([3, 4], 1), leaf([4], 2)]);
  });
  test('maskedFill', () => {
    const mask = q.tensor([[1, 0, 0], [0, 1, 0]], { dtype: 'int32' });
    gradcheck('maskedFill', (a) => q.maskedFill(a.transpose(), mask.transpose(), -1e9).softmax(0), [leaf([2, 3], 3)]);
  });

  // ---- reductions
  const reductions: [string, (x: Tensor) => Tensor][] = [
    ['sum all', (x) => q.sum(x)], ['sum axis 1 keepdim', (x) => q.sum(x, 1, true)], ['sum axes [0,2]', (x) => q.sum(x, [0, 2])],
    ['mean all', (x) => q.mean(x)], ['mean axis -1', (x) => q.mean(x, -1)], ['mean axes [0,1] keepdim', (x) => q.mean(x, [0, 1], true)],
    ['max axis 1', (x) => q.max(x, 1)], ['max all', (x) => q.max(x)], ['min axis 0 keepdim', (x) => q.min(x, 0, true)],
    ['var axis 2', (x) => q.variance(x, 2)], ['var all biased', (x) => q.variance(x, undefined, { correction: 0 })],
    ['var axes [0,2] keepdim', (x) => q.variance(x, [0, 2], { keepdim: true })],
  ];
  for (const [i, [name, f]] of reductions.entries()) {
    const s = shape(3, 200 + i).map((d) => d + 1);
    test(name, () => gradcheck(name, f, [leaf(s, i)]));
    test(`${name} of a permuted view`, () => gradcheck(name, (x) => f(x.permute([2, 0, 1])), [leaf(s, 300 + i)]));
  }
  test('cumsum forward and reverse', () => {
    gradcheck('cumsum', (x) => q.cumsum(x, 1), [leaf([2, 4, 3], 1)]);
    gradcheck('cumsum reverse', (x) => q.cumsum(x.transpose(0, 1), 0, { reverse: true }), [leaf([2, 4, 3], 2)]);
  });

  // ---- matmul
  test('matmul 2-d', () => gradcheck('matmul', q.matmul, [leaf([3, 4], 1), leaf([4, 2], 2)]));
  test('matmul batched with broadcast batch dims', () => gradcheck('matmul', q.matmul, [leaf([2, 1, 3, 4], 3), leaf([3, 4, 2], 4)]));
  test('matmul of transposed views', () => gradcheck('matmul', (a, b) => q.matmul(a.transpose(), b.transpose()), [leaf([4, 3], 5), leaf([2, 4], 6)]));
  test('matmul vector cases', () => {
    gradcheck('matmul v@M', q.matmul, [leaf([4], 7), leaf([4, 3], 8)]);
    gradcheck('matmul M@v', q.matmul, [leaf([2, 3, 4], 9), leaf([4], 10)]);
  });
  test('linear', () => gradcheck('linear', q.linear, [leaf([2, 3, 4], 11), leaf([5, 4], 12), leaf([5], 13)]));

  // ---- normalisation, losses, lookup
  test('softmax along each axis', () => {
    for (const axis of [0, 1, -1]) gradcheck(`softmax(${axis})`, (x) => q.softmax(x, axis), [leaf([2, 3, 4], axis + 20)]);
  });
  test('logSoftmax along each axis', () => {
    for (const axis of [0, 1, 2]) gradcheck(`logSoftmax(${axis})`, (x) => q.logSoftmax(x.transpose(0, 2), axis), [leaf([2, 3, 4], axis + 30)]);
  });
  test('layerNorm with weight and bias', () =>
    gradcheck('layerNorm', (x, w, b) => q.layerNorm(x, [4], w, b), [leaf([2, 3, 4], 1), leaf([4], 2), leaf([4], 3)]));
  test('layerNorm over two dims of a view, no affine', () =>
    gradcheck('layerNorm', (x) => q.layerNorm(x.transpose(0, 1), [2, 4]), [leaf([2, 3, 4], 4)]));
  test('embedding (repeated ids, padding row)', () => {
    const ids = q.tensor([[0, 2, 2], [3, 0, 1]], { dtype: 'int32' });
    gradcheck('embedding', (w) => q.embedding(ids, w), [leaf([4, 3], 5)]);
    // with paddingIdx the padding row gets no gradient (PyTorch's convention, not the math)
    const w = leaf([4, 3], 6);
    q.embedding(ids, w, 2).sum().backward();
    assert.deepEqual(Array.from(w.grad!.toTypedArray()), [2, 2, 2, 1, 1, 1, 0, 0, 0, 1, 1, 1]);
  });
  test('crossEntropy with ignore index and label smoothing', () => {
    const targets = q.tensor([[1, 0, -100], [2, 2, 1]], { dtype: 'int32' });
    gradcheck('crossEntropy', (x) => q.crossEntropy(x, targets, { labelSmoothing: 0.1 }), [leaf([2, 3, 4], 7)]);
    gradcheck('crossEntropy sum', (x) => q.crossEntropy(x, targets, { reduction: 'sum' }), [leaf([2, 3, 4], 8)]);
    gradcheck('crossEntropy none', (x) => q.crossEntropy(x.transpose(0, 1), targets, { reduction: 'none' }), [leaf([3, 2, 4], 9)]);
  });
  test('mseLoss', () => gradcheck('mseLoss', q.mseLoss, [leaf([3, 2], 1), leaf([3, 2], 2)]));
  test('dropout (same seed each evaluation)', () =>
    gradcheck('dropout', (x) => q.dropout(x, 0.3, true, new Generator(7)), [leaf([4, 5], 10)]));
  test('dropout of a transposed view (the mask follows the view\'s row-major order; the backward recomputes it)', () =>
    gradcheck('dropout', (x) => q.dropout(x.transpose(0, 1), 0.5, true, new Generator(3)), [leaf([4, 5], 11)]));

  // ---- convolution
  test('conv1d with padding and dilation, bias', () =>
    gradcheck('conv1d', (x, w, b) => q.conv1d(x, w, b, { padding: 2, dilation: 2 }), [leaf([2, 3, 7], 1), leaf([4, 3, 3], 2), leaf([4], 3)]));
  test('conv1d with stride, groups and same padding', () => {
    gradcheck('conv1d stride', (x, w) => q.conv1d(x, w, null, { stride: 2, groups: 2, padding: 1 }), [leaf([1, 4, 6], 4), leaf([2, 2, 3], 5)]);
    gradcheck('conv1d same', (x, w) => q.conv1d(x, w, null, { padding: 'same' }), [leaf([2, 2, 5], 6), leaf([3, 2, 4], 7)]);
  });
  test('conv1d of a transposed input', () =>
    gradcheck('conv1d', (x, w) => q.conv1d(x.transpose(1, 2), w), [leaf([2, 6, 3], 8), leaf([2, 3, 2], 9)]));

  // ---- joining and views
  test('concat along an axis, mixed views', () =>
    gradcheck('concat', (a, b) => q.concat([a, b.transpose()], 1), [leaf([3, 2], 1), leaf([4, 3], 2)]));
  test('stack', () => gradcheck('stack', (a, b) => q.stack([a, b], 1), [leaf([2, 3], 3), leaf([2, 3], 4)]));
  test('split and chunk', () => {
    gradcheck('split', (a) => { const [x, y, z] = q.split(a, [1, 2, 1], 1); return q.add(q.mul(x!, 2), q.sum(y!, 1, true)).mul(z!); }, [leaf([2, 4], 5)]);
    gradcheck('chunk', (a) => { const [x, y] = q.chunk(a, 2, 0); return q.mul(x!, y!); }, [leaf([4, 3], 6)]);
  });
  test('pad the last two dims', () => gradcheck('pad', (a) => q.pad(a, [1, 2, 0, 1], 0.5).exp(), [leaf([2, 2, 3], 7)]));
  test('reshape, flatten, squeeze, unsqueeze, expand, select, slice with step', () => {
    gradcheck('reshape of a view', (a) => a.transpose().reshape([2, -1]).exp(), [leaf([3, 4], 8)]);
    gradcheck('flatten', (a) => q.flatten(a, 1).mul(q.arange(12).cast('float32')), [leaf([2, 3, 4], 9)]);
    gradcheck('squeeze/unsqueeze', (a) => a.unsqueeze(1).squeeze(2).mul(a.unsqueeze(0)), [leaf([3, 1], 10)]);
    gradcheck('expand', (a) => a.expand([4, 3, -1]).mul(q.arange(12).cast('float32').reshape([4, 3, 1])), [leaf([3, 1], 11)]);
    gradcheck('select', (a) => a.select(1, -1).mul(a.select(0, 0)), [leaf([3, 3], 12)]);
    gradcheck('slice step', (a) => a.slice(0, 1, undefined, 2).tanh(), [leaf([5, 2], 13)]);
  });
  test('row-wise and fused ops of contiguous views at an offset', () => {
    gradcheck('softmax', (x) => q.softmax(x.select(0, 1), -1), [leaf([2, 3, 4], 40)]);
    gradcheck('logSoftmax', (x) => q.logSoftmax(x.slice(0, 1, 2), -1), [leaf([3, 4], 41)]);
    gradcheck('layerNorm', (x, w, b) => q.layerNorm(x.select(0, 1), [4], w.select(0, 1), b.slice(0, 2, 6)), [leaf([2, 3, 4], 42), leaf([2, 4], 43), leaf([6], 44)]);
    gradcheck('matmul', (a, b) => q.matmul(a.select(0, 1), b.select(0, 1)), [leaf([2, 3, 4], 45), leaf([2, 4, 2], 46)]);
    gradcheck('conv1d', (x, w) => q.conv1d(x.select(0, 1), w.select(0, 1)), [leaf([2, 1, 2, 5], 47), leaf([2, 3, 2, 2], 48)]);
    gradcheck('crossEntropy', (x) => q.crossEntropy(x.select(0, 1), q.tensor([0, 2, 1], { dtype: 'int32' })), [leaf([2, 3, 4], 49)]);
    gradcheck('flashAttention', (a, b, c) => q.flashAttention(a.select(0, 1), b.select(0, 1), c.select(0, 1), { causal: true }),
      [leaf([2, 1, 1, 3, 4], 50), leaf([2, 1, 1, 3, 4], 51), leaf([2, 1, 1, 3, 4], 52)]);
    gradcheck('embedding', (w) => q.embedding(q.tensor([[0, 1], [2, 1]], { dtype: 'int32' }).select(0, 1), w.select(0, 1)), [leaf([2, 3, 2], 53)]);
  });
  test('a value used twice accumulates both gradients', () => gradcheck('reuse', (a) => a.mul(a).add(a.exp()), [leaf([3], 14)]));
});
