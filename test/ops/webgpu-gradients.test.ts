// The ops' gradients on the WebGPU backend against central finite differences, every value
// computed on the GPU: backward() there gives the analytic gradient; the finite differences
// evaluate L = Σ f(x ± eps·e_j) · w there too, all 2n evaluations queued and read back in one
// transfer (test/helpers.ts's gradcheck perturbs host memory in place, which a GPU buffer is
// not). The ops are those the tasks, the image and speech models train with; the full table
// runs on the host backends in gradients.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as q from '../../src/index.js';
import { Generator, type Tensor } from '../../src/index.js';
import { onWebGpu, webgpuSkip } from '../webgpu-setup.js';

type Draw = (g: Generator) => number;
const normal: Draw = (g) => g.normal();
const positive: Draw = (g) => 0.5 + 1.5 * g.uniform();
const awayFromZero: Draw = (g) => (g.uniform() < 0.5 ? -1 : 1) * (0.2 + g.uniform());

interface Leaf { shape: number[]; values: Float32Array }
const leaf = (shape: number[], seed: number, draw: Draw = normal): Leaf => {
  const g = new Generator(seed);
  return { shape, values: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => draw(g)) };
};

/** Largest |analytic - numeric| / (atol + rtol·|numeric|) over every input element (<= 1 passes). */
async function gradcheckGpu(name: string, f: (...xs: Tensor[]) => Tensor, leaves: Leaf[], o: { eps?: number; atol?: number; rtol?: number } = {}): Promise<void> {
  const { eps = 1e-2, atol = 2e-3, rtol = 1e-2 } = o;
  await onWebGpu(async () => {
    const xs = leaves.map((l) => q.tensor(l.values, { shape: l.shape, requiresGrad: true }));
    const out = f(...xs);
    assert.equal(out.backend.name, 'webgpu', `${name} ran on ${out.backend.name}`);
    const w = q.tensor(leaf([...out.shape], 12345).values, { shape: [...out.shape] });
    out.backward(w);
    out.dispose();
    const analytic = await Promise.all(xs.map(async (x, i) => {
      if (!x.grad) assert.fail(`${name}: input ${i} got no gradient`);
      return x.grad.data();
    }));
    // the finite differences: every perturbed evaluation queued on the GPU, one read for all
    const steps: number[] = [];
    const losses: Tensor[] = [];
    leaves.forEach((l, li) => {
      for (let j = 0; j < l.values.length; j++) {
        for (const sign of [1, -1]) {
          const v = Float32Array.from(l.values);
          v[j] = v[j]! + sign * eps;
          if (sign === 1) steps.push(v[j]! - l.values[j]!);
          else steps[steps.length - 1]! += l.values[j]! - v[j]!;
          losses.push(q.tidy(() => q.noGrad(() => {
            const inputs = leaves.map((m, k) => q.tensor(k === li ? v : m.values, { shape: m.shape }));
            return q.sum(q.mul(f(...inputs), w));
          })));
        }
      }
    });
    const all = q.stack(losses);
    const L = await all.data();
    for (const t of [...losses, all, w, ...xs]) t.dispose();
    let k = 0;
    leaves.forEach((l, li) => {
      for (let j = 0; j < l.values.length; j++, k++) {
        const numeric = (L[2 * k]! - L[2 * k + 1]!) / steps[k]!;
        const a = analytic[li]![j]!;
        if (!(Math.abs(a - numeric) <= atol + rtol * Math.abs(numeric))) {
          assert.fail(`${name}: d/d(input ${li})[${j}]: backward gave ${a} on webgpu, finite differences ${numeric}`);
        }
      }
    });
  });
}

const skip = webgpuSkip;
const cases: [string, (...xs: Tensor[]) => Tensor, Leaf[], { eps?: number }?][] = [
  // maps, with broadcasting and views
  ['exp of a transposed view', (x) => q.exp(x.transpose(0, 2)), [leaf([2, 3, 2], 1)]],
  ['log', q.log, [leaf([3, 4], 2, positive)]],
  ['tanh, sigmoid', (x) => q.mul(q.tanh(x), q.sigmoid(x)), [leaf([3, 4], 3)]],
  ['relu of a slice', (x) => q.relu(x.select(0, 1)), [leaf([2, 5], 4, awayFromZero)]],
  ['gelu (erf and tanh)', (x) => q.add(q.gelu(x), q.gelu(x, 'tanh')), [leaf([3, 4], 5)]],
  ['add / mul broadcast [3,1,4] with [2,4]', (a, b) => q.mul(q.add(a, b), b), [leaf([3, 1, 4], 6), leaf([2, 4], 7)]],
  ['div, pow', (a, b) => q.pow(q.div(a, b), 1.5), [leaf([2, 3], 8, positive), leaf([2, 3], 9, positive)]],
  ['maximum', q.maximum, [leaf([2, 3], 10), leaf([2, 3], 11)], { eps: 1e-3 }],
  ['where and maskedFill', (a, b) => {
    const cond = q.tensor([[1], [0], [1]], { dtype: 'int32' });
    return q.maskedFill(q.where(cond, a, b), q.tensor([[0, 1, 0, 0]], { dtype: 'int32' }), 0);
  }, [leaf([3, 4], 12), leaf([4], 13)]],
  // reductions and rows
  ['sum, mean over axes', (x) => q.add(q.sum(x, [0, 2]), q.mean(x, 1).sum(0).sum(0)), [leaf([2, 3, 4], 14)]],
  ['max axis 1', (x) => q.max(x, 1), [leaf([3, 4], 15)]],
  ['maxPool over the last axis and over axis 1', (x) => q.add(q.maxPool(x), q.maxPool(x, 1).sum(-1, true)), [leaf([2, 3, 4], 40)]],
  ['variance', (x) => q.variance(x, 2), [leaf([2, 2, 4], 16)]],
  ['softmax of a transposed view', (x) => q.softmax(x.transpose(0, 1), -1), [leaf([3, 4], 17)]],
  ['logSoftmax', (x) => q.logSoftmax(x, -1), [leaf([3, 5], 18)]],
  ['layerNorm with weight and bias', (x, w, b) => q.layerNorm(x, [4], w, b), [leaf([2, 3, 4], 19), leaf([4], 20), leaf([4], 21)]],
  ['crossEntropy (ignore index, label smoothing)', (x) =>
    q.crossEntropy(x, q.tensor([[0, 3, -100], [1, 2, 3]], { dtype: 'int32' }), { labelSmoothing: 0.1 }), [leaf([2, 3, 4], 22)]],
  // products, gathering, attention, convolution
  ['matmul, batched, transposed', (a, b) => q.matmul(a, b.transpose(1, 2)), [leaf([2, 3, 4], 23), leaf([2, 5, 4], 24)]],
  ['embedding (repeated ids)', (w) => q.embedding(q.tensor([[0, 2, 2], [3, 0, 1]], { dtype: 'int32' }), w), [leaf([4, 3], 25)]],
  ['flashAttention, causal', (x, k, v) => q.flashAttention(x, k, v, { causal: true }), [leaf([1, 2, 3, 4], 26), leaf([1, 2, 3, 4], 27), leaf([1, 2, 3, 4], 28)]],
  ['flashAttention, key padding', (x, k, v) => q.flashAttention(x, k, v, { keyPaddingMask: q.tensor([[0, 0, 1, 0]], { dtype: 'int32' }) }),
    [leaf([1, 1, 2, 4], 29), leaf([1, 1, 4, 4], 30), leaf([1, 1, 4, 4], 31)]],
  ['linearAttention, causal', (x, k, v) => q.linearAttention(x, k, v, { causal: true }), [leaf([1, 2, 3, 2], 32), leaf([1, 2, 3, 2], 33), leaf([1, 2, 3, 2], 34)]],
  ['conv1d with padding and dilation, bias', (x, w, b) => q.conv1d(x, w, b, { padding: 2, dilation: 2 }), [leaf([1, 2, 6], 35), leaf([3, 2, 3], 36), leaf([3], 37)]],
  ['concat and stack of views', (a, b) => q.stack([q.concat([a, b.transpose()], 1), q.concat([b.transpose(), a], 1)]), [leaf([3, 2], 38), leaf([4, 3], 39)]],
];

for (const [name, f, leaves, o] of cases) {
  test(`gradient on webgpu: ${name}`, { skip }, () => gradcheckGpu(name, f, leaves, o));
}
