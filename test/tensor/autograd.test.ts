// Autograd behaviour: accumulation, no-grad, detach, freed graphs, in-place checks.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as q from '../../src/index.js';
import { AutogradError, noGrad } from '../../src/index.js';
import { values } from '../helpers.js';

test('gradients accumulate over backward calls until zeroGrad', () => {
  const x = q.tensor([1, 2, 3], { requiresGrad: true });
  x.mul(x).sum().backward();
  assert.deepEqual(values(x.grad!), [2, 4, 6]);
  x.mul(3).sum().backward();
  assert.deepEqual(values(x.grad!), [5, 7, 9]);
  x.zeroGrad();
  assert.equal(x.grad, null);
});

test('a leaf backpropagates into itself; a non-scalar needs a gradient', () => {
  const x = q.tensor([1, 2], { requiresGrad: true });
  x.backward(q.tensor([3, 4]));
  assert.deepEqual(values(x.grad!), [3, 4]);
  assert.throws(() => x.mul(2).backward(), (e: Error) => e instanceof AutogradError && /non-scalar tensor of shape \[2\]/.test(e.message));
  assert.throws(() => x.mul(2).backward(q.ones([3])), /gradient of shape \[3\] for a tensor of shape \[2\]/);
});

test('backward twice through freed values is a clear error; retainGraph allows it', () => {
  const x = q.tensor([1, 2], { requiresGrad: true });
  const y = x.exp().sum();
  y.backward();
  assert.throws(() => y.backward(), /second time.*retainGraph/);
  const z = x.exp().sum();
  x.zeroGrad();
  z.backward(undefined, { retainGraph: true });
  z.backward();
  assert.ok(Math.abs(x.grad!.toTypedArray()[0]! - 2 * Math.E) < 1e-5);
});

test('noGrad records nothing; detach cuts the graph but shares memory', () => {
  const x = q.tensor([1, 2], { requiresGrad: true });
  const y = noGrad(() => x.mul(2));
  assert.equal(y.requiresGrad, false);
  assert.equal(y.gradFn, null);
  const d = x.mul(2).detach();
  assert.equal(d.requiresGrad, false);
  assert.throws(() => d.sum().backward(), /does not require grad/);
  assert.equal(x.detach().storage, x.storage);
  assert.equal(q.isGradEnabled(), true);
});

test('only the inputs that need a gradient get one', () => {
  const a = q.tensor([[1, 2]], { requiresGrad: true });
  const b = q.tensor([[3], [4]]);
  a.matmul(b).sum().backward();
  assert.deepEqual(values(a.grad!), [3, 4]);
  assert.equal(b.grad, null);
});

test('a value changed in place after being saved is refused at backward', () => {
  const w = q.tensor([1, 2, 3], { requiresGrad: true });
  const h = w.mul(2);
  const y = h.mul(h).sum(); // saves h
  noGrad(() => q.assign(h, q.zeros([3])));
  assert.throws(() => y.backward(), /modified in place/);
});

test('in-place writes to a parameter outside noGrad are refused', () => {
  const w = q.tensor([1, 2], { requiresGrad: true });
  assert.throws(() => q.assign(w, q.zeros([2])), /assign: in-place write to a leaf that requires grad \[2\]/);
  noGrad(() => q.fill_(w, 7));
  assert.deepEqual(values(w), [7, 7]);
});

test('only float32 leaves can require gradients; non-leaves cannot be re-marked', () => {
  assert.throws(() => q.tensor([1], { dtype: 'int32', requiresGrad: true }), /only float32 tensors can require gradients, not int32/);
  const y = q.tensor([1], { requiresGrad: true }).mul(2);
  assert.throws(() => y.requiresGrad_(false), /only leaf tensors/);
});

test('a deep graph (20,000 nodes) backpropagates and is freed without stack overflow', () => {
  const x = q.tensor([1], { requiresGrad: true });
  const before = q.memory().tensors;
  q.tidy(() => {
    let y = x;
    for (let i = 0; i < 20000; i++) y = y.mul(1);
    y.sum().backward();
  });
  assert.deepEqual(values(x.grad!), [1]);
  assert.equal(q.memory().tensors, before + 1, 'only x.grad is left');
});

test('a gradient flows to a disposed parameter: clear error', () => {
  const w = q.tensor([1, 2], { requiresGrad: true });
  w.name = 'layer.weight';
  const y = w.mul(2).sum();
  w.dispose();
  assert.throws(() => y.backward(), /parameter "layer.weight" \[2\] was disposed/);
});

test("a Linear's weight gradient lands in the weight's layout: no transposing copy on its way to .grad, the values of xᵀg", () => {
  const be = q.getBackend() as q.Backend & { kernels: Record<string, (...a: unknown[]) => unknown> };
  const x = q.randn([2, 5, 48], { generator: new q.Generator(3) }).requiresGrad_(true);
  const w = q.randn([40, 48], { generator: new q.Generator(4) }).requiresGrad_(true); // [out, in]
  const g = q.randn([2, 5, 40], { generator: new q.Generator(5) });
  const copy = be.kernels.Copy!;
  const copies: number[][] = [];
  be.kernels.Copy = (src, dst, shape) => {
    copies.push([...(shape as number[])]);
    return copy(src, dst, shape);
  };
  try {
    q.linear(x, w).backward(g);
  } finally {
    be.kernels.Copy = copy;
  }
  assert.deepEqual(copies.filter((s) => s.join() === '40,48' || s.join() === '48,40'), [], 'no copy of a weight-sized gradient');
  assert.ok(w.grad!.isContiguous && w.grad!.offset === 0);
  // dW[o][i] = Σ_rows g[r][o] x[r][i]
  const [xv, gv] = [values(x), values(g)];
  const expected = Array.from({ length: 40 * 48 }, (_, j) => {
    const [o, i] = [Math.floor(j / 48), j % 48];
    let s = 0;
    for (let r = 0; r < 10; r++) s += gv[r * 40 + o]! * xv[r * 48 + i]!;
    return s;
  });
  values(w.grad!).forEach((v, j) => assert.ok(Math.abs(v - expected[j]!) < 1e-5, `dW[${j}] ${v} vs ${expected[j]}`));
  x.dispose(); w.dispose(); g.dispose();
});

test('a broadcast gradient sums back to every input shape, on every backend (sumTo: leading, trailing, both ends, the middle)', () => {
  // x (2, 3, 4) + b: each b shape sums a different set of g's axes; expected sums in float64 here
  const g = Float32Array.from({ length: 24 }, (_, i) => Math.sin(i + 1) * 3);
  const expectedSum = (shape: number[]): number[] => {
    const full = [2, 3, 4];
    const b = [...Array(3 - shape.length).fill(1), ...shape];
    const out = new Array<number>(b.reduce((n, d) => n * d, 1)).fill(0);
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) {
      const at = [i, j, k].map((v, a) => (b[a] === 1 ? 0 : v));
      out[(at[0]! * b[1]! + at[1]!) * b[2]! + at[2]!]! += g[(i * full[1]! + j) * full[2]! + k]!;
    }
    return out;
  };
  const before = q.getBackend().name;
  for (const backend of q.listBackends()) {
    q.setBackend(backend);
    try {
      for (const shape of [[3, 1], [1, 3, 1], [2, 1, 1], [3, 4], [4], [1, 1, 1], [], [2, 1, 4], [2, 3, 1], [1, 3, 4]]) {
        q.tidy(() => {
          const x = q.zeros([2, 3, 4]);
          const b = q.zeros(shape).requiresGrad_();
          q.add(x, b).backward(q.tensor(g, { shape: [2, 3, 4] }));
          assert.deepEqual(b.grad!.shape, shape, `${backend}: shape of b.grad for [${shape}]`);
          const got = values(b.grad!);
          expectedSum(shape).forEach((e, i) => assert.ok(Math.abs(got[i]! - e) < 1e-5, `${backend}: b [${shape}] element ${i}: ${got[i]} != ${e}`));
          b.zeroGrad();
        });
      }
    } finally {
      q.setBackend(before);
    }
  }
});
