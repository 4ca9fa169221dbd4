import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gptGraph } from '../../../src/io/onnx/gpt.js';
import { GPT } from '../../../src/nn/models/gpt.js';
import { Generator } from '../../../src/core/rng.js';
import { tensor } from '../../../src/ops/creation.js';
import { noGrad } from '../../../src/tensor/engine.js';
import { assertOnnxClose, int64, runOnnx, type Feed } from './ort.js';
import { generateTokens } from '../../../src/tasks/lm.js';

const kinds = ['softmax', 'relu', 'linear'] as const;

function model(attention: (typeof kinds)[number]): GPT {
  const gpt = new GPT({ vocabSize: 11, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 8, attention, generator: new Generator(3) });
  gpt.eval();
  return gpt;
}

function randomIds(B: number, T: number, seed: number): number[] {
  const g = new Generator(seed);
  return Array.from({ length: B * T }, () => g.int(0, 11));
}

for (const attention of kinds) {
  test(`GPT (${attention} attention): ONNX Runtime's logits equal qkv's on two batch sizes and lengths`, async () => {
    const gpt = model(attention);
    const bytes = gptGraph(gpt, 'forward', 17).encode();
    for (const [B, T] of [[1, 5], [3, 9]] as const) {
      const ids = randomIds(B, T, B * 10 + T);
      const expected = noGrad(() => gpt.forward(tensor(ids, { shape: [B, T], dtype: 'int32' })).logits.toTypedArray());
      const out = await runOnnx(bytes, { idx: { data: int64(ids), dims: [B, T] } });
      assert.deepEqual(out.logits!.dims, [B, T, 11]);
      assertOnnxClose(out.logits!.data, expected, `logits B=${B} T=${T}`);
    }
  });
}

/** The decoder graph's empty cache for batch B. */
function emptyCache(gpt: GPT, B: number): Feed {
  const { nLayer, nHead, nEmbd, attention } = gpt.config;
  const hs = nEmbd / nHead;
  const feed: Feed = {};
  for (let i = 0; i < nLayer; i++) {
    if (attention === 'linear') {
      feed[`past_S_${i}`] = { data: new Float32Array(B * nHead * hs * hs), dims: [B, nHead, hs, hs] };
      feed[`past_z_${i}`] = { data: new Float32Array(B * nHead * hs), dims: [B, nHead, hs] };
    } else {
      feed[`past_key_${i}`] = { data: new Float32Array(0), dims: [B, nHead, 0, hs] };
      feed[`past_value_${i}`] = { data: new Float32Array(0), dims: [B, nHead, 0, hs] };
    }
  }
  if (attention === 'linear') feed.past_length = { data: int64([0]), dims: [] };
  return feed;
}

/** The present outputs fed back as the next call's past. */
function nextCache(out: Record<string, { data: Float32Array; dims: readonly number[] }>, past: number): Feed {
  const feed: Feed = {};
  for (const [k, v] of Object.entries(out)) if (k.startsWith('present_')) feed[k.replace('present_', 'past_')] = { data: v.data, dims: [...v.dims] };
  if ('past_S_0' in feed) feed.past_length = { data: int64([past]), dims: [] };
  return feed;
}

for (const attention of kinds) {
  test(`GPT (${attention}) decoding graph: a prompt, then one token on the cache, equals the full pass`, async () => {
    const gpt = model(attention);
    const bytes = gptGraph(gpt, 'decoder', 17).encode();
    const B = 2;
    const T = 6;
    const ids = randomIds(B, T + 1, 7);
    const full = noGrad(() => gpt.forward(tensor(ids, { shape: [B, T + 1], dtype: 'int32' })).logits.toTypedArray());
    const prompt = ids.filter((_, i) => i % (T + 1) < T);
    const first = await runOnnx(bytes, { idx: { data: int64(prompt), dims: [B, T] }, ...emptyCache(gpt, B) });
    const expectedPrompt = Array.from({ length: B }, (_, b) => Array.from(full.subarray(b * (T + 1) * 11, (b * (T + 1) + T) * 11))).flat();
    assertOnnxClose(first.logits!.data, expectedPrompt, 'prompt logits');
    const last = ids.filter((_, i) => i % (T + 1) === T);
    const second = await runOnnx(bytes, { idx: { data: int64(last), dims: [B, 1] }, ...nextCache(first, T) });
    const expectedLast = Array.from({ length: B }, (_, b) => Array.from(full.subarray((b * (T + 1) + T) * 11, (b + 1) * (T + 1) * 11))).flat();
    assertOnnxClose(second.logits!.data, expectedLast, 'logits of the token after the cache');
  });

  test(`GPT (${attention}): greedy generation in ONNX Runtime gives qkv's tokens`, async () => {
    const gpt = model(attention);
    const bytes = gptGraph(gpt, 'decoder', 17).encode();
    const prompt = [1, 2, 3];
    const expected = generateTokens(gpt, prompt, { maxNewTokens: 10, temperature: 0 });
    const got: number[] = [];
    let out = await runOnnx(bytes, { idx: { data: int64(prompt), dims: [1, prompt.length] }, ...emptyCache(gpt, 1) });
    let seen = prompt.length;
    for (let step = 0; step < 10; step++) {
      const logits = out.logits!.data.subarray(out.logits!.data.length - 11);
      const next = logits.indexOf(Math.max(...logits));
      got.push(next);
      if (step === 9) break;
      out = await runOnnx(bytes, { idx: { data: int64([next]), dims: [1, 1] }, ...nextCache(out, seen) });
      seen++;
    }
    assert.deepEqual(got, expected);
  });
}

test('GPT at opset 23: the Attention operator, full pass and KV-cache step equal qkv', async () => {
  const gpt = model('softmax');
  const forward = gptGraph(gpt, 'forward', 23).encode();
  const decoder = gptGraph(gpt, 'decoder', 23).encode();
  assert.ok(Buffer.from(forward).includes('Attention_node'));
  const B = 2;
  const T = 5;
  const ids = randomIds(B, T + 1, 9);
  const full = noGrad(() => gpt.forward(tensor(ids, { shape: [B, T + 1], dtype: 'int32' })).logits.toTypedArray());
  const out = await runOnnx(forward, { idx: { data: int64(ids), dims: [B, T + 1] } });
  assertOnnxClose(out.logits!.data, full, 'full pass');
  const prompt = ids.filter((_, i) => i % (T + 1) < T);
  const first = await runOnnx(decoder, { idx: { data: int64(prompt), dims: [B, T] }, ...emptyCache(gpt, B) });
  const second = await runOnnx(decoder, { idx: { data: int64(ids.filter((_, i) => i % (T + 1) === T)), dims: [B, 1] }, ...nextCache(first, T) });
  const expectedLast = Array.from({ length: B }, (_, b) => Array.from(full.subarray((b * (T + 1) + T) * 11, (b + 1) * (T + 1) * 11))).flat();
  assertOnnxClose(second.logits!.data, expectedLast, 'step on the cache');
});
