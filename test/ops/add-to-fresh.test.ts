// addToFresh / geluToFresh: a sum (linear's bias, a LoRA update, a residual) or a GELU written over
// a tensor the caller just made: the values and gradients of add and gelu, one buffer fewer; on
// every backend.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as q from '../../src/index.js';
import { Generator } from '../../src/index.js';
import { forEachBackend } from '../helpers.js';

const arr = (t: q.Tensor) => Array.from(t.toTypedArray());

forEachBackend('addToFresh', () => {
  test('a frozen bias: values and x, W gradients equal matmul + add; bias and input untouched', () => {
    const g = new Generator(21);
    const x = q.randn([2, 3, 4], { generator: g }).requiresGrad_(true);
    const w = q.randn([5, 4], { generator: g }).requiresGrad_(true);
    const b = q.randn([5], { generator: g }); // frozen
    const r = q.randn([2, 3, 5], { generator: g });
    const [x0, b0] = [arr(x), arr(b)];
    const y = q.linear(x, w, b);
    const grads = () => [arr(x.grad!), arr(w.grad!)];
    q.sum(q.mul(y, r)).backward();
    const got = grads();
    x.zeroGrad();
    w.zeroGrad();
    const want = q.add(q.matmul(x, q.transpose(w)), b);
    q.sum(q.mul(want, r)).backward();
    assert.deepEqual(arr(y), arr(want));
    assert.deepEqual(got, grads());
    assert.deepEqual(arr(x), x0);
    assert.deepEqual(arr(b), b0);
  });

  test('a trainable bias still gets its gradient (the recorded add)', () => {
    const g = new Generator(22);
    const x = q.randn([6, 4], { generator: g });
    const w = q.randn([3, 4], { generator: g });
    const b = q.randn([3], { generator: g }).requiresGrad_(true);
    q.sum(q.linear(x, w, b)).backward();
    assert.deepEqual(arr(b.grad!), [6, 6, 6]);
  });

  test('under noGrad the output is the only (…, out) buffer: peak memory grows by one output', () => {
    const g = new Generator(23);
    const x = q.randn([64, 128], { generator: g });
    const w = q.randn([256, 128], { generator: g });
    const b = q.randn([256], { generator: g });
    const want = q.noGrad(() => q.add(q.matmul(x, q.transpose(w)), b));
    const before = q.memory().bytes;
    q.resetPeak();
    const y = q.noGrad(() => q.linear(x, w, b));
    const outBytes = 64 * 256 * 4;
    assert.ok(q.memory().peakBytes - before < 1.5 * outBytes, `peak grew by ${q.memory().peakBytes - before} bytes for a ${outBytes}-byte output`);
    assert.deepEqual(arr(y), arr(want));
  });

  test('a residual: both sides take gradients (a new handle records the add); a wider b falls back to add', () => {
    const g = new Generator(24);
    const x = q.randn([3, 4], { generator: g }).requiresGrad_(true);
    const w = q.randn([4, 4], { generator: g }).requiresGrad_(true);
    const h = q.randn([3, 4], { generator: g }).requiresGrad_(true);
    const r = q.randn([3, 4], { generator: g });
    const h0 = arr(h);
    const run = (sum: (a: q.Tensor, b: q.Tensor) => q.Tensor) => {
      for (const t of [x, w, h]) t.zeroGrad();
      const y = sum(q.matmul(x, w), h);
      q.sum(q.mul(y, r)).backward();
      return [arr(y), arr(x.grad!), arr(w.grad!), arr(h.grad!)];
    };
    assert.deepEqual(run(q.addToFresh), run(q.add));
    assert.deepEqual(arr(h), h0);
    const a = q.randn([1, 4], { generator: g });
    const wide = q.randn([3, 4], { generator: g });
    const a0 = arr(a);
    const s = q.addToFresh(a, wide); // [1, 4] + [3, 4]: a new [3, 4] tensor, a untouched
    assert.deepEqual(s.shape, [3, 4]);
    assert.deepEqual(arr(a), a0);
  });

  test('geluToFresh: the values of gelu in the memory of x without gradients (peak: no second buffer); with them, gelu and its gradient', () => {
    const g = new Generator(25);
    for (const approximate of ['none', 'tanh'] as const) {
      const x = q.randn([64, 256], { generator: g });
      const want = arr(q.gelu(x, approximate));
      const fresh = q.mul(x, 1);
      const before = q.memory().bytes;
      q.resetPeak();
      const y = q.noGrad(() => q.geluToFresh(fresh, approximate));
      assert.equal(q.memory().peakBytes, before, `${approximate}: no allocation`);
      assert.deepEqual(arr(y), want);
      const xg = q.randn([3, 5], { generator: g }).requiresGrad_(true);
      const r = q.randn([3, 5], { generator: g });
      const grad = (f: (t: q.Tensor) => q.Tensor) => {
        xg.zeroGrad();
        const out = f(q.mul(xg, 2));
        q.sum(q.mul(out, r)).backward();
        return [arr(out), arr(xg.grad!)];
      };
      assert.deepEqual(grad((t) => q.geluToFresh(t, approximate)), grad((t) => q.gelu(t, approximate)));
    }
  });
});
