// Length-bucketed batches (EpochSampler with lengths; `bucket: true` / --bucket for tag and seq2seq): every
// example once an epoch in as many batches, a seeded order, and less padding in the real
// batches the tasks build (counted from their labels, -100 on padding).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as q from '../../src/index.js';
import { BUCKET_POOL, data, EpochSampler, Generator, seq2seqDriver, tagDriver, Trainer, type Tensor, type TrainingTask } from '../../src/index.js';

/** Padded positions over all positions when each batch is padded to its longest example. */
function paddingOf(batches: number[][], lengths: readonly number[]): number {
  let padded = 0;
  let total = 0;
  for (const b of batches) {
    const longest = Math.max(...b.map((i) => lengths[i]!));
    total += longest * b.length;
    padded += b.reduce((a, i) => a + longest - lengths[i]!, 0);
  }
  return padded / total;
}

test('a bucketed epoch: every example once, as many batches, remainder last, seeded; padding drops', () => {
  const g = new Generator(1);
  const n = 2 * 32 * BUCKET_POOL + 77; // two full pools and a part
  const lengths = Array.from({ length: n }, () => 1 + Math.floor(g.uniform() * 60));
  const plain = new EpochSampler(n, 32, 9);
  const bucketed = new EpochSampler(n, 32, 9, undefined, lengths);
  assert.equal(bucketed.batchesPerEpoch, plain.batchesPerEpoch);
  const epoch = (s: EpochSampler) => Array.from({ length: s.batchesPerEpoch }, () => s.next());
  const b0 = epoch(bucketed);
  const b1 = epoch(bucketed);
  for (const e of [b0, b1]) {
    assert.deepEqual(e.flat().sort((a, b) => a - b), [...Array(n).keys()], 'every example once');
    assert.deepEqual(e.map((b) => b.length), [...Array(e.length - 1).fill(32), n % 32], 'full batches, the remainder last');
  }
  assert.notDeepEqual(b0.flat(), b1.flat(), 'a new order each epoch');
  assert.deepEqual(Array.from(new EpochSampler(n, 32, 9, undefined, lengths).permutation(1)), b1.flat(), 'a function of (seed, epoch, lengths)');
  const p0 = paddingOf(epoch(plain), lengths);
  const pb = paddingOf(b0, lengths);
  assert.ok(p0 > 0.4 && pb < 0.05, `padding: uniform ${p0.toFixed(3)}, bucketed ${pb.toFixed(3)}`);
  // batches are not sorted into one long run: the first ones are not the shortest
  const firstLongest = Math.max(...b0[0]!.map((i) => lengths[i]!));
  const spread = new Set(b0.slice(0, 10).map((b) => Math.max(...b.map((i) => lengths[i]!))));
  assert.ok(spread.size > 3, `batch order shuffled (first batch's longest ${firstLongest}, ${spread.size} distinct of 10)`);
  assert.throws(() => new EpochSampler(5, 2, 0, undefined, [1, 2]), /2 lengths for 5 examples/);
});

/** The padding fraction of one epoch of the task's own batches (labels: -100 on padding). */
function taskPadding(task: TrainingTask<unknown>, labelsOf: (b: unknown) => Tensor, seed: number): number {
  const s = new EpochSampler(task.examples!, task.batchSize!, seed, undefined, task.lengths ?? null);
  let pad = 0;
  let all = 0;
  for (let i = 0; i < s.batchesPerEpoch; i++) {
    const y = labelsOf(task.batchOf!(s.next(), new Generator(i))).toTypedArray();
    all += y.length;
    for (const v of y) if (v === -100) pad++;
  }
  return pad / all;
}

test('seq2seq and tag with bucket: true have less padding in their real batches; by default they draw uniform ones', () => {
  const pairs = data.builtinDataset('reverse', { seed: 0, n: 600, minLength: 2, maxLength: 30 });
  const s2s = seq2seqDriver.create(pairs, { model: { dModel: 16, layers: 1, heads: 2, ff: 32 }, generator: new Generator(0) });
  const on = seq2seqDriver.training(s2s, pairs, pairs.slice(0, 8), { batchSize: 16, bucket: true });
  const off = seq2seqDriver.training(s2s, pairs, pairs.slice(0, 8), { batchSize: 16 });
  assert.equal(on.lengths?.length, pairs.length);
  assert.equal(off.lengths, undefined);
  const labels = (b: unknown) => (b as { labels: Tensor }).labels;
  const [pOn, pOff] = [taskPadding(on, labels, 3), taskPadding(off, labels, 3)];
  assert.ok(pOn < pOff / 3, `seq2seq target padding: bucketed ${pOn.toFixed(3)}, uniform ${pOff.toFixed(3)}`);

  const tagged = data.builtinDataset('ambiguity', { seed: 0, n: 600 });
  const tag = tagDriver.create(tagged, { model: { kind: 'fc', dModel: 16, layers: 1 }, generator: new Generator(0) });
  const tOn = tagDriver.training(tag, tagged, tagged.slice(0, 8), { batchSize: 16, bucket: true });
  const tOff = tagDriver.training(tag, tagged, tagged.slice(0, 8), { batchSize: 16 });
  assert.equal(tOff.lengths, undefined);
  const [qOn, qOff] = [taskPadding(tOn, labels, 3), taskPadding(tOff, labels, 3)];
  assert.ok(qOn < qOff / 2, `tag padding: bucketed ${qOn.toFixed(3)}, uniform ${qOff.toFixed(3)}`);
  s2s.model.dispose?.();
  tag.model.dispose?.();
});

test('bucketed training is reproducible: the same seed gives the same losses', () => {
  const pairs = data.builtinDataset('reverse', { seed: 1, n: 200, minLength: 2, maxLength: 20 });
  const run = () => {
    const m = seq2seqDriver.create(pairs, { model: { dModel: 16, layers: 1, heads: 2, ff: 32 }, generator: new Generator(4) });
    const task = seq2seqDriver.training(m, pairs, pairs.slice(0, 4), { batchSize: 8, bucket: true });
    const losses: number[] = [];
    new Trainer(m.model, task, { maxSteps: 30, evalEvery: 1e9, seed: 2 }).on((e) => { if (e.type === 'step' && e.loss !== null) losses.push(e.loss); }).run();
    m.model.dispose?.();
    return losses;
  };
  const a = run();
  assert.equal(a.length, 30);
  assert.deepEqual(run(), a);
  void q;
});
