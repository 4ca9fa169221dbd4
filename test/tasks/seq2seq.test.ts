// The seq2seq task: incremental (cached) decoding equals re-decoding the whole prefix, beam
// size 1 equals greedy, padding does not change an example's loss, and the quality bar: a
// small encoder-decoder Transformer learns to reverse strings (>= 99% exact match on held-out
// sources) in well under a minute and a half on the reference backend.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  crossEntropy, data, decode, Generator, logSoftmax, memory, noGrad, seq2seqBatch, seq2seqDriver, seq2seqLogits, tensor, tidy, Trainer,
  type Seq2SeqInstance, type Seq2SeqModelConfig,
} from '../../src/index.js';
import { beamDecode, greedyBatch, padIds, type GenerationIds } from '../../src/tasks/seq2seq-decode.js';
import { assertClose } from '../helpers.js';

const pairs = data.builtinDataset('reverse', { seed: 3, n: 200 });

function untrained(model: Partial<Seq2SeqModelConfig> = {}): Seq2SeqInstance {
  const m = seq2seqDriver.create(pairs, { model: { dModel: 16, heads: 2, layers: 2, ff: 32, dropout: 0.1, ...model }, generator: new Generator(7) });
  m.model.eval();
  return m;
}

const ids = (m: Seq2SeqInstance): GenerationIds => ({ bos: m.target.bos, eos: m.target.eos, banned: [m.target.pad, m.target.bos] });

/** Log-probabilities of the next token after each prefix, by running the decoder over the whole prefix (no cache). */
function uncachedStep(m: Seq2SeqInstance, source: Int32Array): decode.StepFn {
  return (prefixes) => tidy(() => noGrad(() => prefixes.map((p) => {
    const { ids: src, pad } = padIds([source]);
    const logits = m.model.forward(src, pad, tensor(Int32Array.from(p), { shape: [1, p.length] }));
    const V = logits.shape[2]!;
    const row = (logSoftmax(logits, -1).toTypedArray() as Float32Array).slice((p.length - 1) * V);
    row[m.target.pad] = row[m.target.bos] = -Infinity;
    return row;
  })));
}

const variants: [string, Partial<Seq2SeqModelConfig>][] = [
  ['softmax + sinusoidal', {}],
  ['softmax + learned', { pos: 'learned' }],
  ['softmax + rope', { pos: 'rope' }],
  ['post-LN, no positions', { normFirst: false, pos: 'none' }],
  ['relu attention', { attention: 'relu' }],
  ['additive attention', { attention: 'additive' }],
  ['linear attention', { attention: 'linear' }],
];

for (const [name, model] of variants) {
  test(`cached decoding equals full re-decoding (${name})`, () => {
    const m = untrained(model);
    const batch = pairs.slice(0, 5);
    // step by step with caches on a padded batch = the whole target prefix at once, position by position
    const b = seq2seqBatch(m, batch);
    const full = tidy(() => noGrad(() => seq2seqLogits(m, b).toTypedArray() as Float32Array));
    const [B, T] = b.tgtIn.shape as [number, number];
    const V = m.target.size;
    const tgt = b.tgtIn.toTypedArray();
    const steps = tidy(() => noGrad(() => {
      const memory = m.model.encode(b.src, b.srcPad);
      const caches = m.model.makeCaches(B);
      const out = new Float32Array(B * T * V);
      for (let t = 0; t < T; t++) {
        const x = tensor(Int32Array.from({ length: B }, (_, i) => tgt[i * T + t]!), { shape: [B, 1] });
        const l = m.model.decode(x, memory, { srcPad: b.srcPad, caches, offset: t }).toTypedArray();
        for (let i = 0; i < B; i++) out.set(l.subarray(i * V, (i + 1) * V), (i * T + t) * V);
      }
      caches.forEach((c) => c.dispose());
      return out;
    }));
    // compare only real (non-padding) target positions
    const pad = b.tgtPad.toTypedArray();
    const keep = (a: Float32Array) => Array.from(a).filter((_, k) => pad[Math.floor(k / V)] === 0);
    assertClose(keep(steps), keep(full), 'cached vs full logits', 1e-4, 1e-4);
    // greedy and beam search with caches = the same searches re-decoding every prefix
    for (const e of batch.slice(0, 3)) {
      const src = m.source.encode(e.source);
      const maxLen = 2 * src.length + 10;
      const [cached] = greedyBatch(m.model, [src], [maxLen], ids(m));
      assert.deepEqual(cached, decode.greedyDecode(uncachedStep(m, src), { ...ids(m), maxLen }).tokens);
      const beam = decode.beamSearch(uncachedStep(m, src), { ...ids(m), maxLen, beamSize: 3 })[0]!.tokens;
      assert.deepEqual(beamDecode(m.model, src, maxLen, 3, ids(m)), beam);
    }
  });
}

test('beam size 1 equals greedy, and batched greedy equals one source at a time', () => {
  const m = untrained({ dModel: 32, heads: 4 });
  const inputs = pairs.slice(0, 12).map((e) => ({ source: e.source }));
  const greedy = seq2seqDriver.predict(m, inputs);
  assert.deepEqual(seq2seqDriver.predict(m, inputs, { beam: 1 }), greedy);
  inputs.forEach((x, i) => {
    const src = m.source.encode(x.source);
    assert.deepEqual(m.target.decode(beamDecode(m.model, src, 2 * src.length + 10, 1, ids(m))), greedy[i]);
    assert.deepEqual(seq2seqDriver.predict(m, [x])[0], greedy[i]);
  });
  // maxLen bounds every output
  for (const o of seq2seqDriver.predict(m, inputs, { maxLen: 2 })) assert.ok(o.length <= 2);
  // decoding and evaluating leave no tensor behind (caches included)
  const before = memory();
  seq2seqDriver.predict(m, inputs);
  seq2seqDriver.predict(m, inputs.slice(0, 2), { beam: 3 });
  seq2seqDriver.evaluate(m, pairs.slice(0, 8));
  assert.deepEqual([memory().tensors, memory().bytes], [before.tensors, before.bytes]);
});

test('a padded batch gives each example the loss it has alone', () => {
  const m = untrained();
  const batch = [pairs[0]!, pairs[1]!, { source: ['a'], target: ['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'a', 'b', 'c'] }, pairs[2]!];
  const perExample = (examples: typeof batch) => tidy(() => noGrad(() => {
    const b = seq2seqBatch(m, examples);
    const loss = crossEntropy(seq2seqLogits(m, b), b.labels, { reduction: 'none' }).toTypedArray() as Float32Array;
    const T = b.labels.shape[1]!;
    return examples.map((_, i) => loss.subarray(i * T, (i + 1) * T).reduce((a, x) => a + x, 0));
  }));
  const together = perExample(batch);
  const alone = batch.map((e) => perExample([e])[0]!);
  assertClose(together, alone, 'per-example loss', 1e-4, 1e-5);
  // labels: target + <eos>, -100 on padding; decoder input: <bos> + target
  const b = seq2seqBatch(m, [batch[0]!, batch[2]!]);
  const T = b.labels.shape[1]!;
  const y = Array.from(b.labels.toTypedArray());
  const n0 = batch[0]!.target.length;
  assert.equal(y[n0], m.target.eos);
  assert.ok(y.slice(n0 + 1, T).every((v) => v === -100));
  assert.equal(b.tgtIn.toTypedArray()[0], m.target.bos);
});

test('rebuilding from the config gives the same model', () => {
  const m = untrained();
  const again = seq2seqDriver.fromConfig(JSON.parse(JSON.stringify(m.config)) as Record<string, unknown>);
  again.model.loadStateDict(m.model.stateDict());
  again.model.eval();
  const inputs = pairs.slice(0, 4).map((e) => ({ source: e.source }));
  assert.deepEqual(seq2seqDriver.predict(again, inputs), seq2seqDriver.predict(m, inputs));
});

test('reverse: >= 99% exact match on held-out sources', (t) => {
  const t0 = performance.now();
  const train = data.builtinDataset('reverse', { seed: 0, n: 4000 });
  const seen = new Set(train.map((e) => e.source.join('')));
  const heldOut = data.builtinDataset('reverse', { seed: 1, n: 400 }).filter((e) => !seen.has(e.source.join('')));
  const m = seq2seqDriver.create(train, { model: { dModel: 32, heads: 4, layers: 2, ff: 64, dropout: 0 }, generator: new Generator(2) });
  const task = seq2seqDriver.training(m, train, heldOut.slice(0, 50), { batchSize: 32 });
  const trainer = new Trainer(m.model, task, { maxSteps: 500, lr: 1e-2, evalEvery: 500, seed: 0 });
  trainer.run();
  trainer.dispose();
  m.model.eval();
  const r = seq2seqDriver.evaluate(m, heldOut);
  const seconds = (performance.now() - t0) / 1000;
  t.diagnostic(`reverse: 500 steps, ${heldOut.length} held-out, ${seconds.toFixed(1)} s, ${JSON.stringify(r.metrics)}`);
  assert.equal(r.main, 'exactMatch');
  assert.ok(r.metrics.exactMatch! >= 0.99, `exact match ${r.metrics.exactMatch}`);
  assert.ok(r.metrics.bleu! >= 98 && r.metrics.chrF! >= 98, JSON.stringify(r.metrics));
  // beam search agrees on a sample
  const sample = heldOut.slice(0, 40);
  const beam = seq2seqDriver.predict(m, sample, { beam: 3 });
  assert.ok(beam.filter((o, i) => o.join('') === sample[i]!.target.join('')).length >= 39);
});
