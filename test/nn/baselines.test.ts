// The lecture's baselines (src/nn/baselines, src/nn/conv.ts): parity with torch.nn.GRU / LSTM /
// Conv1d (test/fixtures/golden-rnn.json, written by scripts/golden.py), packed-sequence parity,
// finite-difference gradients, padding masks, receptive fields, state-dict names and errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Generator, ModuleError, concat, memory, mul, nn, reshape, slice, sum, tensor, tidy, where, type Module, type Tensor,
} from '../../src/index.js';
import { assertClose, forEachBackend, gradcheck, leaf, values } from '../helpers.js';

interface Encoded { shape: number[]; values: number[] }
interface Case {
  name: string;
  module: 'GRU' | 'LSTM' | 'Conv1d';
  options: Record<string, any>;
  lengths: number[] | null;
  params: (Encoded & { name: string })[];
  inputs: (Encoded & { name: string })[];
  upstream: Record<string, Encoded>;
  outputs: Record<string, Encoded>;
  grads: Record<string, Encoded>;
}

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}
const fixture = JSON.parse(readFileSync(join(repoRoot(), 'test', 'fixtures', 'golden-rnn.json'), 'utf8')) as { cases: Case[] };

// |actual - expected| <= ATOL + RTOL * |expected|, as the op golden tests
const ATOL = 1e-5;
const RTOL = 1e-5;

const f32 = (e: Encoded, requiresGrad = false): Tensor => tensor(Float32Array.from(e.values), { shape: e.shape, requiresGrad });
const flat = (t: Tensor): Tensor => reshape(t, [-1]);
/** (B, T) int32 mask, 1 at t >= lengths[b]. */
const maskOf = (lengths: number[], T: number): Tensor =>
  tensor(Int32Array.from(lengths.flatMap((n) => Array.from({ length: T }, (_, t) => (t >= n ? 1 : 0)))), { shape: [lengths.length, T] });

function buildModule(c: Case): Module {
  const o = c.options;
  if (c.module === 'Conv1d') {
    const { inChannels, outChannels, kernelSize, ...rest } = o; // options objects refuse unknown keys
    return new nn.Conv1d(inChannels, outChannels, kernelSize, rest);
  }
  const Cls = c.module === 'GRU' ? nn.GRU : nn.LSTM;
  return new Cls(o.inputSize, o.hiddenSize, { numLayers: o.numLayers, bidirectional: o.bidirectional });
}

function runModule(m: Module, c: Case, x: Record<string, Tensor>): Record<string, Tensor> {
  if (m instanceof nn.Conv1d) return { output: m.forward(x.x!) };
  const keyPaddingMask = c.lengths ? maskOf(c.lengths, x.x!.shape[1]!) : null;
  if (m instanceof nn.GRU) return m.forward(x.x!, x.h0, { keyPaddingMask });
  return (m as nn.LSTM).forward(x.x!, x.h0 ? [x.h0, x.c0!] : null, { keyPaddingMask });
}

forEachBackend('baselines: golden values from PyTorch', () => {
  for (const c of fixture.cases) {
    test(c.name, () => tidy(() => {
      const m = buildModule(c);
      assert.deepEqual([...m.stateDict().keys()], c.params.map((p) => p.name), 'state dict keys are PyTorch\'s, in its order');
      m.loadStateDict(Object.fromEntries(c.params.map((p) => [p.name, f32(p)])));
      const inputs = Object.fromEntries(c.inputs.map((i) => [i.name, f32(i, true)]));
      const outs = runModule(m, c, inputs);
      for (const [name, e] of Object.entries(c.outputs)) {
        assert.deepEqual(outs[name]!.shape, e.shape, `${c.name}: ${name} shape`);
        assertClose(values(outs[name]!), e.values, `${c.name}: ${name}`, ATOL, RTOL);
      }
      sum(concat(Object.keys(c.outputs).map((n) => flat(mul(outs[n]!, f32(c.upstream[n]!)))))).backward();
      const params = m.stateDict();
      for (const [name, e] of Object.entries(c.grads)) {
        const g = (inputs[name] ?? params.get(name))!.grad;
        assert.ok(g, `${c.name}: no gradient for ${name}`);
        assertClose(values(g), e.values, `${c.name}: grad of ${name}`, ATOL, RTOL);
      }
      m.dispose();
    }));
  }
});

for (const cell of ['gru', 'lstm'] as const) {
  test(`RNNEncoder (${cell}, 2 layers, bidirectional): a right-padded batch equals each sequence alone`, () => tidy(() => {
    const enc = new nn.RNNEncoder({ inDim: 3, hidden: 4, layers: 2, cell, bidirectional: true, generator: new Generator(1) });
    const lengths = [5, 3, 1];
    const x = leaf([3, 5, 3], 7);
    const mask = maskOf(lengths, 5);
    const out = enc.forward(x, { keyPaddingMask: mask });
    assert.deepEqual(out.shape, [3, 5, 8]);
    lengths.forEach((n, b) => {
      const alone = enc.forward(slice(slice(x, 0, b, b + 1), 1, 0, n));
      assertClose(values(slice(slice(out, 0, b, b + 1), 1, 0, n)), values(alone), `sequence ${b} (length ${n})`, 1e-6, 1e-5);
      assert.ok(values(slice(slice(out, 0, b, b + 1), 1, n)).every((v) => v === 0), `outputs at the padding of sequence ${b} are zero`);
    });
    const garbage = where(reshape(mask, [3, 5, 1]), 100, x);
    assert.deepEqual(values(enc.forward(garbage, { keyPaddingMask: mask })), values(out), 'padded values change nothing');
    enc.dispose();
  }));
}

test('gradcheck: Conv1d, GRU, LSTM and the three encoders on small sizes', () => tidy(() => {
  const g = new Generator(3);
  const conv = new nn.Conv1d(4, 4, 3, { padding: 'same', dilation: 2, groups: 2, generator: g });
  const x4 = leaf([2, 4, 5], 11);
  gradcheck('Conv1d', (x) => conv.forward(x!), [x4, ...conv.parameters()]);
  const gru = new nn.GRU(2, 3, { numLayers: 2, bidirectional: true, generator: g });
  const x = leaf([2, 3, 2], 12);
  const h0 = leaf([4, 2, 3], 13);
  gradcheck('GRU', (x, h) => { const r = gru.forward(x!, h); return concat([flat(r.output), flat(r.hN)]); }, [x, h0, ...gru.parameters()]);
  const lstm = new nn.LSTM(2, 3, { bidirectional: true, generator: g });
  const c0 = leaf([2, 2, 3], 14);
  const mask = maskOf([3, 2], 3);
  gradcheck('LSTM (masked)', (x, h, c) => {
    const r = lstm.forward(x!, [slice(h!, 0, 0, 2), c!], { keyPaddingMask: mask });
    return concat([flat(r.output), flat(r.hN), flat(r.cN)]);
  }, [x, h0, c0, ...lstm.parameters()]);
  const encoders: nn.SequenceEncoder[] = [
    new nn.FCEncoder({ inDim: 2, hidden: 3, layers: 2, activation: 'gelu', generator: g }),
    new nn.CNNEncoder({ inDim: 2, hidden: 2, layers: 2, activation: 'gelu', dilation: [1, 2], generator: g }),
    new nn.RNNEncoder({ inDim: 2, hidden: 2, cell: 'lstm', layers: 2, generator: g }),
  ];
  for (const e of encoders) gradcheck(e.kind, (x) => e.forward(x!, { keyPaddingMask: mask }), [x, ...e.parameters()]);
  for (const m of [conv, gru, lstm, ...encoders]) m.dispose();
}));

test('CNNEncoder with a padding mask: values at padded positions never reach real positions', () => tidy(() => {
  const enc = new nn.CNNEncoder({ inDim: 3, hidden: 3, layers: 2, kernelSize: 3, generator: new Generator(5) });
  const x = leaf([2, 6, 3], 21);
  const mask = maskOf([4, 6], 6);
  const changed = where(reshape(mask, [2, 6, 1]), leaf([2, 6, 3], 22), x);
  assert.deepEqual(values(enc.forward(changed, { keyPaddingMask: mask })), values(enc.forward(x, { keyPaddingMask: mask })));
  // without the mask they do leak (position 3 sees position 4), so the test above means something
  assert.notDeepEqual(values(slice(enc.forward(changed), 1, 0, 4)), values(slice(enc.forward(x), 1, 0, 4)));
  enc.dispose();
}));

test('receptive fields: FC sees one position, CNN sees 1 + layers*(k-1)*dilation, RNN sees the past', () => tidy(() => {
  const g = new Generator(6);
  const x = leaf([1, 12, 2], 31);
  const bumped = tensor(Float32Array.from(values(x), (v, i) => (Math.floor(i / 2) === 6 ? v + 1 : v)), { shape: [1, 12, 2] });
  const changedAt = (e: nn.SequenceEncoder): number[] => {
    const [a, b] = [values(e.forward(x)), values(e.forward(bumped))];
    return Array.from({ length: 12 }, (_, t) => t).filter((t) => a.slice(t * e.outDim, (t + 1) * e.outDim).some((v, j) => v !== b[t * e.outDim + j]));
  };
  const fc = new nn.FCEncoder({ inDim: 2, hidden: 4, layers: 2, activation: 'gelu', generator: g });
  assert.deepEqual(changedAt(fc), [6]);
  const cnn = new nn.CNNEncoder({ inDim: 2, hidden: 4, layers: 2, dilation: [1, 2], activation: 'gelu', generator: g });
  assert.equal(cnn.receptiveField, 7);
  assert.deepEqual(changedAt(cnn), [3, 4, 5, 6, 7, 8, 9]);
  const rnn = new nn.RNNEncoder({ inDim: 2, hidden: 4, generator: g });
  assert.deepEqual(changedAt(rnn), [6, 7, 8, 9, 10, 11]);
  for (const m of [fc, cnn, rnn]) m.dispose();
}));

test('state dict names are PyTorch\'s', () => {
  const keys = (m: Module): string[] => [...m.stateDict().keys()];
  const gruKeys = [0, 1].flatMap((l) => ['', '_reverse'].flatMap((s) => ['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh'].map((w) => `${w}_l${l}${s}`)));
  const gru = new nn.GRU(3, 4, { numLayers: 2, bidirectional: true });
  assert.deepEqual(keys(gru), gruKeys);
  assert.deepEqual(gru.stateDict().get('weight_ih_l1_reverse')!.shape, [12, 8]);
  const lstm = new nn.LSTM(3, 4, { bias: false });
  assert.deepEqual(keys(lstm), ['weight_ih_l0', 'weight_hh_l0']);
  assert.deepEqual(lstm.stateDict().get('weight_hh_l0')!.shape, [16, 4]);
  assert.ok(values(gru.stateDict().get('weight_hh_l0')!).every((v) => Math.abs(v) <= 0.5), 'U(±1/sqrt(hidden))');
  const conv = new nn.Conv1d(4, 6, 3, { groups: 2 });
  assert.deepEqual(keys(conv), ['weight', 'bias']);
  assert.deepEqual(conv.weight.shape, [6, 2, 3]);
  assert.ok(values(conv.weight).every((v) => Math.abs(v) <= 1 / Math.sqrt(6)), 'U(±1/sqrt(in/groups*k))');
  assert.deepEqual(keys(new nn.FCEncoder({ inDim: 3, hidden: 4, layers: 2 })), ['layers.0.weight', 'layers.0.bias', 'layers.1.weight', 'layers.1.bias']);
  assert.deepEqual(keys(new nn.CNNEncoder({ inDim: 3, hidden: 4, layers: 2 })), ['convs.0.weight', 'convs.0.bias', 'convs.1.weight', 'convs.1.bias']);
  const rnn = new nn.RNNEncoder({ inDim: 3, hidden: 4, cell: 'lstm', bidirectional: true });
  assert.deepEqual(keys(rnn), gruKeys.slice(0, 8).map((k) => `rnn.${k}`));
  assert.equal(rnn.outDim, 8);
});

test('bad input: errors name the module and the shapes', () => tidy(() => {
  const throwsLike = (fn: () => unknown, re: RegExp): void => assert.throws(fn, (e: Error) => e instanceof ModuleError && re.test(e.message));
  const gru = new nn.GRU(3, 4);
  throwsLike(() => gru.forward(leaf([2, 5, 5], 1)), /^GRU: input of shape \[2, 5, 5\] must be \(batch, time, inputSize = 3\)/);
  throwsLike(() => gru.forward(leaf([2, 5, 3], 1), leaf([1, 3, 4], 2)), /^GRU: h0 of shape \[1, 3, 4\] must be .* = \[1, 2, 4\] for input \[2, 5, 3\]/);
  throwsLike(() => new nn.LSTM(3, 4).forward(leaf([2, 5, 3], 1), [null, leaf([2, 2, 4], 2)]), /^LSTM: c0 of shape \[2, 2, 4\]/);
  throwsLike(() => new nn.Conv1d(3, 4, 3).forward(leaf([2, 5, 8], 1)), /^Conv1d: input of shape \[2, 5, 8\] must be \[batch, inChannels = 3, length\]/);
  throwsLike(() => new nn.Conv1d(3, 4, 3, { groups: 2 }), /^Conv1d: groups = 2 must divide inChannels = 3/);
  throwsLike(() => new nn.CNNEncoder({ inDim: 3, hidden: 4, kernelSize: 4 }), /^CNNEncoder: kernelSize must be a positive odd integer, got 4/);
  throwsLike(() => new nn.FCEncoder({ inDim: 3, hidden: 4 }).forward(leaf([2, 5, 4], 1)), /^FCEncoder: input of shape \[2, 5, 4\] must be \(batch, time, inDim = 3\)/);
  throwsLike(() => new nn.RNNEncoder({ inDim: 3, hidden: 4 }).forward(leaf([2, 5, 3], 1), { keyPaddingMask: maskOf([5], 5) }),
    /^RNNEncoder: keyPaddingMask of shape \[1, 5\] must be \(batch, time\) = \[2, 5\] for input \[2, 5, 3\]/);
  throwsLike(() => new nn.FCEncoder({ inDim: 3, hidden: 4, activation: 'tanh' as 'relu' }), /^FCEncoder: activation must be 'relu' or 'gelu'/);
}));

test('RNNEncoder and CNNEncoder training steps keep live memory flat', () => {
  const encoders = [new nn.RNNEncoder({ inDim: 3, hidden: 4, cell: 'lstm', bidirectional: true, dropout: 0.1, layers: 2 }),
    new nn.CNNEncoder({ inDim: 3, hidden: 4, dropout: 0.1 })];
  const x = leaf([2, 5, 3], 41);
  const mask = maskOf([5, 3], 5);
  const step = (): void => tidy(() => {
    for (const e of encoders) e.forward(x, { keyPaddingMask: mask }).sum().backward();
    for (const e of encoders) e.zeroGrad();
    x.zeroGrad();
  });
  step();
  const before = memory();
  step();
  assert.equal(memory().tensors, before.tensors);
  assert.equal(memory().bytes, before.bytes);
  for (const t of [x, mask, ...encoders]) t.dispose();
});
