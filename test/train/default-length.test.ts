// The default length against a tuned one on generated corpora of several sizes (issue 25, item
// 6): with no length given (the dev curve), a tagger and a classifier end within 1 point of a
// tuned run of the same model (a long fixed schedule: CORPORA's `tunedEpochs`, cosine) on a
// held-out test split, in at most twice its steps (steps, not seconds: time is not asserted).
// The old default (max(400 steps, 3 epochs) with a cosine over it and patience 5 evaluations
// every 100 steps) is run too on the classifier's corpus, where it falls short: the comparison can fail.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  classifyDriver, data, Generator, loadInstance, tagDriver, trainSession, type TaskDriver, type TaskInstance, type TrainerOptions,
} from '../../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'qkv-default-length-'));
after(() => rmSync(dir, { recursive: true, force: true }));

type Example = data.TaggedExample | data.ClassifiedExample;
const tagger = tagDriver as unknown as TaskDriver<TaskInstance, Example, unknown, unknown>;
const classifier = classifyDriver as unknown as TaskDriver<TaskInstance, Example, unknown, unknown>;

/** The CLI's defaults for tag and classify with no length flag (cli/commands/train.ts: at least 400 steps, 3 epochs). */
const DEFAULT: TrainerOptions = { devCurve: { minSteps: 400, minEpochs: 3 } };

/**
 * The classify corpus: `ambiguity` sentences of 8-20 words labelled by how the first ambiguous
 * word in them is used (VERB or NOUN), which only its context tells; 10% of the labels flipped,
 * so the best accuracy is about 0.9 and a short run falls clearly short of it.
 */
function usage(n: number, seed: number): data.ClassifiedExample[] {
  const flip = new Generator(seed + 100);
  return data.builtinDataset('ambiguity', { seed, n, minLength: 8, maxLength: 20 }).flatMap((s) => {
    const i = s.tokens!.findIndex((w) => data.AMBIGUOUS_WORDS.includes(w));
    if (i < 0) return [];
    const label = flip.uniform() < 0.1 ? (s.labels[i] === 'VERB' ? 'NOUN' : 'VERB') : s.labels[i]!;
    return [{ tokens: s.tokens, label }];
  });
}

interface Corpus {
  name: string;
  driver: TaskDriver<TaskInstance, Example, unknown, unknown>;
  /** `n` examples drawn from `seed`: train, dev (1,000) and test (2,000) come from different seeds. */
  make: (n: number, seed: number) => Example[];
  n: number;
  task: Record<string, unknown>;
  lr: number;
  tunedEpochs: number;
}

/** Train, dev and test: large held-out sets, so that a point is more than their noise. */
const made = new Map<Corpus, [Example[], Example[], Example[]]>();
function splits(c: Corpus): [Example[], Example[], Example[]] {
  if (!made.has(c)) made.set(c, [c.make(c.n, 3), c.make(1000, 11), c.make(2000, 12)]);
  return made.get(c)!;
}

/** Trains with `length` (the rest as the CLI's defaults), then scores DIR/best on the test split. */
function fit(c: Corpus, name: string, length: TrainerOptions): { steps: number; test: number; stop: string } {
  const [train, dev, testSplit] = splits(c);
  const out = join(dir, `${c.name}-${name}`);
  const r = trainSession(c.driver, train, dev, { out, trainer: { lr: c.lr, seed: 0, ...length }, task: c.task, evalMax: 2000 });
  const { instance } = loadInstance(c.driver, out);
  const test = c.driver.evaluate(instance, testSplit).metrics.accuracy!;
  return { steps: r.steps, test, stop: r.stop?.message ?? '' };
}

const small = { kind: 'transformer', dModel: 16, layers: 1, heads: 2, dropout: 0.1, pos: 'rope' };
const ambiguity = (n: number, seed: number) => data.builtinDataset('ambiguity', { seed, n });
const CORPORA: Corpus[] = [
  // the old default (400 steps: 7.5 epochs here) is 3 points behind 30 epochs on this one
  { name: 'classify-2000', driver: classifier, make: usage, n: 2000, task: { model: small, batchSize: 32 }, lr: 3e-3, tunedEpochs: 30 },
  { name: 'tag-8000', driver: tagger, make: ambiguity, n: 8000, task: { model: small, batchSize: 32, wordDropout: 0.05 }, lr: 5e-3, tunedEpochs: 10 },
];

for (const c of CORPORA) {
  test(`${c.name}: the default length ends within 1 point of ${c.tunedEpochs} tuned epochs, in at most twice the steps`, (t) => {
    const tuned = fit(c, 'tuned', { epochs: c.tunedEpochs });
    const auto = fit(c, 'default', DEFAULT);
    t.diagnostic(`default: test accuracy ${auto.test.toFixed(4)} in ${auto.steps} steps (${auto.stop}); tuned: ${tuned.test.toFixed(4)} in ${tuned.steps} steps`);
    assert.ok(auto.test >= tuned.test - 0.01, `default ${auto.test} vs tuned ${tuned.test}`);
    assert.ok(auto.steps <= 2 * tuned.steps, `default ${auto.steps} steps vs tuned ${tuned.steps}`);
    if (c === CORPORA[0]) {
      // the old default: max(400 steps, 3 epochs), cosine over it, patience 5 evaluations every 100 steps
      const stepsPerEpoch = Math.ceil(splits(c)[0].length / 32);
      const old = fit(c, 'old', { maxSteps: Math.max(400, 3 * stepsPerEpoch), patience: 5, evalEvery: 100 });
      t.diagnostic(`old default: ${old.test.toFixed(4)} in ${old.steps} steps`);
      assert.ok(old.test < tuned.test - 0.01, `the old default ${old.test} is within a point of tuned ${tuned.test}: this corpus cannot tell the defaults apart`);
    }
  });
}
