// The lm task: nanoGPT's data handling (split, get_batch), training that learns a predictable
// text, evaluation of whole texts, and generation with KV caches / recurrent state that gives
// exactly the tokens of nanoGPT's uncached loop, including past the block size.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EvalResult } from '../../src/index.js';
import {
  createLm, generate, generateTokens, getBatch, Generator, lmDriver, lmTraining, memory, nn, noGrad, QkvError, splitTokens, tensor,
  textLoss, Trainer, wordPieces, argmax,
} from '../../src/index.js';
import { syntheticText } from './lm-text.js';

const tiny = (attention: 'softmax' | 'relu' | 'linear', blockSize = 16, seed = 3) =>
  new nn.GPT({ vocabSize: 11, blockSize, nLayer: 2, nHead: 2, nEmbd: 16, attention, generator: new Generator(seed) });

test('data: the first 90% trains (int(n*0.9)), get_batch gives next-token targets from offsets in [0, n - block)', () => {
  const data = Int32Array.from({ length: 1000 }, (_, i) => i);
  const { train, val } = splitTokens(data);
  assert.equal(train.length, 900);
  assert.equal(val[0], 900);
  assert.equal(splitTokens(new Int32Array(7)).train.length, Math.floor(7 * 0.9));
  const g = new Generator(1);
  const b = getBatch(train, 5, 8, g);
  assert.equal(b.x.length, 40);
  for (let r = 0; r < 5; r++) {
    const i = b.x[r * 8]!;
    assert.ok(i >= 0 && i < 900 - 8);
    for (let t = 0; t < 8; t++) {
      assert.equal(b.x[r * 8 + t], i + t);
      assert.equal(b.y[r * 8 + t], i + t + 1);
    }
  }
  // the same generator state gives the same batch
  const again = getBatch(train, 5, 8, new Generator(1));
  assert.deepEqual(again.x, b.x);
});

test('create: nanoGPT\'s character vocabulary, GPT config, and clear errors for a short text or an unknown character', () => {
  const m = createLm('hello world\n', { model: { blockSize: 4, nLayer: 1, nHead: 1, nEmbd: 8 } });
  assert.deepEqual(m.config.vocab, { kind: 'chars', chars: ['\n', ' ', 'd', 'e', 'h', 'l', 'o', 'r', 'w'] });
  assert.equal(m.model.config.vocabSize, 9);
  assert.equal(m.model.config.bias, false);
  assert.throws(() => lmTraining(m, ['hello world\n'], [], {}), /validation split has 2 tokens, not more than the block size 4/);
  assert.throws(() => generate(m, 'xyz'), (e: Error) => e instanceof QkvError && /the prompt has the character "x"/.test(e.message));
  const again = lmDriver.fromConfig(JSON.parse(JSON.stringify(m.config)));
  assert.equal(again.tokenizer.decode(again.tokenizer.encode('hello')), 'hello');
});

test('words: whitespace, words and punctuation round-trip through the word vocabulary', () => {
  const text = "It's a cat.  The cat sat,\nthen ran!";
  assert.equal(wordPieces(text).join(''), text);
  assert.deepEqual(wordPieces("It's a cat."), ["It's", ' ', 'a', ' ', 'cat', '.']);
  const m = createLm(text, { tokenize: 'words', model: { blockSize: 4, nLayer: 1, nHead: 1, nEmbd: 8 } });
  assert.equal(m.tokenizer.decode(m.tokenizer.encode(text)), text);
  assert.equal(m.tokenizer.decode(m.tokenizer.encode('a dog')), 'a <unk>');
});

test('training: the val loss falls from ~ln(vocab) to below 0.6 nat per character on the synthetic text (measured ~0.28)', () => {
  const text = syntheticText(20000);
  const m = createLm(text, { model: { blockSize: 32, nLayer: 2, nHead: 2, nEmbd: 32 }, generator: new Generator(2) });
  const task = lmTraining(m, [text], [], { batchSize: 8, evalIters: 10 });
  const V = m.tokenizer.size;
  const before = noGrad(() => task.evaluate(new Generator(5)) as EvalResult).metrics; // sync on a host backend
  assert.ok(Math.abs(before.valLoss! - Math.log(V)) < 0.3, `initial val loss ${before.valLoss} vs ln(${V}) = ${Math.log(V)}`);
  const trainer = new Trainer(m.model, task, { maxSteps: 250, lr: 1e-2, minLr: 1e-3, warmup: 10, beta2: 0.99, weightDecay: 0.1, evalEvery: 250, seed: 0 });
  const t0 = performance.now();
  const last = trainer.run()!;
  const ms = (performance.now() - t0) / 250;
  trainer.dispose();
  const { valLoss, trainLoss, valPerplexity } = last.metrics;
  console.log(`lm: vocab ${V}, val loss ${before.valLoss!.toFixed(3)} -> ${valLoss!.toFixed(3)} (train ${trainLoss!.toFixed(3)}) in 250 steps, ${ms.toFixed(0)} ms/step`);
  assert.equal(last.main, 'valLoss');
  assert.equal(last.higherIsBetter, false);
  assert.ok(valLoss! < 0.6, `val loss ${valLoss} should be < 0.6`);
  assert.ok(Math.abs(valPerplexity! - Math.exp(valLoss!)) < 1e-9);
  // greedy text continues a sentence it has learned
  const out = generate(m, 'we drink t', { maxNewTokens: 13, temperature: 0 });
  assert.equal(out, 'ea with milk.');
});

test('evaluate: non-overlapping block windows score every token once', () => {
  const gpt = tiny('softmax', 8);
  const ids = Int32Array.from({ length: 21 }, (_, i) => (i * 7) % 11);
  const r = textLoss(gpt, ids);
  assert.equal(r.tokens, 20);
  // by hand: windows [0, 8), [8, 16), [16, 20)
  let sum = 0;
  for (const [s, len] of [[0, 8], [8, 8], [16, 4]] as const) {
    const x = tensor(ids.slice(s, s + len), { shape: [1, len] });
    const y = tensor(ids.slice(s + 1, s + 1 + len), { shape: [1, len] });
    sum += noGrad(() => gpt.forward(x, { targets: y }).loss!.item()) * len;
    x.dispose(); y.dispose();
  }
  assert.ok(Math.abs(r.sum - sum) < 1e-4, `${r.sum} vs ${sum}`);
  assert.ok(Math.abs(r.loss - sum / 20) < 1e-5);
});

for (const attention of ['softmax', 'relu', 'linear'] as const) {
  test(`generation (${attention}): cached decoding equals the uncached loop token for token, past the block size`, () => {
    const gpt = tiny(attention, 16);
    const prompt = [1, 2, 3];
    // greedy: 40 new tokens, so the context is cropped to 16 from token 14 on
    const cached = generateTokens(gpt, prompt, { maxNewTokens: 40, temperature: 0 });
    const plain = generateTokens(gpt, prompt, { maxNewTokens: 40, temperature: 0, useCache: false });
    assert.equal(cached.length, 40);
    assert.deepEqual(cached, plain);
    // sampling too: the same draws from the same seed
    const s1 = generateTokens(gpt, prompt, { maxNewTokens: 40, temperature: 1, generator: new Generator(9) });
    const s2 = generateTokens(gpt, prompt, { maxNewTokens: 40, temperature: 1, generator: new Generator(9), useCache: false });
    assert.deepEqual(s1, s2);
  });
}

test('generation: the same seed gives the same sample, another seed another one; top-k 1 is greedy', () => {
  const gpt = tiny('softmax');
  const sample = (seed: number) => generateTokens(gpt, [0], { maxNewTokens: 50, temperature: 1.5, generator: new Generator(seed) });
  assert.deepEqual(sample(1), sample(1));
  assert.notDeepEqual(sample(1), sample(2));
  const greedy = generateTokens(gpt, [0], { maxNewTokens: 20, temperature: 0 });
  assert.deepEqual(generateTokens(gpt, [0], { maxNewTokens: 20, topK: 1, generator: new Generator(3) }), greedy);
});

test('linear attention decodes with its constant-size recurrent state and matches its parallel argmax', () => {
  const gpt = tiny('linear', 32);
  const caches = gpt.makeCaches(1);
  assert.ok(caches.every((c) => c instanceof Object && 'steps' in c), 'LinearAttentionState caches');
  caches.forEach((c) => c.dispose());
  const prompt = [4, 1, 7];
  const out = generateTokens(gpt, prompt, { maxNewTokens: 25, temperature: 0 }); // 28 <= 32: no cropping
  // the parallel (causal linear attention) forward over the whole sequence: each generated
  // token is the argmax at the position before it
  const seq = [...prompt, ...out];
  const pred = noGrad(() => {
    const x = tensor(Int32Array.from(seq), { shape: [1, seq.length] });
    const { logits } = gpt.forward(x);
    const a = Array.from(argmax(logits, -1).toTypedArray());
    x.dispose(); logits.dispose();
    return a;
  });
  for (let i = 0; i < out.length; i++) assert.equal(out[i], pred[prompt.length - 1 + i], `token ${i}`);
});

test('generation: a prompt longer than the block size is cropped to its last blockSize tokens; nothing leaks', () => {
  const gpt = tiny('softmax', 8);
  const long = Array.from({ length: 20 }, (_, i) => i % 11);
  const a = generateTokens(gpt, long, { maxNewTokens: 12, temperature: 0 });
  const b = generateTokens(gpt, long.slice(-8), { maxNewTokens: 12, temperature: 0 });
  assert.deepEqual(a, b);
  const lin = tiny('linear', 8);
  const before = memory().tensors;
  generateTokens(gpt, long, { maxNewTokens: 30, temperature: 0.7, generator: new Generator(0) });
  generateTokens(lin, [1], { maxNewTokens: 30, temperature: 0 });
  assert.equal(memory().tensors, before, 'caches and temporaries are freed');
  assert.throws(() => generateTokens(gpt, [], { maxNewTokens: 1 }), /at least one token/);
  assert.throws(() => generateTokens(gpt, [11], { maxNewTokens: 1 }), /out of range for a vocabulary of 11/);
});
