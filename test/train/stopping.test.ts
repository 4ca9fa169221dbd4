// How long training runs: exact epochs in a seeded order, a time budget (on a planted clock),
// early stopping that keeps the best checkpoint (on a planted sequence of dev scores), and all
// of it surviving --resume through trainer.json.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as q from '../../src/index.js';
import { data, EpochSampler, nn, parseDuration, tagDriver, Trainer, trainSession, type Checkpointer, type TaskDriver, type TaskInstance, type Tensor, type TrainEvent, type TrainingTask } from '../../src/index.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'qkv-stop-'));

class Scalar extends nn.Module {
  readonly w = this.param('w', q.tensor([0]));
}

/**
 * y = 2x on examples x_i = i / n, drawn by index (so the trainer counts epochs); `seen` records
 * every index used; `scores` plants the dev metric of each evaluation; `tick` advances `clock`.
 */
function indexedTask(w: Tensor, n: number, batchSize: number, o: { scores?: number[]; clock?: { ms: number }; tick?: number; higherIsBetter?: boolean } = {}) {
  const seen: number[] = [];
  let evals = 0;
  const task: TrainingTask<number[]> = {
    nextBatch: () => { throw new Error('an indexed task is drawn by batchOf'); },
    batchOf: (indices) => { seen.push(...indices); return indices.map((i) => i / n); },
    examples: n,
    batchSize,
    loss(b) {
      if (o.clock) o.clock.ms += o.tick ?? 1000;
      const x = q.tensor(b);
      const d = x.mul(w).sub(x.mul(2));
      return d.mul(d).mean();
    },
    size: (b) => b.length,
    evaluate: () => {
      const score = o.scores ? o.scores[evals] ?? o.scores.at(-1)! : w.item();
      evals++;
      return { metrics: { score, w: w.item() }, main: 'score', higherIsBetter: o.higherIsBetter ?? true };
    },
  };
  return { task, seen };
}

const sgd = { lr: 0.1, schedule: 'constant' as const, optimizer: 'sgd' as const, momentum: 0, weightDecay: 0, clip: 0 };

/** A checkpointer keeping each save in memory: kind -> {step, w, trainer state}. */
function memoryCheckpointer() {
  const saved: Record<string, { step: number; w: number; trainer: q.TrainerState }> = {};
  const c: Checkpointer = { save: (kind, s) => { saved[kind] = { step: s.trainer.step, w: (s.model as Scalar).w.item(), trainer: JSON.parse(JSON.stringify(s.trainer)) }; } };
  return { c, saved };
}

test('parseDuration: seconds, minutes, hours and mixes; anything else is one clear error', () => {
  assert.equal(parseDuration('90'), 90);
  assert.equal(parseDuration('90s'), 90);
  assert.equal(parseDuration('10m'), 600);
  assert.equal(parseDuration('1.5h'), 5400);
  assert.equal(parseDuration('1h30m'), 5400);
  for (const bad of ['', 'ten', '10x', '0', '-5m', 'm', '10m5', '1e3']) {
    assert.throws(() => parseDuration(bad, '--time-budget'), /^QkvError: --time-budget must be a duration such as 90s, 10m or 1h30m/, bad);
  }
});

test('epochs are exact: every example once per epoch, in a seeded order that differs between epochs', () => {
  const s = new EpochSampler(10, 3, 5);
  assert.equal(s.batchesPerEpoch, 4);
  const epoch = () => Array.from({ length: 4 }, () => s.next());
  const e0 = epoch();
  assert.deepEqual(e0.map((b) => b.length), [3, 3, 3, 1], 'the last batch of an epoch is the remainder');
  const e1 = epoch();
  assert.deepEqual(e0.flat().sort((a, b) => a - b), [...Array(10).keys()]);
  assert.deepEqual(e1.flat().sort((a, b) => a - b), [...Array(10).keys()]);
  assert.notDeepEqual(e0.flat(), e1.flat(), 'a new order each epoch');
  assert.deepEqual(s.position, { epoch: 2, cursor: 0 });
  assert.deepEqual(Array.from(new EpochSampler(10, 3, 5).permutation(1)), e1.flat(), 'the order is a function of (seed, epoch)');
  assert.notDeepEqual(Array.from(new EpochSampler(10, 3, 6).permutation(0)), e0.flat(), 'another seed, another order');

  // through the trainer: --epochs 3 on 10 examples in batches of 3 = 12 steps, each epoch a permutation
  const m = new Scalar();
  const { task, seen } = indexedTask(m.w, 10, 3);
  const events: TrainEvent[] = [];
  const t = new Trainer(m, task, { ...sgd, epochs: 3, evalEvery: 4, seed: 5 }).on((e) => events.push(e));
  t.run();
  assert.equal(t.state.step, 12);
  assert.equal(seen.length, 30);
  for (let e = 0; e < 3; e++) assert.deepEqual(seen.slice(10 * e, 10 * e + 10), Array.from(new EpochSampler(10, 3, 5).permutation(e)), `epoch ${e}`);
  assert.deepEqual(t.state.stop?.reason, 'epochs');
  assert.equal(t.state.stop?.message, 'finished 3 epochs (12 steps)');
  assert.deepEqual(events.filter((e) => e.type === 'step').map((e) => (e as { epoch: number }).epoch).filter((_, i) => i % 4 === 3), [1, 2, 3]);

  // accumulation: an epoch is counted in micro-batches
  const a = new Scalar();
  assert.equal(new Trainer(a, indexedTask(a.w, 10, 3).task, { ...sgd, epochs: 2, accumulate: 2 }).options.maxSteps, 4);
  assert.throws(() => new Trainer(a, indexedTask(a.w, 10, 3).task, { ...sgd, epochs: 2, maxSteps: 5 }), /give maxSteps or epochs, not both/);
  assert.throws(() => new Trainer(a, indexedTask(a.w, 10, 3).task, { ...sgd, epochs: 0 }), /epochs must be a positive number, got 0/);
  assert.throws(() => new Trainer(a, indexedTask(a.w, 10, 3).task, { ...sgd, maxSteps: 5, patience: -1 }), /patience must be an integer >= 0, got -1/);
  // no length given: the dev curve's bound (100 epochs) and its minimum, max(minSteps, 3 epochs)
  const curve = new Trainer(a, indexedTask(a.w, 10, 3).task, { ...sgd, devCurve: { minSteps: 5 } });
  assert.deepEqual([curve.options.maxSteps, curve.devCurve!.minSteps, curve.options.evalEvery], [400, 12, 4]);
  assert.equal(new Trainer(a, indexedTask(a.w, 10, 3).task, { ...sgd, devCurve: { minSteps: 50 } }).devCurve!.minSteps, 50);
});

test('--time-budget stops within one step of the budget, with a final evaluation and a complete checkpoint', () => {
  const out = tmp();
  const clock = { ms: 0 };
  const m = new Scalar();
  const { task } = indexedTask(m.w, 100, 4, { clock, tick: 1000 }); // every step takes 1 s on the planted clock
  const checkpointer: Checkpointer = {
    save: (kind, s) => q.saveCheckpoint(join(out, kind), { config: { step: s.trainer.step }, model: s.model, optimizer: s.optimizer, trainer: { state: s.trainer } }),
  };
  const lrs: number[] = [];
  const evals: number[] = [];
  const t = new Trainer(m, task, { ...sgd, schedule: 'cosine', minLr: 0.01, maxSteps: 1000, timeBudget: 10.5, evalEvery: 4, now: () => clock.ms }, checkpointer);
  t.on((e) => { if (e.type === 'step') lrs.push(e.lr); if (e.type === 'eval') evals.push(e.step); });
  t.run();
  const budget = 10.5;
  const used = t.state.step * 1; // seconds on the planted clock
  assert.ok(used >= budget && used - budget < 1, `stopped after ${used} s for a budget of ${budget} s: within one step`);
  assert.equal(t.state.step, 11);
  assert.deepEqual(evals, [4, 8, 11], 'a final evaluation at the step where the budget ran out');
  assert.equal(t.state.stop?.reason, 'time');
  assert.equal(t.state.stop!.message, 'used the time budget of 10.5s (11s at step 11)');
  const ck = q.readCheckpoint(join(out, 'last'));
  assert.equal(ck.config.step, 11);
  assert.equal((ck.trainer!.state as q.TrainerState).step, 11);
  assert.ok(ck.optimizer, 'the last checkpoint is complete and resumable');
  assert.ok(Math.abs((ck.trainer!.state as q.TrainerState).elapsed - 11) < 1e-9, 'the time used is saved for --resume');
  // the cosine decay is laid over the budget, not over the 1000 steps it would never reach
  assert.ok(lrs.every((lr, i) => i === 0 || lr <= lrs[i - 1]!), 'the learning rate only falls');
  assert.ok(lrs.at(-1)! < 0.02, `last learning rate ${lrs.at(-1)} is near minLr 0.01`);
  rmSync(out, { recursive: true });
});

test('early stopping: a planted sequence of dev scores stops after `patience` evaluations without improvement and keeps the best', () => {
  const scores = [0.5, 0.7, 0.6, 0.8, 0.75, 0.79, 0.7, 0.95];
  const m = new Scalar();
  const { task } = indexedTask(m.w, 40, 4, { scores });
  const { c, saved } = memoryCheckpointer();
  const ws: Record<number, number> = {};
  const t = new Trainer(m, task, { ...sgd, maxSteps: 100, evalEvery: 2, patience: 3 }, c);
  t.on((e) => { if (e.type === 'eval') ws[e.step] = m.w.item(); });
  t.run();
  // evaluations at steps 2, 4, ...: best 0.8 at the 4th (step 8), then 3 without improvement
  assert.equal(t.state.step, 14, 'stopped at the 7th evaluation, before the planted 0.95');
  assert.equal(t.state.stop?.reason, 'patience');
  assert.equal(t.state.stop?.message, 'no improvement of score in 3 evaluations (best 0.8 at step 8)');
  assert.equal(saved.best!.step, 8);
  assert.equal(saved.best!.w, ws[8], 'the best checkpoint holds the weights of step 8');
  assert.equal(saved.last!.step, 14);
  assert.equal(saved.last!.trainer.bad, 3, 'the early-stopping count is in the saved state');

  // lower is better (a loss), and patience 0 never stops
  const l = new Scalar();
  const lossy = indexedTask(l.w, 40, 4, { scores: [3, 2, 2.5, 2.4, 2.1, 2.2], higherIsBetter: false });
  const tl = new Trainer(l, lossy.task, { ...sgd, maxSteps: 100, evalEvery: 1, patience: 4 });
  tl.run();
  assert.equal(tl.state.step, 6);
  assert.equal(tl.state.bestStep, 2);
  const z = new Scalar();
  const tz = new Trainer(z, indexedTask(z.w, 40, 4, { scores: [1, 0] }).task, { ...sgd, maxSteps: 20, evalEvery: 1, patience: 0 });
  tz.run();
  assert.equal(tz.state.step, 20);
  assert.equal(tz.state.stop?.reason, 'steps');

  // --monitor: another metric of the evaluation (w rises towards 2: higher is better)
  const w = new Scalar();
  const tw = new Trainer(w, indexedTask(w.w, 40, 4, { scores: [1, 0] }).task, { ...sgd, maxSteps: 6, evalEvery: 2, patience: 1, monitor: 'w' });
  tw.run();
  assert.equal(tw.state.bestStep, 6, 'w improved at every evaluation');
  assert.throws(() => new Trainer(w, indexedTask(w.w, 40, 4).task, { ...sgd, maxSteps: 2, evalEvery: 2, monitor: 'bleu' }).run(), /monitor "bleu" \(--monitor\): the task.s evaluation has no metric "bleu"; it reports score, w$/);
});

test('resume keeps the epoch position and the early-stopping count; a tag run in epochs resumes bit for bit', () => {
  const examples = data.builtinDataset('ambiguity', { seed: 1, n: 120 });
  const [train, dev] = data.split(examples, [0.8, 0.2], 1) as [data.TaggedExample[], data.TaggedExample[]];
  const driver = tagDriver as TaskDriver<TaskInstance, data.TaggedExample, unknown, unknown>;
  const task = { model: { kind: 'transformer', dModel: 16, layers: 1, heads: 2, dropout: 0.2 }, batchSize: 7, wordDropout: 0.1 };
  const run = (out: string, epochs: number, resume = false) => {
    const losses: number[] = [];
    const r = trainSession(driver, train, dev, {
      out, resume, task, trainer: { epochs, lr: 5e-3, evalEvery: 5, seed: 4, decaySteps: 42, patience: 50 },
      onEvent: (e) => { if (e.type === 'step') losses.push(e.loss!); },
    });
    return { losses, r };
  };
  const a = tmp();
  const b = tmp();
  const whole = run(a, 3); // 96 examples in batches of 7: 14 per epoch, 42 steps
  assert.equal(whole.r.steps, 42);
  assert.equal(whole.r.epochs, 3);
  const first = run(b, 1);
  const state = JSON.parse(readFileSync(join(b, 'last', 'trainer.json'), 'utf8')).state as q.TrainerState;
  assert.deepEqual(state.epoch, { epoch: 1, cursor: 0 });
  assert.equal(typeof state.bad, 'number');
  const rest = run(b, 3, true);
  assert.deepEqual([...first.losses, ...rest.losses], whole.losses, 'resumed losses equal the uninterrupted ones, bit for bit');
  assert.equal(rest.r.stop?.reason, 'epochs');
  rmSync(a, { recursive: true });
  rmSync(b, { recursive: true });
});
