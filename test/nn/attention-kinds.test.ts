// One place per attention kind: a kind registered here, in one definition, works in
// MultiheadAttention, GPT (with step-by-step decoding) and the seq2seq model, and shows up
// in the list the CLI's --attention choices read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manualSeed, nn, randn, softmax, tensor, tidy, Seq2SeqModel, DEFAULT_SEQ2SEQ_MODEL, greedyBatch, div, matmul, transpose, sqrt, sum, mul, maskedFill } from '../../src/index.js';
import type { Tensor } from '../../src/index.js';

// Cosine relevance: alpha_{i,j} = cos(q^i, k^j) / tau, with a learned temperature per head.
const cosine = nn.registerAttentionKind({
  name: 'cosine',
  summary: 'softmax(cos(q, k) / tau)',
  honours: { attnMask: false, window: false, keyPaddingMask: true, keyPaddingWhileDecoding: true },
  weights: true,
  params: (heads) => ({ cosine_tau: tensor(new Float32Array(heads).fill(0.1), { shape: [heads] }) }),
  makeCache: () => new nn.KVCache(),
  attend(c) {
    return tidy(() => {
      const { k, v } = c.cache ? nn.asKVCache(c.cache, c.module).append(c.k, c.v) : c;
      const unit = (x: Tensor) => div(x, sqrt(sum(mul(x, x), -1, true)));
      const [B, H, L] = c.q.shape as number[];
      const S = k.shape[2]!;
      let alpha = div(matmul(unit(c.q), transpose(unit(k))), c.params.cosine_tau!.reshape([1, H!, 1, 1])); // (B, H, L, S)
      if (c.causal) alpha = maskedFill(alpha, nn.causalMask(L!, S), -Infinity);
      if (c.keyPaddingMask) alpha = maskedFill(alpha, c.keyPaddingMask.reshape([B!, 1, 1, S]), -Infinity);
      const alphaPrime = softmax(alpha, -1);
      return { b: matmul(alphaPrime, v), alphaPrime: c.needWeights ? alphaPrime : null };
    });
  },
});

const close = (a: Tensor, b: Tensor, tol = 1e-5) => {
  const x = a.toTypedArray();
  const y = b.toTypedArray();
  assert.equal(x.length, y.length);
  for (let i = 0; i < x.length; i++) assert.ok(Math.abs(x[i]! - y[i]!) <= tol, `element ${i}: ${x[i]} vs ${y[i]}`);
};

test('a registered kind is listed with the built-in ones', () => {
  assert.deepEqual([...nn.ATTENTION_KINDS].slice(0, 4), ['softmax', 'relu', 'additive', 'linear']);
  assert.ok(nn.ATTENTION_KINDS.includes('cosine'));
  assert.equal(nn.attentionKind('cosine', 'test'), cosine);
  assert.throws(() => nn.attentionKind('nope', 'GPT'), /GPT: attention must be one of softmax, relu, additive, linear.*cosine, got "nope"/);
});

test('MultiheadAttention with the new kind: its parameter, weights that sum to 1, and what it refuses', () => {
  manualSeed(1);
  const mha = new nn.MultiheadAttention(8, 2, { attention: 'cosine' });
  assert.ok(mha.stateDict().has('cosine_tau'));
  tidy(() => {
    const x = randn([2, 5, 8]);
    const { output, weights } = mha.forward(x, x, x, { isCausal: true, averageAttnWeights: false });
    assert.deepEqual(output.shape, [2, 5, 8]);
    const w = weights!.toTypedArray();
    for (let r = 0; r < 2 * 2 * 5; r++) {
      let s = 0;
      for (let j = 0; j < 5; j++) s += w[r * 5 + j]!;
      assert.ok(Math.abs(s - 1) < 1e-5);
    }
    assert.equal(w[1], 0); // causal: query 0 never sees key 1
    assert.throws(() => mha.forward(x, x, x, { window: 1 }), /MultiheadAttention: cosine attention cannot honour a window/);
    assert.throws(() => mha.forward(x, x, x, { attnMask: nn.graphMask(5, [[0, 1]]) }), /cosine attention cannot honour an attention mask/);
  });
  // its parameter trains like any other
  tidy(() => {
    const x = randn([1, 3, 8]);
    mha.forward(x, x, x).output.sum().backward();
  });
  assert.ok(mha.additive_w === null && mha.kindParams.cosine_tau!.grad !== null);
});

test('GPT with the new kind: cached decoding equals the full causal pass', () => {
  manualSeed(2);
  const gpt = new nn.GPT({ vocabSize: 11, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 8, attention: 'cosine' });
  gpt.eval();
  assert.ok(gpt.stateDict().has('transformer.h.0.attn.cosine_tau'));
  tidy(() => {
    const idx = tensor([[1, 5, 2, 9, 3, 7]], { dtype: 'int32' });
    const full = gpt.forward(idx).logits; // (1, 6, 11)
    const caches = gpt.makeCaches(1);
    const steps: Tensor[] = [];
    for (let t = 0; t < 6; t++) steps.push(gpt.forward(idx.slice(1, t, t + 1), { caches }).logits);
    for (let t = 0; t < 6; t++) close(steps[t]!, full.slice(1, t, t + 1));
    for (const c of caches) c.dispose();
  });
});

test('seq2seq with the new kind: decoding on caches equals teacher forcing, and beam search reorders its caches', () => {
  manualSeed(3);
  const model = new Seq2SeqModel(9, 9, { ...DEFAULT_SEQ2SEQ_MODEL, dModel: 8, heads: 2, layers: 1, ff: 16, attention: 'cosine' });
  model.eval();
  const ids = { bos: 1, eos: 2, banned: [0, 1] };
  const [out] = greedyBatch(model, [[3, 4, 5, 6]], [5], ids);
  assert.ok(out!.length > 0);
  // the greedy tokens are the argmax of the teacher-forced pass over them
  tidy(() => {
    const src = tensor([[3, 4, 5, 6]], { dtype: 'int32' });
    const pad = tensor([[0, 0, 0, 0]], { dtype: 'int32' });
    const tgtIn = tensor([[1, ...out!.slice(0, -1)]], { dtype: 'int32' });
    const logits = model.forward(src, pad, tgtIn).toTypedArray();
    out!.forEach((tok, t) => {
      const row = Array.from(logits.slice(t * 9, (t + 1) * 9));
      row[0] = row[1] = -Infinity;
      assert.equal(row.indexOf(Math.max(...row)), tok);
    });
  });
});
