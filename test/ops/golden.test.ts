// Golden-value tests against PyTorch: every case in test/fixtures/golden-ops.json (made by
// scripts/golden.py, `npm run golden`) is replayed through the engine. Each case gives the
// inputs, a random upstream gradient u, the output, and d(sum(out * u))/d(input) for every
// float input, all from a float64 reference on the same float32 inputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Tensor, add, concat, conv1d, crossEntropy, cumsum, div, elu, embedding, exp, gelu, layerNorm, linear, log,
  logSoftmax, matmul, max, mean, min, mul, pad, permute, pow, relu, sigmoid, softmax, softplus, sqrt, stack, sum,
  tanh, tensor, transpose, variance,
} from '../../src/index.js';
import { expectGolden, readFixture } from '../fixtures.js';

interface Encoded { shape: number[]; values: number[] }
interface Input extends Encoded { name: string; dtype: 'float32' | 'int32' }
interface Case {
  name: string;
  op: string;
  options: Record<string, unknown>;
  inputs: Input[];
  upstream: Encoded;
  output: Encoded;
  grads: Record<string, Encoded>;
}


const fixture = readFixture<{ cases: Case[] }>('golden-ops.json');

// |actual - expected| <= ATOL + RTOL * |expected|
const ATOL = 1e-5;
const RTOL = 1e-5;
// Cases that need more because of float32 accumulation (none so far): name -> [atol, rtol].
const LOOSER: Record<string, [number, number]> = {};

type Args = Tensor[];
type Opts = Record<string, any>;

/** How each fixture op runs on the engine. Inputs come in the fixture's order. */
const OPS: Record<string, (x: Args, o: Opts) => Tensor> = {
  add: ([a, b]) => add(a!, b!),
  mul: ([a, b]) => mul(a!, b!),
  div: ([a, b]) => div(a!, b!),
  pow: ([a, b]) => pow(a!, b!),
  pow_scalar: ([x], o) => pow(x!, o.exponent),
  exp: ([x]) => exp(x!),
  log: ([x]) => log(x!),
  sqrt: ([x]) => sqrt(x!),
  tanh: ([x]) => tanh(x!),
  sigmoid: ([x]) => sigmoid(x!),
  relu: ([x]) => relu(x!),
  gelu: ([x], o) => gelu(x!, o.approximate),
  elu: ([x], o) => elu(x!, o.alpha),
  softplus: ([x]) => softplus(x!),
  sum: ([x], o) => sum(x!, o.axes, o.keepdim),
  mean: ([x], o) => mean(x!, o.axes, o.keepdim),
  max: ([x], o) => max(x!, o.axes, o.keepdim),
  min: ([x], o) => min(x!, o.axes, o.keepdim),
  variance: ([x], o) => variance(x!, o.axes, { keepdim: o.keepdim, correction: o.correction }),
  cumsum: ([x], o) => cumsum(x!, o.axis, { reverse: o.reverse }),
  matmul: ([a, b]) => matmul(a!, b!),
  transpose_matmul: ([a, b]) => matmul(transpose(a!, -2, -1), transpose(b!, -2, -1)),
  permute_matmul: ([a, b], o) => matmul(permute(a!, o.perm), b!),
  linear: ([x, w, b]) => linear(x!, w!, b!),
  softmax: ([x], o) => softmax(x!, o.axis),
  logSoftmax: ([x], o) => logSoftmax(x!, o.axis),
  layerNorm: ([x, w, b], o) => layerNorm(x!, o.normalizedShape, w ?? null, b ?? null, o.eps),
  embedding: ([ids, w], o) => embedding(ids!, w!, o.paddingIdx),
  crossEntropy: ([logits, targets], o) => crossEntropy(logits!, targets!, o),
  conv1d: ([x, w, b], o) => conv1d(x!, w!, b ?? null, o),
  pad: ([x], o) => pad(x!, o.pads, o.value),
  concat: (xs, o) => concat(xs, o.axis),
  stack: (xs, o) => stack(xs, o.axis),
  mlp: ([x, w1, b1, gamma, beta, w2, b2, targets]) => {
    const h = layerNorm(gelu(linear(x!, w1!, b1!), 'tanh'), [8], gamma!, beta!, 1e-5);
    return crossEntropy(linear(h, w2!, b2!), targets!);
  },
};

function expectClose(c: Case, what: string, actual: Tensor | null | undefined, expected: Encoded): void {
  const [atol, rtol] = LOOSER[c.name] ?? [ATOL, RTOL];
  expectGolden(c.name, what, actual, expected, atol, rtol);
}

test('golden fixture loads and every op is known', () => {
  assert.ok(fixture.cases.length > 0);
  for (const c of fixture.cases) assert.ok(OPS[c.op], `no runner for op "${c.op}" (case ${c.name})`);
});

for (const c of fixture.cases) {
  test(`golden: ${c.name}`, () => {
    const inputs = c.inputs.map((inp) => inp.dtype === 'int32'
      ? tensor(Int32Array.from(inp.values), { shape: inp.shape })
      : tensor(Float32Array.from(inp.values), { shape: inp.shape, requiresGrad: true }));
    // the stored inputs are float32 values written as float64: they must load exactly
    c.inputs.forEach((inp, k) => {
      const back = inputs[k]!.toTypedArray();
      inp.values.forEach((v, i) => assert.equal(back[i], v, `${c.name}: input ${inp.name}[${i}] is not exact in ${inp.dtype}`));
    });
    const out = OPS[c.op]!(inputs, c.options);
    expectClose(c, 'output', out, c.output);
    out.backward(tensor(Float32Array.from(c.upstream.values), { shape: c.upstream.shape }));
    c.inputs.forEach((inp, k) => {
      if (inp.dtype !== 'float32') return;
      expectClose(c, `grad of input "${inp.name}"`, inputs[k]!.grad, c.grads[inp.name]!);
    });
    out.dispose();
    for (const t of inputs) t.dispose();
  });
}
