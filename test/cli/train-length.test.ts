// How long `qkv train` runs: the dev-curve length when no length flag is given (against a
// tuned run on a real-sized corpus), --epochs / --time-budget / --patience /
// --eval-max end to end, and one clear line for each bad length flag.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as q from '../../src/index.js';
import { Generator, nn, Trainer, type Tensor, type TrainingTask } from '../../src/index.js';
import { lengthOptions } from '../../cli/commands/train-length.js';
import { failsWith, ok } from './expect.js';

const bin = fileURLToPath(new URL('../../cli/qkv.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'qkv-length-'));
const run = (args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir });
const small = ['--builtin', 'ambiguity', '--n', '60', '--model', 'fc', '--d-model', '8', '--layers', '1', '--batch-size', '8', '--json'];

/**
 * A real-sized corpus (20,000 training examples, as many as a treebank's sentences, 2,000 dev):
 * 4 classes from a noisy linear rule on 16 features, 10% of labels flipped at random, so the
 * best dev accuracy is about 0.9 and more training stops helping at some point.
 */
function corpus(n: number, seed: number): { x: Float32Array; y: Int32Array } {
  const g = new Generator(seed);
  const w = new Generator(99); // the same rule for train and dev
  const W = Array.from({ length: 16 * 4 }, () => w.normal());
  const x = new Float32Array(n * 16);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const s = [0, 0, 0, 0];
    for (let f = 0; f < 16; f++) {
      const v = (x[i * 16 + f] = g.normal());
      for (let c = 0; c < 4; c++) s[c]! += v * W[f * 4 + c]!;
    }
    y[i] = g.uniform() < 0.1 ? g.int(0, 4) : s.indexOf(Math.max(...s));
  }
  return { x, y };
}

function linearTask(model: nn.Linear, train: ReturnType<typeof corpus>, dev: ReturnType<typeof corpus>, batchSize: number): TrainingTask<{ x: Tensor; y: Tensor }> {
  const rows = (d: ReturnType<typeof corpus>, idx: readonly number[]) => ({
    x: q.tensor(Float32Array.from(idx.flatMap((i) => Array.from(d.x.subarray(i * 16, i * 16 + 16)))), { shape: [idx.length, 16] }),
    y: q.tensor(Int32Array.from(idx.map((i) => d.y[i]!)), { dtype: 'int32' }),
  });
  const devAll = rows(dev, [...Array(dev.y.length).keys()]);
  return {
    nextBatch: () => { throw new Error('drawn in epochs'); },
    batchOf: (idx) => rows(train, idx),
    examples: train.y.length,
    batchSize,
    loss: (b) => q.crossEntropy(model.forward(b.x), b.y),
    size: (b) => b.y.shape[0]!,
    evaluate: () => {
      const pred = q.argmax(model.forward(devAll.x), -1).toTypedArray();
      let right = 0;
      for (let i = 0; i < pred.length; i++) if (pred[i] === dev.y[i]) right++;
      const accuracy = right / dev.y.length;
      return { metrics: { accuracy }, main: 'accuracy', higherIsBetter: true };
    },
  };
}

test('no length flags on a real-sized corpus: within 0.01 accuracy of a tuned run, in at most twice its steps', (t) => {
  const train = corpus(20000, 1);
  const dev = corpus(2000, 2);
  const fit = (length: Record<string, unknown>) => {
    q.manualSeed(0);
    const model = new nn.Linear(16, 4);
    // the CLI's own resolution of the flags: {} is "no length flag" (--max-steps's defaults: 400 steps, 3 epochs)
    const options = lengthOptions({ lengthDefaults: { stepsFlag: '--max-steps', steps: 400, epochs: 3 }, ...length });
    const t = new Trainer(model, linearTask(model, train, dev, 32), { lr: 3e-3, evalEvery: 100, seed: 3, ...options });
    t.run();
    return { steps: t.state.step, best: t.state.best!, stop: t.state.stop!, options };
  };
  const auto = fit({});
  assert.deepEqual(auto.options.devCurve, { minSteps: 400, minEpochs: 3, patience: undefined, evalEvery: undefined });
  assert.equal(auto.options.timeBudget, 3600, 'with no length flag, an hour bounds the run');
  // tuned: 10 epochs, no early stopping, and the best of its 63 evaluations kept (an oracle on length)
  const tuned = fit({ epochs: 10, patience: 0 });
  assert.equal(tuned.steps, 6250);
  assert.ok(auto.best >= tuned.best - 0.01, `automatic length: best dev accuracy ${auto.best} vs tuned ${tuned.best}`);
  assert.ok(auto.steps >= 1875 && auto.steps <= 2 * tuned.steps, `the dev curve took ${auto.steps} steps (at least 3 epochs = 1875)`);
  assert.equal(auto.stop.reason, 'devCurve', auto.stop.message);
  // the old fixed default, 400 steps, is two thirds of one epoch here
  const fixed = fit({ maxSteps: 400 });
  t.diagnostic(`best dev accuracy: automatic ${auto.best} in ${auto.steps} steps (${auto.stop.message}); tuned ${tuned.best} in ${tuned.steps}; 400 steps ${fixed.best}`);
  assert.ok(fixed.best <= auto.best, `400 steps: ${fixed.best}, automatic: ${auto.best}`);
});

test('qkv train with --epochs, --time-budget, --patience and --eval-max: the summary says how long and why it stopped', () => {
  // 54 training sentences in batches of 8: 7 batches an epoch
  const e = run(['train', 'tag', ...small, '--epochs', '2', '--eval-every', '5', '--out', join(dir, 'epochs')]);
  ok(e, 'epochs');
  const s = JSON.parse(e.stdout);
  assert.equal(s.steps, 14);
  assert.equal(s.epochs, 2);
  assert.deepEqual(s.stop, { reason: 'epochs', step: 14, message: 'finished 2 epochs (14 steps)' });
  assert.deepEqual(s.dev, { used: 6, of: 6 });
  const log = readFileSync(join(dir, 'epochs', 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(log.filter((l) => l.type === 'eval').map((l) => l.step), [5, 10, 14]);
  assert.ok(log.filter((l) => l.type === 'eval').every((l) => l.ms > 0), 'evaluation time logged separately');
  // the summary's evaluation time is the logged evaluations' (to the millisecond it is printed with), and part of the run's
  const evalMs = log.filter((l) => l.type === 'eval').reduce((a, l) => a + l.ms, 0);
  assert.ok(Math.abs(s.evalSeconds - evalMs / 1000) <= 0.0005 + 1e-9 && s.evalSeconds <= s.seconds + 0.001, `${s.evalSeconds} s vs ${evalMs} ms logged`);
  const config = JSON.parse(readFileSync(join(dir, 'epochs', 'last', 'config.json'), 'utf8'));
  assert.equal(config.training.maxSteps, 14, 'the schedule was laid over 14 steps');

  const t = run(['train', 'tag', ...small, '--time-budget', '0.001s', '--out', join(dir, 'budget')]);
  ok(t, 'time budget');
  const st = JSON.parse(t.stdout);
  assert.equal(st.stop.reason, 'time');
  assert.equal(st.steps, 1, 'a budget used up by the first step stops after it');
  assert.ok(q.isCheckpoint(join(dir, 'budget', 'last')) && q.isCheckpoint(join(dir, 'budget', 'best')), 'with a final checkpoint');

  const p = run(['train', 'tag', ...small, '--max-steps', '40', '--eval-every', '1', '--patience', '1', '--lr', '1e-9', '--eval-max', '4', '--out', join(dir, 'patience')]);
  ok(p, 'patience');
  const sp = JSON.parse(p.stdout);
  assert.equal(sp.stop.reason, 'patience');
  assert.ok(sp.steps < 40);
  assert.deepEqual(sp.dev, { used: 4, of: 6 });

  const text = run(['train', 'tag', ...small.filter((f) => f !== '--json'), '--epochs', '1', '--out', join(dir, 'text')]);
  ok(text, 'text summary');
  assert.match(text.stdout, /^trained tag for 7 steps, 1 epoch in [\d.]+s \([\d.]+ s; evaluation [\d.]+ s on 6 dev examples\)/m);
  assert.match(text.stdout, /^stopped at step 7: finished 1 epoch \(7 steps\)$/m);

  const auto = run(['train', 'tag', ...small, '--out', join(dir, 'auto')]);
  ok(auto, 'no length flag');
  const sa = JSON.parse(auto.stdout);
  assert.equal(sa.stop.reason, 'devCurve', sa.stop.message);
  assert.ok(sa.steps >= 400, 'at least 400 steps');
  assert.match(auto.stderr, /^qkv: no length flag: training until the dev accuracy stops improving: an evaluation every epoch \(7 steps\), patience 5 evaluations, at least 400 steps \(57.1 epochs\), then decay the learning rate over 20% more steps; at most 800 steps \(114.3 epochs\) or 1h00m \(give --epochs N for a fixed length\)$/m);
  assert.match(run(['train', 'tag', '--help']).stdout, /With no length flag, until the dev metric stops improving/);
  assert.match(run(['train', 'tag', '--help']).stdout, /at least\s+max\(400 steps, 3 epochs\)/);
  assert.match(run(['train', 'lm', '--help']).stdout, /max\(2000 steps, 1 epoch\)/);
});

test('bad length flags: one line each', () => {
  const out = join(dir, 'bad');
  failsWith(run(['train', 'tag', ...small, '--out', out, '--epochs', '0']), /--epochs must be an integer >= 1/);
  failsWith(run(['train', 'tag', ...small, '--out', out, '--patience', '-1']), /--patience must be an integer >= 0/);
  failsWith(run(['train', 'tag', ...small, '--out', out, '--patience', '0']), /--patience 0 \(never stop early\) needs a length: give --max-steps N, --epochs N or --time-budget/);
  failsWith(run(['train', 'tag', ...small, '--out', out, '--time-budget', 'soon']), /--time-budget must be a duration such as 90s, 10m or 1h30m, got "soon"/);
  failsWith(run(['train', 'tag', ...small, '--out', out, '--epochs', '2', '--max-steps', '5']), /give --epochs or --max-steps, not both/);
  failsWith(run(['train', 'seq2seq', '--builtin', 'reverse', '--out', out, '--epochs', '2', '--max-steps', '5']), /give --epochs or --max-steps, not both/);
  failsWith(run(['train', 'lm', '--data', 'x.txt', '--out', out, '--epochs', '2', '--max-iters', '5']), /give --epochs or --max-iters, not both/);
  failsWith(run(['train', 'tag', ...small, '--out', out, '--eval-max', '0']), /--eval-max must be an integer >= 1/);
});
