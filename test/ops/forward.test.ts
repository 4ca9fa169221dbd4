// Op values against independent computations written out here (plain loops, known values),
// on every backend.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as q from '../../src/index.js';
import { Generator } from '../../src/index.js';
import { assertClose, forEachBackend, values } from '../helpers.js';

function naiveMatmul(a: number[][], b: number[][]): number[] {
  const out: number[] = [];
  for (let i = 0; i < a.length; i++) for (let j = 0; j < b[0]!.length; j++) {
    let s = 0;
    for (let p = 0; p < b.length; p++) s += a[i]![p]! * b[p]![j]!;
    out.push(s);
  }
  return out;
}

forEachBackend('forward', () => {
  test('matmul: every transpose variant and batch broadcast against the triple loop', () => {
    const g = new Generator(3);
    for (let trial = 0; trial < 20; trial++) {
      const [m, k, n] = [g.int(1, 6), g.int(1, 6), g.int(1, 6)];
      const A = q.randn([m, k], { generator: g });
      const B = q.randn([k, n], { generator: g });
      const expected = naiveMatmul(A.toArray() as number[][], B.toArray() as number[][]);
      assertClose(values(q.matmul(A, B)), expected, 'A@B');
      const At = q.randn([k, m], { generator: g });
      const Bt = q.randn([n, k], { generator: g });
      const e2 = naiveMatmul(At.transpose().toArray() as number[][], Bt.transpose().toArray() as number[][]);
      assertClose(values(q.matmul(At.transpose(), Bt.transpose())), e2, 'At^T @ Bt^T');
    }
    // [2,1,m,k] @ [3,k,n] -> [2,3,m,n]: each batch uses the right matrices
    const a = q.randn([2, 1, 2, 3], { generator: g });
    const b = q.randn([3, 3, 4], { generator: g });
    const y = q.matmul(a, b);
    assert.deepEqual(y.shape, [2, 3, 2, 4]);
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) {
      const e = naiveMatmul(a.select(0, i).select(0, 0).toArray() as number[][], b.select(0, j).toArray() as number[][]);
      assertClose(values(y.select(0, i).select(0, j)), e, `batch ${i},${j}`);
    }
  });

  test('matmul: a stack against one shared weight is one tall product, the same bits as each matrix alone', () => {
    const g = new Generator(5);
    const x = q.randn([3, 13, 20], { generator: g }); // [batch, time, features]
    const w = q.randn([7, 20], { generator: g }); // a Linear's [out, in]
    /** a @ b with the MatMul kernel calls it made: each call's batch and m. */
    const withCalls = (a: q.Tensor, b: q.Tensor) => {
      const kernels = q.getBackend().kernels;
      const mm = kernels.MatMul!;
      const calls: { batch: number; m: number }[] = [];
      kernels.MatMul = (args) => { calls.push({ batch: args.batch, m: args.m }); mm(args); };
      try {
        return { y: q.matmul(a, b), calls };
      } finally {
        kernels.MatMul = mm;
      }
    };
    const { y, calls } = withCalls(x, w.transpose());
    assert.deepEqual(calls, [{ batch: 1, m: 39 }], 'one product of batch·time rows');
    for (let b = 0; b < 3; b++) {
      assert.deepEqual(values(y.select(0, b)), values(q.matmul(x.select(0, b), w.transpose())), `matrix ${b}, bit for bit`);
    }
    // rows that do not run on from one matrix to the next (a strided time axis) stay a batch of products
    const xs = x.slice(1, 0, 13, 2);
    const { y: ys, calls: seen } = withCalls(xs, w.transpose());
    assert.equal(seen.length, 1);
    for (let b = 0; b < 3; b++) {
      const e = naiveMatmul(xs.select(0, b).toArray() as number[][], w.transpose().toArray() as number[][]);
      assertClose(values(ys.select(0, b)), e, `strided matrix ${b}`);
    }
  });

  test('conv1d against the direct sum', () => {
    const g = new Generator(4);
    const x = q.randn([2, 4, 9], { generator: g });
    const w = q.randn([6, 2, 3], { generator: g });
    const bias = q.randn([6], { generator: g });
    const [stride, pad, dil, groups] = [2, 1, 2, 2];
    const y = q.conv1d(x, w, bias, { stride, padding: pad, dilation: dil, groups });
    const X = x.toArray() as number[][][];
    const W = w.toArray() as number[][][];
    const Bv = values(bias);
    const outLen = Math.floor((9 + 2 * pad - dil * 2 - 1) / stride) + 1;
    assert.deepEqual(y.shape, [2, 6, outLen]);
    const expected: number[] = [];
    for (let b = 0; b < 2; b++) for (let co = 0; co < 6; co++) for (let t = 0; t < outLen; t++) {
      let s = Bv[co]!;
      const grp = Math.floor(co / 3);
      for (let c = 0; c < 2; c++) for (let k = 0; k < 3; k++) {
        const pos = t * stride - pad + k * dil;
        if (pos >= 0 && pos < 9) s += W[co]![c]![k]! * X[b]![grp * 2 + c]![pos]!;
      }
      expected.push(s);
    }
    assertClose(values(y), expected, 'conv1d');
    // even kernel: PyTorch pads 1 on the left, 2 on the right
    assert.deepEqual(q.conv1d(q.ones([1, 1, 6]), q.ones([1, 1, 4]), null, { padding: 'same' }).toArray(), [[[3, 4, 4, 4, 3, 2]]]);
  });

  test('softmax rows sum to 1 and survive huge logits; logSoftmax agrees', () => {
    const x = q.tensor([[1000, 1001, 999], [-1000, -1000, -1000]]);
    const s = q.softmax(x);
    assertClose(values(s.sum(1)), [1, 1], 'row sums');
    assert.ok(values(s).every(Number.isFinite));
    assertClose(values(q.logSoftmax(x)), values(s).map(Math.log), 'logSoftmax');
    assertClose(values(q.softmax(q.tensor([[0, Math.log(3)]]), 1)), [0.25, 0.75], 'known values');
  });

  test('reductions, arg-reductions, topk, cumsum', () => {
    const x = q.tensor([[3, 1, 2], [0, 5, 4]]);
    assert.deepEqual(x.sum(0).toArray(), [3, 6, 6]);
    assert.deepEqual(x.sum(1, true).toArray(), [[6], [9]]);
    assert.deepEqual(x.mean().item(), 2.5);
    assert.deepEqual(x.max(1).toArray(), [3, 5]);
    assert.deepEqual(x.min(0).toArray(), [0, 1, 2]);
    assertClose(values(x.var(1)), [1, 7], 'unbiased var');
    assertClose(values(x.var(1, { correction: 0 })), [2 / 3, 14 / 3], 'biased var');
    assert.deepEqual(x.argmax(1).toArray(), [0, 1]);
    assert.deepEqual(x.argmax().item(), 4);
    assert.deepEqual(x.argmin(0, true).toArray(), [[1, 0, 0]]);
    const { values: v, indices } = q.topk(q.tensor([[1, 9, 3, 9], [4, 2, 8, 6]]), 3);
    assert.deepEqual(v.toArray(), [[9, 9, 3], [8, 6, 4]]);
    assert.deepEqual(indices.toArray(), [[1, 3, 2], [2, 3, 0]]);
    assert.deepEqual(q.topk(x, 1, 0).indices.toArray(), [[0, 1, 1]]);
    assert.deepEqual(q.cumsum(x, 1).toArray(), [[3, 4, 6], [0, 5, 9]]);
    assert.deepEqual(q.cumsum(x, 0, { reverse: true }).toArray(), [[3, 6, 6], [0, 5, 4]]);
    assert.equal(q.sum(q.tensor([1, 2], { dtype: 'int32' })).dtype, 'int32');
  });

  test('views share memory; reshape of a non-contiguous view copies', () => {
    const x = q.arange(12).reshape([3, 4]);
    assert.equal(x.transpose().storage, x.storage);
    assert.equal(x.slice(1, 1, 3).storage, x.storage);
    assert.equal(x.expand([2, 3, 4]).storage, x.storage);
    assert.equal(x.unsqueeze(0).squeeze().storage, x.storage);
    assert.deepEqual(x.slice(1, 1, 4, 2).toArray(), [[1, 3], [5, 7], [9, 11]]);
    assert.deepEqual(x.slice(0, -1).toArray(), [[8, 9, 10, 11]]);
    assert.deepEqual(x.select(1, -1).toArray(), [3, 7, 11]);
    const t = x.transpose().reshape([12]);
    assert.notEqual(t.storage, x.storage);
    assert.deepEqual(t.toArray(), [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
    assert.deepEqual(q.flatten(q.zeros([2, 3, 4]), 1).shape, [2, 12]);
    assert.throws(() => q.view(x.transpose(), [12]), /view: input of shape \[4, 3\] is not contiguous/);
  });

  test('concat, stack, split, chunk, pad', () => {
    const a = q.tensor([[1, 2], [3, 4]]);
    const b = q.tensor([[5, 6]]);
    assert.deepEqual(q.concat([a, b], 0).toArray(), [[1, 2], [3, 4], [5, 6]]);
    assert.deepEqual(q.concat([a, b.transpose()], 1).toArray(), [[1, 2, 5], [3, 4, 6]]);
    assert.deepEqual(q.stack([a, a], 2).shape, [2, 2, 2]);
    assert.deepEqual(q.split(q.arange(5), 2).map((t) => t.toArray()), [[0, 1], [2, 3], [4]]);
    assert.deepEqual(q.chunk(q.arange(6), 3).map((t) => t.toArray()), [[0, 1], [2, 3], [4, 5]]);
    assert.deepEqual(q.pad(a, [1, 0, 0, 1], 9).toArray(), [[9, 1, 2], [9, 3, 4], [9, 9, 9]]);
  });

  test('where, maskedFill, comparisons, clamp, cast', () => {
    const x = q.tensor([[1, -2, 3]]);
    assert.deepEqual(q.where(x.gt(0), x, 0).toArray(), [[1, 0, 3]]);
    assert.deepEqual(x.maskedFill(q.tensor([1, 0, 1], { dtype: 'int32' }), -9).toArray(), [[-9, -2, -9]]);
    assert.deepEqual(x.ge(1).toArray(), [[1, 0, 1]]);
    assert.equal(x.eq(3).dtype, 'int32');
    assert.deepEqual(x.clamp(-1, 2).toArray(), [[1, -1, 2]]);
    assert.deepEqual(q.tensor([1.7, -1.7]).cast('int32').toArray(), [1, -1]);
    assert.equal(q.div(q.tensor([1], { dtype: 'int32' }), 2).item(), 0.5);
    assert.equal(q.add(q.tensor([1], { dtype: 'int32' }), 2).dtype, 'int32');
  });

  test('activations at known points', () => {
    const x = q.tensor([-1, 0, 1]);
    assertClose(values(q.gelu(x)), [-0.15865525393145707, 0, 0.8413447460685429], 'gelu erf');
    assertClose(values(q.gelu(x, 'tanh')), [-0.15880800939172324, 0, 0.8411919906082768], 'gelu tanh');
    assertClose(values(q.elu(x, 2)), [2 * (Math.exp(-1) - 1), 0, 1], 'elu');
    assertClose(values(q.softplus(q.tensor([0, 30]))), [Math.log(2), 30], 'softplus');
    assertClose(values(q.sigmoid(q.tensor([-100, 0, 100]))), [0, 0.5, 1], 'sigmoid');
    assertClose(values(q.rsqrt(q.tensor([4]))), [0.5], 'rsqrt');
  });

  test('layerNorm: zero mean, unit variance per row', () => {
    const y = q.layerNorm(q.randn([5, 16], { generator: new Generator(1), mean: 3, std: 2 }), [16]);
    assertClose(values(y.mean(1)), [0, 0, 0, 0, 0], 'mean', 1e-5);
    assertClose(values(y.var(1, { correction: 0 })), [1, 1, 1, 1, 1], 'var', 1e-3);
  });

  test('crossEntropy: label smoothing and ignore index follow the formula', () => {
    const logits = q.tensor([[2, 0, -1], [0.5, 0.5, 3]]);
    const t = q.tensor([0, 2], { dtype: 'int32' });
    const lp = q.logSoftmax(logits).toArray() as number[][];
    const eps = 0.2;
    const per = [0, 1].map((r) => -(1 - eps) * lp[r]![[0, 2][r]!]! - (eps / 3) * lp[r]!.reduce((a, b) => a + b, 0));
    assertClose([q.crossEntropy(logits, t, { labelSmoothing: eps }).item()], [(per[0]! + per[1]!) / 2], 'mean');
    const ignored = q.tensor([0, -100], { dtype: 'int32' });
    assertClose([q.crossEntropy(logits, ignored).item()], [-lp[0]![0]!], 'ignored row');
    assert.ok(Number.isNaN(q.crossEntropy(logits, q.tensor([-100, -100], { dtype: 'int32' })).item()), 'nothing counted: NaN, as PyTorch');
  });

  test('dropout: seeded, scaled, off in eval', () => {
    const x = q.ones([10000]);
    const y = q.dropout(x, 0.25, true, new Generator(5));
    const v = values(y);
    const kept = v.filter((z) => z !== 0);
    assert.ok(Math.abs(kept.length / 10000 - 0.75) < 0.02, `kept ${kept.length}`);
    assert.ok(kept.every((z) => Math.abs(z - 4 / 3) < 1e-6));
    assert.deepEqual(values(q.dropout(x, 0.25, true, new Generator(5))), v, 'same seed, same mask');
    // the mask is the reference kernel's for the generator's key, bit for bit, on every backend
    const [key0, key1] = new Generator(5).dropoutKey();
    const expected = new Float32Array(10000);
    q.referenceBackend.kernels.Dropout(new Float32Array(10000).fill(1), expected, { key0, key1, threshold: 1 << 22, scale: 4 / 3 });
    assert.deepEqual(v, Array.from(expected), 'the reference mask');
    assert.deepEqual(values(q.dropout(x, 0.25, false)), values(x));
  });

  test('creation: shapes, ranges, seeded random', () => {
    assert.deepEqual(q.arange(3).toArray(), [0, 1, 2]);
    assert.equal(q.arange(3).dtype, 'int32');
    assertClose(values(q.arange(0, 1, 0.25)), [0, 0.25, 0.5, 0.75], 'float arange');
    assert.deepEqual(q.full([2], 7).toArray(), [7, 7]);
    assert.deepEqual(q.tensor(5).shape, []);
    assert.deepEqual(q.tensor([]).shape, [0]);
    const r = values(q.randn([20000], { generator: new Generator(9) }));
    const mean = r.reduce((a, b) => a + b) / r.length;
    const std = Math.sqrt(r.reduce((a, b) => a + (b - mean) ** 2, 0) / r.length);
    assert.ok(Math.abs(mean) < 0.03 && Math.abs(std - 1) < 0.03, `mean ${mean} std ${std}`);
    const u = values(q.rand([1000], { low: 2, high: 3 }));
    assert.ok(u.every((z) => z >= 2 && z < 3));
    const ints = values(q.randint(-2, 3, [1000]));
    assert.deepEqual([...new Set(ints)].sort(), [-1, -2, 0, 1, 2].sort());
    q.manualSeed(42);
    const first = values(q.randn([5]));
    q.manualSeed(42);
    assert.deepEqual(values(q.randn([5])), first);
  });

  test('printing like PyTorch', () => {
    assert.equal(String(q.tensor([[1, 2], [3, 4]])), 'tensor([[1., 2.],\n        [3., 4.]])');
    assert.equal(String(q.tensor([0.5, -1.25])), 'tensor([ 0.5000, -1.2500])');
    assert.equal(String(q.arange(3)), 'tensor([0, 1, 2], dtype=int32)');
    assert.equal(String(q.tensor(3.5)), 'tensor(3.5000)');
    assert.match(String(q.zeros([40, 40])), /\.\.\..*shape=\[40, 40\]/s);
    assert.match(String(q.tensor([1], { requiresGrad: true }).mul(2)), /gradFn=mul/);
    assert.deepEqual(q.tensor([[1, 2]]).toArray(), [[1, 2]]);
  });
});
