// Optimizers against PyTorch: every case in test/fixtures/golden-optim.json (made by
// scripts/golden.py, `npm run golden`) is replayed through SGD / Adam / AdamW. Each case gives
// two parameters' initial values and, for each of 5 steps, the gradient of every parameter and
// the parameter values torch.optim (float32) produced after that step. Plus the Optimizer
// base's checks: parameters must require grad, parameters without a gradient are skipped,
// dispose() frees the state buffers, and parameter groups decay by their own weightDecay.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Adam, AdamW, Optimizer, SGD, Tensor, memory, mul, tensor, type Params } from '../../src/index.js';
import { readFixture } from '../fixtures.js';

interface Encoded { shape: number[]; values: number[] }
interface Case {
  name: string;
  optimizer: 'SGD' | 'Adam' | 'AdamW';
  options: Record<string, any>;
  params: Encoded[];
  steps: { grads: Encoded[]; params: Encoded[] }[];
}


const fixture = readFixture<{ cases: Case[] }>('golden-optim.json');

// |actual - expected| <= ATOL + RTOL * |expected|. Both sides are float32 (torch computes in
// float32, the kernels in float64 rounded to float32), so they differ by a few ulps at most.
const ATOL = 1e-6;
const RTOL = 1e-5;

const OPTIMIZERS: Record<Case['optimizer'], (params: Tensor[], o: Record<string, any>) => Optimizer> = {
  SGD: (ps, o) => new SGD(ps, { lr: o.lr, momentum: o.momentum, dampening: o.dampening, weightDecay: o.weightDecay, nesterov: o.nesterov }),
  Adam: (ps, o) => new Adam(ps, { lr: o.lr, betas: o.betas, eps: o.eps, weightDecay: o.weightDecay }),
  AdamW: (ps, o) => new AdamW(ps, { lr: o.lr, betas: o.betas, eps: o.eps, weightDecay: o.weightDecay }),
};

function expectClose(what: string, actual: Tensor, expected: Encoded): void {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape [${actual.shape}], expected [${expected.shape}]`);
  const got = actual.toTypedArray();
  const bad: string[] = [];
  for (let i = 0; i < expected.values.length; i++) {
    const a = got[i]!;
    const b = expected.values[i]!;
    if (!(Math.abs(a - b) <= ATOL + RTOL * Math.abs(b))) bad.push(`index ${i}: got ${a}, expected ${b} (diff ${Math.abs(a - b).toExponential(2)})`);
  }
  if (bad.length) {
    assert.fail(`${what} differs from PyTorch at ${bad.length} of ${expected.values.length} elements (atol ${ATOL}, rtol ${RTOL}):\n  `
      + `${bad.slice(0, 8).join('\n  ')}${bad.length > 8 ? '\n  ...' : ''}`);
  }
}

/** Sets p.grad to exactly g: d(sum(p * g))/dp = g. */
function setGrad(p: Tensor, g: Encoded): void {
  const gt = tensor(Float32Array.from(g.values), { shape: g.shape });
  const prod = mul(p, gt);
  const loss = prod.sum();
  loss.backward();
  loss.dispose();
  prod.dispose();
  gt.dispose();
}

test('optimizer golden fixture loads and every optimizer is known', () => {
  assert.ok(fixture.cases.length > 0);
  for (const c of fixture.cases) {
    assert.ok(OPTIMIZERS[c.optimizer], `no optimizer "${c.optimizer}" (case ${c.name})`);
    assert.ok(c.steps.length > 0, `${c.name}: no steps`);
  }
});

for (const c of fixture.cases) {
  test(`golden optim: ${c.name}`, () => {
    const before = memory().tensors;
    const params = c.params.map((e) => tensor(Float32Array.from(e.values), { shape: e.shape, requiresGrad: true }));
    c.params.forEach((e, k) => {
      const back = params[k]!.toTypedArray();
      e.values.forEach((v, i) => assert.equal(back[i], v, `${c.name}: param ${k}[${i}] is not exact in float32`));
    });
    const opt = OPTIMIZERS[c.optimizer](params, c.options);
    c.steps.forEach((s, step) => {
      opt.zeroGrad();
      params.forEach((p, k) => setGrad(p, s.grads[k]!));
      params.forEach((p, k) => assert.deepEqual([...p.grad!.toTypedArray()], s.grads[k]!.values, `${c.name}: step ${step + 1}: grad ${k} is not the stored one`));
      opt.step();
      params.forEach((p, k) => expectClose(`${c.name}: param ${k} after step ${step + 1}`, p, s.params[k]!));
    });
    assert.equal(opt.stepCount, c.steps.length);
    opt.zeroGrad();
    opt.dispose();
    for (const p of params) p.dispose();
    assert.equal(memory().tensors, before, `${c.name}: tensors leaked`);
  });
}

test('an optimizer refuses a parameter that does not require grad, naming the class and index', () => {
  const a = tensor([1, 2, 3], { requiresGrad: true });
  const b = tensor([4, 5, 6]);
  try {
    for (const make of [(ps: Tensor[]) => new SGD(ps, { lr: 0.1 }), (ps: Tensor[]) => new Adam(ps), (ps: Tensor[]) => new AdamW(ps)]) {
      assert.throws(() => make([a, b]), (err: Error) => {
        const cls = err.message.split(':')[0]!;
        assert.ok(['SGD', 'Adam', 'AdamW'].includes(cls), `message should start with the class name: ${err.message}`);
        assert.match(err.message, /parameter 1\b/);
        assert.match(err.message, /requires grad/);
        return true;
      });
    }
    assert.throws(() => new AdamW([b]), /^.*AdamW: parameter 0\b/);
    assert.throws(() => new SGD([a, a, b], { lr: 0.1 }), /SGD: parameter 2\b/);
  } finally {
    a.dispose();
    b.dispose();
  }
});

test('step() skips a parameter without a gradient', () => {
  for (const make of [(ps: Tensor[]) => new SGD(ps, { lr: 0.1, momentum: 0.9, weightDecay: 0.1 }), (ps: Tensor[]) => new AdamW(ps, { weightDecay: 0.1 })]) {
    const a = tensor([1, 2, 3], { requiresGrad: true });
    const b = tensor([4, 5, 6], { requiresGrad: true });
    const opt = make([a, b]);
    setGrad(a, { shape: [3], values: [1, 1, 1] });
    assert.equal(b.grad, null);
    opt.step();
    // b has no gradient: untouched (not even weight decay), a moved
    assert.deepEqual([...b.toTypedArray()], [4, 5, 6]);
    assert.ok([...a.toTypedArray()].every((v, i) => v < [1, 2, 3][i]!), `a should have moved down: ${a.toTypedArray()}`);
    opt.zeroGrad();
    opt.dispose();
    a.dispose();
    b.dispose();
  }
});

test('optimizer.dispose() frees its state buffers', () => {
  for (const make of [(ps: Tensor[]) => new SGD(ps, { lr: 0.1, momentum: 0.9 }), (ps: Tensor[]) => new Adam(ps), (ps: Tensor[]) => new AdamW(ps)]) {
    const a = tensor([1, 2, 3, 4], { shape: [2, 2], requiresGrad: true });
    const b = tensor([5, 6], { requiresGrad: true });
    const opt = make([a, b]);
    const start = memory();
    setGrad(a, { shape: [2, 2], values: [1, 2, 3, 4] });
    setGrad(b, { shape: [2], values: [-1, 1] });
    opt.step();
    opt.zeroGrad();
    const during = memory();
    assert.ok(during.tensors > start.tensors, `step() should have made state buffers (tensors ${start.tensors} -> ${during.tensors})`);
    opt.dispose();
    const after = memory();
    assert.equal(after.tensors, start.tensors, 'dispose() should free every state buffer');
    assert.equal(after.bytes, start.bytes, 'dispose() should free the state bytes');
    a.dispose();
    b.dispose();
  }
});

test('parameter groups: each group decays by its own weightDecay, bit-equal to an optimizer of that decay alone', () => {
  const grads = [[0.5, -1, 2], [1, 1, -3]];
  const run = (decays: (number | undefined)[], grouped: boolean, make: (p: Params) => Optimizer) => {
    const ps = [tensor([1, 2, 3], { requiresGrad: true }), tensor([-1, 0.5, 4], { requiresGrad: true })];
    const opt = make(grouped ? ps.map((p, i) => (decays[i] === undefined ? { params: [p] } : { params: [p], weightDecay: decays[i] })) : ps);
    for (let step = 0; step < 3; step++) {
      ps.forEach((p, i) => setGrad(p, { shape: [3], values: grads[i]! }));
      opt.step();
      opt.zeroGrad();
    }
    const out = ps.map((p) => [...p.toTypedArray()]);
    opt.dispose();
    ps.forEach((p) => p.dispose());
    return out;
  };
  for (const [name, make] of [
    ['AdamW', (decay: number) => (p: Params) => new AdamW(p, { lr: 0.1, weightDecay: decay })],
    ['SGD', (decay: number) => (p: Params) => new SGD(p, { lr: 0.1, momentum: 0.9, weightDecay: decay })],
  ] as const) {
    const grouped = run([undefined, 0], true, make(0.3)); // the first takes the optimizer's 0.3, the second none
    const decayed = run([], false, make(0.3));
    const plain = run([], false, make(0));
    assert.deepEqual(grouped[0], decayed[0], `${name}: the group without its own decay uses the optimizer's`);
    assert.deepEqual(grouped[1], plain[1], `${name}: the group with weightDecay 0 is not decayed`);
    assert.notDeepEqual(decayed[1], plain[1], `${name}: decay does change the second parameter when applied`);
  }
  const a = tensor([1], { requiresGrad: true });
  assert.throws(() => new AdamW([{ params: [a] }, { params: [a] }]), /AdamW: parameter is in more than one group/);
  assert.throws(() => new AdamW([{ params: [a], weightDecay: -1 }]), /AdamW: group 0: weightDecay must be >= 0, got -1/);
  a.dispose();
});
