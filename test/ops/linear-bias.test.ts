// linear's bias in the product's kernel call (MatMulArgs.bias): on every backend the values and
// gradients equal matmul then add bit for bit, on the shapes that take each GEMM path (blocked over
// several KC slices, narrow, the one-row GEMV on W and on Wᵀ), with the bias a view that starts past
// its storage's first element; a strided bias takes the product-then-add path and agrees too.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as q from '../../src/index.js';
import { Generator } from '../../src/index.js';
import { forEachBackend } from '../helpers.js';

const arr = (t: q.Tensor) => Array.from(t.toTypedArray());

forEachBackend('linear with its bias in the product', () => {
  // [x shape, out features]: blocked with k over two KC slices; a batch of 3 stacked; narrow (n = 7); one row (GEMV on Wᵀ, k 700)
  const shapes: [number[], number][] = [[[33, 300], 65], [[3, 8, 16], 24], [[50, 20], 7], [[1, 700], 300]];
  for (const [xs, n] of shapes) {
    test(`x ${JSON.stringify(xs)}, ${n} outputs: values and every gradient equal matmul then add`, () => {
      const g = new Generator(31 + n);
      const k = xs[xs.length - 1]!;
      const x = q.randn(xs, { generator: g }).requiresGrad_(true);
      const w = q.randn([n, k], { generator: g }).requiresGrad_(true);
      const store = q.randn([n + 3], { generator: g }).requiresGrad_(true);
      const r = q.randn([...xs.slice(0, -1), n], { generator: g });
      const run = (f: (b: q.Tensor) => q.Tensor) => {
        for (const t of [x, w, store]) t.zeroGrad();
        const y = f(q.slice(store, 0, 3)); // a bias that starts at offset 3 of its storage
        q.sum(q.mul(y, r)).backward();
        return [arr(y), arr(x.grad!), arr(w.grad!), arr(store.grad!)];
      };
      const fused = run((b) => q.linear(x, w, b));
      const unfused = run((b) => q.add(q.matmul(x, q.transpose(w)), b));
      assert.deepEqual(fused, unfused);
      assert.deepEqual(fused[3]!.slice(0, 3), [0, 0, 0]);
    });
  }

  test('a strided bias (every other element) gives matmul then add too', () => {
    const g = new Generator(41);
    const x = q.randn([5, 12], { generator: g });
    const w = q.randn([6, 12], { generator: g });
    const b = q.slice(q.randn([12], { generator: g }), 0, 0, 12, 2);
    assert.deepEqual(arr(q.linear(x, w, b)), arr(q.add(q.matmul(x, q.transpose(w)), b)));
  });

  test('under noGrad: the same values', () => {
    const g = new Generator(42);
    const x = q.randn([1, 3072], { generator: g });
    const w = q.randn([768, 3072], { generator: g });
    const b = q.randn([768], { generator: g });
    assert.deepEqual(arr(q.noGrad(() => q.linear(x, w, b))), arr(q.noGrad(() => q.add(q.matmul(x, q.transpose(w)), b))));
  });
});

test('a backend that does not say it honours MatMulArgs.bias (written before it) never gets one: linear adds it after', () => {
  const name = 'linear-bias-legacy';
  if (!q.listBackends().includes(name)) {
    const { MatMul: matMul, ...rest } = q.referenceBackend.kernels;
    // a MatMul of the contract before the bias: it ignores the field, so handing it a bias would drop it silently
    q.registerBackend({ name, allocator: q.referenceBackend.allocator, kernels: { ...rest, MatMul: (x) => matMul({ ...x, bias: undefined }) } });
  }
  const previous = q.getBackend().name;
  q.setBackend(name);
  try {
    const g = new Generator(43);
    const x = q.randn([4, 6], { generator: g });
    const w = q.randn([5, 6], { generator: g });
    const b = q.randn([5], { generator: g });
    assert.deepEqual(arr(q.linear(x, w, b)), arr(q.add(q.matmul(x, q.transpose(w)), b)));
  } finally {
    q.setBackend(previous);
  }
});
