// --tokenize bpe in the tag and classify tasks: word-piece alignment (a word's label on its
// first piece, -100 on the others; predictions read from first pieces), checkpoints carrying
// tokenizer.json, and a BPE tagger that learns the ambiguity language in a test-sized run.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { argmax, classifyDriver, data, Generator, loadInstance, noGrad, seq2seqDriver, tagDriver, tidy, trainSession, type TrainingTask } from '../../../src/index.js';

const sentences: data.TaggedExample[] = [
  { tokens: ['the', 'extraordinary', 'cat'], labels: ['DET', 'ADJ', 'NOUN'] },
  { tokens: ['cats', 'sat', 'unbelievably', 'still'], labels: ['NOUN', 'VERB', 'ADV', 'ADV'] },
  { tokens: ['naïve', '日本語', 'x'], labels: ['ADJ', 'NOUN', 'X'] },
];

test('tag with BPE: labels sit on first pieces, the rest are ignored (-100); predictions are the first pieces\' argmax', () => {
  const m = tagDriver.create(sentences, { tokenize: 'bpe', vocabSize: 270, model: { kind: 'transformer', dModel: 16, layers: 1, heads: 2 } });
  const bpe = m.featurizer.bpe!;
  assert.ok(bpe.size <= 270); // fewer when no pair is seen twice more
  assert.deepEqual(bpe.specials, ['<pad>', '<unk>']);
  const task = tagDriver.training(m, sentences, sentences, { batchSize: 3 }) as TrainingTask<{ input: { firsts: number[][]; lengths: number[] }; labels: { toArray(): number[][] } }>;
  const b = task.nextBatch(new Generator(1));
  const y = b.labels.toArray();
  // the batch holds 3 random sentences; check each row against its own pieces
  b.input.firsts.forEach((firsts, row) => {
    const labelled = y[row]!.map((v, t) => [v, t] as const).filter(([v]) => v !== -100).map(([, t]) => t);
    assert.deepEqual(labelled, firsts, 'labels exactly at the first pieces');
    assert.ok(b.input.lengths[row]! > firsts.length, 'some word has more than one piece');
  });
  const s = sentences[1]!;
  const pieces = bpe.encodeWords(s.tokens!);
  assert.deepEqual(pieces.flatMap((p) => [...p]), [...bpe.encode(s.tokens!.join(' '))]);
  assert.ok(pieces.some((p) => p.length > 1));
  // predict: one tag per word, read at the first pieces
  const tags = tagDriver.predict(m, [{ tokens: s.tokens! }])[0]!;
  assert.equal(tags.length, 4);
  const expected = tidy(() => noGrad(() => {
    const input = m.featurizer.batch([{ tokens: s.tokens! }]);
    const pred = argmax(m.model.forward(input), -1).toTypedArray();
    return input.firsts![0]!.map((t) => m.labels.decode([pred[t]!])[0]);
  }));
  assert.deepEqual(tags, expected);
  m.model.dispose();
});

test('tag with BPE learns the ambiguity language; the checkpoint carries tokenizer.json and predicts the same after loading', () => {
  const all = data.builtinDataset('ambiguity', { seed: 0, n: 500 }) as data.TaggedExample[];
  const [train, dev] = data.split(all, [0.85, 0.15], 0) as [data.TaggedExample[], data.TaggedExample[]];
  const out = mkdtempSync(join(tmpdir(), 'qkv-subword-'));
  try {
    const r = trainSession(tagDriver, train, dev, {
      out, trainer: { maxSteps: 120, lr: 5e-3, warmup: 10, evalEvery: 120, seed: 0 },
      task: { tokenize: 'bpe', vocabSize: 300, batchSize: 16, model: { kind: 'transformer', dModel: 32, layers: 2, heads: 4, dropout: 0.1, pos: 'rope' } },
    });
    assert.ok(r.last!.metrics.accuracy! > 0.8, `accuracy ${r.last!.metrics.accuracy}`);
    const json = readFileSync(join(out, 'best', 'tokenizer.json'), 'utf8');
    assert.equal(JSON.parse(json).model.type, 'BPE');
    const { instance } = loadInstance(tagDriver, out);
    const again = data.parseTokenizerJson(json);
    assert.deepEqual(instance.featurizer.bpe!.model.merges, again.model.merges);
    const inputs = dev.slice(0, 20).map((e) => ({ tokens: e.tokens! }));
    assert.equal(tagDriver.evaluate(instance, dev).metrics.accuracy, r.last!.metrics.accuracy);
    assert.deepEqual(tagDriver.predict(instance, inputs).map((t) => t.length), inputs.map((i) => i.tokens.length));
    instance.model.dispose();
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('classify with BPE: pieces of the whole text; a model without its tokenizer.json is refused in one line', () => {
  const ex: data.ClassifiedExample[] = [
    { tokens: ['a', 'wonderful', 'film'], label: 'pos' }, { tokens: ['dreadful', 'acting'], label: 'neg' },
  ];
  const m = classifyDriver.create(ex, { tokenize: 'bpe', vocabSize: 262, model: { kind: 'transformer', dModel: 16, layers: 1, heads: 2 } });
  const b = m.featurizer.batch(ex);
  assert.deepEqual(b.lengths, ex.map((e) => m.featurizer.bpe!.encode(e.tokens!.join(' ')).length));
  assert.equal(classifyDriver.predict(m, [{ tokens: ['never', 'seen', 'words', '🙂'] }]).length, 1);
  assert.throws(() => classifyDriver.fromConfig(JSON.parse(JSON.stringify(m.config)), {}), /^QkvError: classify: the model was trained with --tokenize bpe but its checkpoint has no tokenizer\.json$/);
  assert.throws(() => classifyDriver.create([{ frames: [[1, 2]], label: 'a' }], { tokenize: 'bpe' }), /--tokenize bpe applies to text/);
  m.model.dispose();
});

test('seq2seq with BPE: one tokenizer for both sides; learns to copy; predictions equal after reloading the checkpoint', () => {
  const all = data.builtinDataset('copy', { seed: 0, n: 600 }) as data.PairExample[];
  const [train, dev] = data.split(all, [0.9, 0.1], 0) as [data.PairExample[], data.PairExample[]];
  const out = mkdtempSync(join(tmpdir(), 'qkv-subword-s2s-'));
  try {
    const r = trainSession(seq2seqDriver, train, dev, {
      out, trainer: { maxSteps: 150, lr: 3e-3, warmup: 10, evalEvery: 150, seed: 0 },
      task: { tokenize: 'bpe', vocabSize: 300, batchSize: 32, model: { dModel: 32, heads: 4, layers: 1 } },
    });
    assert.ok(r.last!.metrics.tokenAccuracy! > 0.4, `token accuracy ${r.last!.metrics.tokenAccuracy}`);
    const { instance } = loadInstance(seq2seqDriver, out);
    assert.equal(instance.source, instance.target);
    assert.equal(instance.source.size, 300);
    const inputs = dev.slice(0, 10).map((e) => ({ source: e.source }));
    const outputs = seq2seqDriver.predict(instance, inputs);
    assert.equal(outputs.length, 10);
    assert.equal(seq2seqDriver.evaluate(instance, dev).metrics.tokenAccuracy, r.last!.metrics.tokenAccuracy);
    instance.model.dispose();
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
