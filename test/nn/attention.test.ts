// Attention modules: masks, the lecture's formulas, gradients, caches, positions, errors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as q from '../../src/index.js';
import { Generator, nn, noGrad, type Tensor } from '../../src/index.js';
import { assertClose, gradcheck, leaf, values } from '../helpers.js';

const g = () => new Generator(11);

test('mask builders', () => {
  assert.deepEqual(nn.causalMask(3).toArray(), [[0, 1, 1], [0, 0, 1], [0, 0, 0]]);
  assert.deepEqual(nn.causalMask(2, 4).toArray(), [[0, 0, 0, 1], [0, 0, 0, 0]], 'queries after 2 cached keys');
  assert.deepEqual(nn.windowMask(4, 1).toArray(), [[0, 0, 1, 1], [0, 0, 0, 1], [1, 0, 0, 0], [1, 1, 0, 0]]);
  assert.deepEqual(nn.graphMask(3, [[0, 1]]).toArray(), [[0, 0, 1], [0, 0, 1], [1, 1, 0]]);
  assert.deepEqual(nn.graphMask(3, [[0, 1]], { directed: true, selfLoops: false }).toArray(), [[1, 1, 1], [0, 1, 1], [1, 1, 1]]);
  assert.deepEqual(nn.graphMask(2, q.tensor([[0, 1], [0, 0]])).toArray(), [[0, 0], [1, 0]]);
  assert.deepEqual(nn.paddingMask([2, 3]).toArray(), [[0, 0, 1], [0, 0, 0]]);
  assert.throws(() => nn.graphMask(2, [[0, 5]]), /graphMask: edge 0 \[0, 5\] names a node outside 0..1/);
});

test('SelfAttention computes the lecture formulas (dot-product, scaled, softmax)', () => {
  const sa = new nn.SelfAttention(3, { dk: 2, dv: 4, generator: g() });
  const a = q.randn([4, 3], { generator: g() });
  const t = sa.inspect(a);
  const A = a.toArray() as number[][];
  const mv = (W: Tensor, x: number[]) => (W.toArray() as number[][]).map((row) => row.reduce((s, w, i) => s + w * x[i]!, 0));
  const qs = A.map((x) => mv(sa.Wq, x));
  const ks = A.map((x) => mv(sa.Wk, x));
  const vs = A.map((x) => mv(sa.Wv, x));
  const alpha = qs.map((qi) => ks.map((kj) => qi.reduce((s, x, d) => s + x * kj[d]!, 0) / Math.sqrt(2)));
  const alphaPrime = alpha.map((row) => { const m = Math.max(...row); const e = row.map((x) => Math.exp(x - m)); const z = e.reduce((s, x) => s + x); return e.map((x) => x / z); });
  const b = alphaPrime.map((row) => vs[0]!.map((_, d) => row.reduce((s, w, j) => s + w * vs[j]![d]!, 0)));
  assertClose(values(t.q), qs.flat(), 'q');
  assertClose(values(t.k), ks.flat(), 'k');
  assertClose(values(t.v), vs.flat(), 'v');
  assertClose(values(t.alpha), alpha.flat(), 'alpha');
  assertClose(values(t.alphaPrime), alphaPrime.flat(), "alpha'");
  assertClose(values(t.b), b.flat(), 'b');
  assert.deepEqual(sa.forward(a).shape, [4, 4]);
});

test('SelfAttention: additive relevance and the ReLU normaliser', () => {
  const sa = new nn.SelfAttention(3, { relevance: 'additive', normalizer: 'relu', generator: g() });
  const a = q.randn([1, 3, 3], { generator: g() });
  const t = sa.inspect(a);
  const Q = (t.q.toArray() as number[][][])[0]!;
  const K = (t.k.toArray() as number[][][])[0]!;
  const w = values(sa.w!);
  const alpha = Q.map((qi) => K.map((kj) => w.reduce((s, wd, d) => s + wd * Math.tanh(qi[d]! + kj[d]!), 0)));
  assertClose(values(t.alpha), alpha.flat(), 'additive alpha');
  assertClose(values(t.alphaPrime), alpha.flat().map((x) => Math.max(0, x)), 'relu');
});

test('masked positions get exactly zero weight; a row with nothing to attend to gives zeros, not NaN', () => {
  const mha = new nn.MultiheadAttention(4, 2, { generator: g() });
  const x = leaf([2, 3, 4], 1);
  const attnMask = q.tensor([[0, 1, 0], [1, 1, 1], [0, 0, 0]], { dtype: 'int32' }); // row 1 blocks everything
  const keyPaddingMask = q.tensor([[0, 0, 1], [0, 0, 0]], { dtype: 'int32' });
  const { output, weights } = mha.forward(x, x, x, { attnMask, keyPaddingMask, averageAttnWeights: false });
  const w = weights!.toArray() as number[][][][];
  for (let b = 0; b < 2; b++) for (let h = 0; h < 2; h++) {
    assert.equal(w[b]![h]![0]![1], 0);
    assert.deepEqual(w[b]![h]![1], [0, 0, 0]);
    if (b === 0) assert.equal(w[b]![h]![2]![2], 0);
  }
  // an empty row's attention output is zero, so the output is out_proj's bias there
  const out = output.toArray() as number[][][];
  assertClose(out[0]![1]!, values(mha.out_proj.bias!), 'empty row -> bias only');
  output.sum().backward();
  assert.ok(values(x.grad!).every(Number.isFinite), 'gradients are finite');
  const sa = new nn.SelfAttention(4, { generator: g() });
  const tr = sa.inspect(q.randn([3, 4]), { attnMask });
  assert.deepEqual((tr.alphaPrime.toArray() as number[][])[1], [0, 0, 0]);
  assert.deepEqual((tr.b.toArray() as number[][])[1], [0, 0, 0, 0]);
});

test('truncated and graph attention only look where allowed', () => {
  const sa = new nn.SelfAttention(4, { generator: g() });
  const a = q.randn([5, 4], { generator: g() });
  const win = sa.inspect(a, { attnMask: nn.windowMask(5, 1) }).alphaPrime.toArray() as number[][];
  win.forEach((row, i) => row.forEach((w, j) => { if (Math.abs(i - j) > 1) assert.equal(w, 0); else assert.ok(w > 0); }));
  const graph = sa.inspect(a, { attnMask: nn.graphMask(5, [[0, 1], [1, 2], [3, 4]]) }).alphaPrime.toArray() as number[][];
  assert.deepEqual(graph[0]!.map((w) => w > 0), [true, true, false, false, false]);
  assert.deepEqual(graph[4]!.map((w) => w > 0), [false, false, false, true, true]);
});

test('gradients of the modules match finite differences', () => {
  const opts = { eps: 1e-2, atol: 3e-3, rtol: 2e-2 };
  for (const relevance of ['dot', 'additive'] as const) {
    const sa = new nn.SelfAttention(3, { relevance, generator: g() });
    gradcheck(`SelfAttention ${relevance}`, (a, Wq) => { void Wq; return sa.forward(a, { attnMask: nn.causalMask(4) }); }, [leaf([2, 4, 3], 2), sa.Wq], opts);
  }
  const mha = new nn.MultiheadAttention(4, 2, { generator: g(), kdim: 3, vdim: 5 });
  gradcheck('MultiheadAttention cross', (x, k, v) => mha.forward(x, k, v, { keyPaddingMask: nn.paddingMask([3, 2]) }).output,
    [leaf([2, 2, 4], 3), leaf([2, 3, 3], 4), leaf([2, 3, 5], 5), mha.q_proj_weight!], opts);
  const add = new nn.MultiheadAttention(4, 2, { attention: 'additive', generator: g() });
  gradcheck('MultiheadAttention additive', (x) => add.forward(x, x, x, { isCausal: true }).output, [leaf([1, 3, 4], 6), add.additive_w!], opts);
  const enc = new nn.TransformerEncoderLayer(4, 2, { dimFeedforward: 6, dropout: 0, normFirst: true, activation: 'gelu', generator: g() });
  gradcheck('TransformerEncoderLayer', (x) => enc.forward(x), [leaf([2, 3, 4], 7), enc.linear1.weight, enc.norm1.weight as Tensor], opts);
  const dec = new nn.TransformerDecoderLayer(4, 2, { dimFeedforward: 6, dropout: 0, generator: g() });
  gradcheck('TransformerDecoderLayer', (x, m) => dec.forward(x, m, { tgtIsCausal: true }), [leaf([2, 3, 4], 8), leaf([2, 2, 4], 9), dec.multihead_attn.in_proj_weight as Tensor], opts);
  const rope = new nn.RotaryEmbedding(4);
  gradcheck('RotaryEmbedding', (x) => rope.apply(x, 2), [leaf([1, 2, 3, 4], 10)], opts);
  const pos = new nn.LearnedPositionalEncoding(6, 4, { generator: g() });
  gradcheck('LearnedPositionalEncoding', (x) => pos.forward(x, 1).tanh(), [leaf([2, 3, 4], 11), pos.weight], opts);
});

test('RoPE: q·k depends only on the distance between positions', () => {
  const rope = new nn.RotaryEmbedding(8);
  const qv = q.randn([1, 1, 1, 8], { generator: g() });
  const kv = q.randn([1, 1, 1, 8], { generator: new Generator(3) });
  const dot = (i: number, j: number) => noGrad(() => q.sum(q.mul(rope.apply(qv, i), rope.apply(kv, j))).item());
  assert.ok(Math.abs(dot(5, 3) - dot(12, 10)) < 1e-4);
  assert.ok(Math.abs(dot(0, 0) - q.sum(q.mul(qv, kv)).item()) < 1e-5, 'position 0 is not rotated');
  assert.ok(Math.abs(dot(5, 3) - dot(5, 4)) > 1e-3, 'a different distance gives a different score');
  rope.apply(q.zeros([1, 1, 3, 8]), 5000); // grows its tables on demand
});

test('KV cache: decoding one token at a time equals the full causal pass (with RoPE)', () => {
  const mha = new nn.MultiheadAttention(8, 2, { rope: new nn.RotaryEmbedding(4), generator: g() });
  const x = q.randn([2, 6, 8], { generator: g() });
  noGrad(() => {
    const full = mha.forward(x, x, x, { isCausal: true }).output;
    const cache = new nn.KVCache();
    const steps: Tensor[] = [];
    for (let t = 0; t < 6; t += 2) { const xt = x.slice(1, t, t + 2); steps.push(mha.forward(xt, xt, xt, { isCausal: true, cache }).output); }
    assertClose(values(q.concat(steps, 1)), values(full), 'cached vs full', 1e-5, 1e-5);
    assert.equal(cache.length, 6);
    cache.dispose();
  });
});

test('GPT: tied embedding, nanoGPT loading quirks, cached generation', () => {
  const gpt = new nn.GPT({ vocabSize: 7, blockSize: 6, nLayer: 1, nHead: 2, nEmbd: 4, generator: g() });
  assert.equal(gpt.lm_head.weight, gpt.transformer.wte.weight, 'one tensor, two names');
  assert.equal(gpt.parameters().filter((p) => p === gpt.lm_head.weight).length, 1);
  const sd = new Map(gpt.stateDict());
  sd.set('transformer.h.0.attn.bias', q.ones([1, 1, 6, 6]));
  const renamed = new Map([...sd].map(([k, v]) => [`_orig_mod.${k}`, v]));
  const fresh = new nn.GPT({ vocabSize: 7, blockSize: 6, nLayer: 1, nHead: 2, nEmbd: 4, generator: new Generator(99) });
  fresh.loadStateDict(renamed);
  const idx = q.tensor([[1, 2, 3, 4]], { dtype: 'int32' });
  assertClose(values(fresh.forward(idx).logits), values(gpt.forward(idx).logits), 'loaded GPT');
  assert.throws(() => gpt.forward(q.zeros([1, 7], { dtype: 'int32' })), /GPT: cannot forward a sequence of length 7, block size is only 6/);
});

test('bad input errors name the module, the key and the shapes', () => {
  assert.throws(() => new nn.MultiheadAttention(10, 3), /MultiheadAttention: numHeads \(3\) must divide embedDim \(10\)/);
  assert.throws(() => new nn.TransformerEncoderLayer(8, 3), /TransformerEncoderLayer: nhead \(3\) must divide dModel \(8\)/);
  const mha = new nn.MultiheadAttention(8, 2);
  assert.throws(() => mha.forward(q.zeros([1, 3, 6])), /MultiheadAttention: query of shape \[1, 3, 6\] must be \(B, N, 8\)/);
  assert.throws(() => mha.forward(q.zeros([1, 3, 8]), undefined, undefined, { attnMask: q.zeros([4, 4], { dtype: 'int32' }) }),
    /MultiheadAttention: attention mask of shape \[4, 4\] does not fit scores \(B=1, H=2, L=3, S=3\)/);
  assert.throws(() => mha.forward(q.zeros([2, 3, 8]), undefined, undefined, { keyPaddingMask: q.zeros([2, 4], { dtype: 'int32' }) }),
    /key padding mask of shape \[2, 4\] does not fit batch 2 and 3 keys/);
  const lin = new nn.Linear(3, 2);
  assert.throws(() => lin.forward(q.zeros([2, 4])), /Linear: input of shape \[2, 4\] has last dim 4, expected inFeatures = 3/);
  assert.throws(() => lin.loadStateDict({ weight: q.zeros([2, 3]) }), /Linear: cannot load state dict: missing keys: "bias" \[2\]/);
  assert.throws(() => lin.loadStateDict({ weight: q.zeros([3, 2]), bias: q.zeros([2]) }), /"weight" has shape \[3, 2\] in the state dict, \[2, 3\] in the model/);
  assert.throws(() => lin.loadStateDict({ weight: q.zeros([2, 3]), bias: q.zeros([2]), extra: q.zeros([1]) }), /unexpected keys: "extra"/);
  const before = values(lin.weight);
  assert.throws(() => lin.loadStateDict({ weight: q.ones([2, 3]), bias: q.zeros([3]) }));
  assert.deepEqual(values(lin.weight), before, 'nothing changed by a refused load');
  assert.deepEqual(lin.loadStateDict({ weight: q.ones([2, 3]) }, { strict: false }).missing, ['bias']);
  assert.deepEqual(values(lin.weight), [1, 1, 1, 1, 1, 1]);
});

test('train/eval reaches every child; dropout is off in eval', () => {
  const enc = new nn.TransformerEncoderLayer(4, 2, { dimFeedforward: 8, dropout: 0.5 });
  enc.eval();
  assert.equal(enc.self_attn.out_proj.training, false);
  const x = q.randn([1, 3, 4]);
  assert.deepEqual(values(enc.forward(x)), values(enc.forward(x)), 'deterministic in eval');
  enc.train();
  assert.equal(enc.dropout1.training, true);
});

test('linear attention in MultiheadAttention and GPT: recurrent decoding equals the parallel causal pass', () => {
  const gpt = new nn.GPT({ vocabSize: 9, blockSize: 12, nLayer: 2, nHead: 2, nEmbd: 8, attention: 'linear', generator: g() });
  const idx = q.randint(0, 9, [2, 7], { generator: g() });
  const full = gpt.forward(idx, { targets: idx });
  full.loss!.backward();
  assert.ok(values(gpt.transformer.h.at(0).attn.c_attn.weight.grad!).every(Number.isFinite));
  noGrad(() => {
    const caches = gpt.makeCaches(2);
    const steps = Array.from({ length: 7 }, (_, t) => gpt.forward(idx.slice(1, t, t + 1), { caches }).logits);
    assertClose(values(q.concat(steps, 1)), values(full.logits), 'recurrent vs parallel', 1e-5, 1e-5);
  });
  const mha = new nn.MultiheadAttention(4, 2, { attention: 'linear', generator: g() });
  const x = leaf([2, 3, 4], 12);
  const res = mha.forward(x, x, x, { isCausal: true, keyPaddingMask: nn.paddingMask([3, 2]) });
  assert.equal(res.weights, null, 'linear attention never forms the N x N weights');
  gradcheck('linear MultiheadAttention', (x) => mha.forward(x, x, x, { isCausal: true }).output, [x, mha.in_proj_weight as Tensor], { atol: 3e-3, rtol: 2e-2 });
  assert.throws(() => mha.forward(x, x, x, { attnMask: nn.graphMask(3, [[0, 1]]) }), /linear attention cannot honour an attention mask/);
  assert.throws(() => gpt.forward(idx, { caches: [new nn.KVCache(), new nn.KVCache()] }), /GPT: linear attention decodes with a LinearAttentionState, not a KVCache/);
});
