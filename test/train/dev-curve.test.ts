// The default length (src/train/dev-curve.ts): the plan it makes for a data size, its patience,
// minimum and bounds on planted dev scores, its learning rate, and the whole policy through the
// Trainer and through --resume: a run interrupted in its stable phase and again in its decay,
// then resumed, equals the straight run bit for bit.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as q from '../../src/index.js';
import {
  data, devCurveEvaluated, devCurveLr, devCurvePlan, newDevCurveState, nn, tagDriver, Trainer, trainSession, trainSessionAsync,
  type Checkpointer, type DevCurvePlan, type TaskDriver, type TaskInstance, type Tensor, type TrainEvent, type TrainingTask,
} from '../../src/index.js';

const fail = (m: string) => new Error(m);
const plan = (o: Partial<Parameters<typeof devCurvePlan>[0]>, spe: number | null, given: { decaySteps?: number; decays?: boolean } = {}) =>
  devCurvePlan({ minSteps: 400, ...o }, spe, { decays: true, ...given }, fail);

test('the plan follows the data: an evaluation an epoch (parts of long ones), patience, minimum and bound in epochs', () => {
  // 2,000 sentences, 10% dev, batches of 32: 57 steps an epoch
  const small = plan({}, 57);
  assert.deepEqual({ ...small }, { evalEvery: 57, patience: 5, minDelta: 1e-3, minSteps: 400, maxSteps: 5700, stepsPerEpoch: 57, decayFraction: 0.2, decaySteps: null, decays: true });
  // 50,000: an epoch of 1,407 steps is evaluated in 6 equal parts, and patience covers an epoch
  const large = plan({}, 1407);
  assert.equal(large.evalEvery, 235);
  assert.equal(large.patience, 6);
  assert.equal(large.minSteps, 3 * 1407, 'at least 3 epochs');
  assert.equal(large.maxSteps, 140700);
  // a tiny set: the minimum is in steps (400 steps are 57 epochs of 7), the bound twice that
  assert.deepEqual([plan({}, 7).minSteps, plan({}, 7).maxSteps], [400, 800]);
  // what the user gave wins; a task that does not count examples is bounded in steps
  assert.deepEqual([plan({ evalEvery: 100, patience: 5 }, 1407).evalEvery, plan({ evalEvery: 100, patience: 5 }, 1407).patience], [100, 5]);
  const uncounted = plan({ minSteps: 2000 }, null);
  assert.deepEqual([uncounted.evalEvery, uncounted.minSteps, uncounted.maxSteps], [250, 2000, 50000]);
  assert.throws(() => plan({ patience: 0 }, 57), /devCurve.patience must be a positive integer, got 0/);
  assert.throws(() => plan({ decayFraction: 2 }, 57), /devCurve.decayFraction must be in \(0, 1\], got 2/);
});

/** Feeds `scores` (one evaluation every `every` steps) to a fresh state; returns the state and the step the decay started at. */
function feed(p: DevCurvePlan, scores: number[], every: number, higherIsBetter = true, byTime = Infinity) {
  const s = newDevCurveState();
  let started: number | null = null;
  scores.forEach((v, i) => { if (devCurveEvaluated(p, s, v, higherIsBetter, (i + 1) * every, byTime) && started === null) started = (i + 1) * every; });
  return { s, started };
}

test('patience: evaluations without a gain above minDelta end the stable phase, never before the minimum', () => {
  const p = plan({ minSteps: 30, minEpochs: 0, patience: 3 }, 10); // an evaluation every 10 steps, patience 3
  // best 0.80 at step 40; 0.8005 is not a gain of 0.1%; the third evaluation without one is step 70
  const { s, started } = feed(p, [0.5, 0.7, 0.75, 0.8, 0.8005, 0.79, 0.8, 0.99], 10);
  assert.equal(started, 70);
  assert.deepEqual(s, { phase: 'decay', ref: 0.8, bad: 3, decayStart: 70, decaySteps: 14, why: 'plateau' }, 'decay over 20% of 70 steps');
  // the same curve flat from the start: the third evaluation without a gain (step 40), or the minimum if later
  assert.equal(feed(p, [0.5, 0.5, 0.5, 0.5, 0.5, 0.5], 10).started, 40);
  assert.equal(feed(plan({ minSteps: 60, minEpochs: 0, patience: 3 }, 10), [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5], 10).started, 60);
  // min epochs: 5 epochs of 10 steps
  assert.equal(feed(plan({ minSteps: 1, minEpochs: 5, patience: 3 }, 10), [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5], 10).started, 50);
  // lower is better (a loss): 2.0 -> 1.999 is no gain of 0.1%
  assert.equal(feed(p, [3, 2.5, 2, 1.999, 2.1, 1.9995, 1.5], 10, false).started, 60);
  // a decay is at least one evaluation interval; --decay-steps fixes it; no decay when the schedule is its own
  assert.equal(feed(plan({ minSteps: 1, minEpochs: 0, patience: 3 }, 10), [1, 1, 1, 1], 10).s.decaySteps, 10);
  assert.equal(feed(plan({ minSteps: 1, minEpochs: 0, patience: 3 }, 10, { decaySteps: 33 }), [1, 1, 1, 1], 10).s.decaySteps, 33);
  assert.equal(feed(plan({ minSteps: 1, minEpochs: 0, patience: 3 }, 10, { decays: false }), [1, 1, 1, 1], 10).s.decaySteps, 0);
});

test('the bounds: a run still improving starts its decay so as to end at the step or time bound', () => {
  const p = plan({ minSteps: 10, minEpochs: 0, maxEpochs: 10 }, 10); // at most 100 steps
  const rising = Array.from({ length: 20 }, (_, i) => 0.1 + 0.04 * i);
  const { s, started } = feed(p, rising, 10);
  // at step 90, a decay of 20% (18 steps) would pass step 100: the decay is the 10 steps left
  assert.equal(started, 90);
  assert.deepEqual([s.why, s.decaySteps], ['steps', 10]);
  // time: 12 steps left in the budget, a decay of 10 at step 50 still fits, of 12 at step 60 does not
  const t = feed(plan({ minSteps: 10, minEpochs: 0 }, 10), rising, 10, true, 12);
  assert.deepEqual([t.started, t.s.why, t.s.decaySteps], [60, 'time', 12]);
});

test('the learning rate: warmup, the peak while stable, then linear to minLr at the decay\'s end', () => {
  const o = { lr: 1, minLr: 0.1, warmup: 4 };
  const s = newDevCurveState();
  assert.deepEqual([0, 1, 2, 3].map((i) => devCurveLr(s, i, o)), [0.2, 0.4, 0.6, 0.8]);
  assert.equal(devCurveLr(s, 500, o), 1);
  Object.assign(s, { phase: 'decay', decayStart: 100, decaySteps: 10 });
  assert.deepEqual([100, 105, 109, 110].map((i) => Number(devCurveLr(s, i, o).toFixed(6))), [1, 0.55, 0.19, 0.1]);
});

class Scalar extends nn.Module {
  readonly w = this.param('w', q.tensor([0]));
}

/** y = 2x, drawn by index in epochs; `scores` plants the dev metric of each evaluation. */
function plantedTask(w: Tensor, n: number, batchSize: number, scores: number[]): TrainingTask<number[]> {
  let evals = 0;
  return {
    nextBatch: () => { throw new Error('drawn by batchOf'); },
    batchOf: (idx) => idx.map((i) => i / n),
    examples: n,
    batchSize,
    loss: (b) => { const x = q.tensor(b); const d = x.mul(w).sub(x.mul(2)); return d.mul(d).mean(); },
    size: (b) => b.length,
    evaluate: () => ({ metrics: { score: scores[evals++] ?? scores.at(-1)! }, main: 'score', higherIsBetter: true }),
  };
}

test('through the Trainer: evaluations every epoch, the decay after the plateau, a stop that says why, the best checkpoint kept', () => {
  const m = new Scalar();
  // 40 examples in batches of 4: 10 steps an epoch; at least 30 steps (3 epochs); patience 2
  const scores = [0.5, 0.6, 0.7, 0.7, 0.72, 0.8, 0.75, 0.74];
  const saved: Record<string, number> = {};
  const checkpointer: Checkpointer = { save: (kind, s) => { saved[kind] = s.trainer.step; } };
  const events: TrainEvent[] = [];
  const t = new Trainer(m, plantedTask(m.w, 40, 4, scores), { lr: 0.1, minLr: 0, optimizer: 'sgd', momentum: 0, weightDecay: 0, clip: 0, devCurve: { minSteps: 20, patience: 2 } }, checkpointer);
  t.on((e) => events.push(e));
  t.run();
  const evals = events.filter((e) => e.type === 'eval').map((e) => e.step);
  // 0.7 at 40 is no gain, 0.72 at 50 is (and resets the count), 0.8 at 60 the best; 0.75 and 0.74
  // make two evaluations without a gain at step 80: a decay of 20% (16 steps), evaluated at 90 and 96
  assert.deepEqual(evals, [10, 20, 30, 40, 50, 60, 70, 80, 90, 96]);
  const decay = events.find((e) => e.type === 'decay');
  assert.deepEqual(decay, { type: 'decay', step: 80, steps: 16, why: 'plateau' });
  const start = events.find((e) => e.type === 'start') as Extract<TrainEvent, { type: 'start' }>;
  assert.equal(start.maxSteps, Infinity, 'the end is open at the start');
  assert.equal(start.devCurve!.evalEvery, 10);
  assert.equal(t.state.stop?.reason, 'devCurve');
  assert.equal(t.state.stop?.message, 'the dev score stopped improving by more than 0.1% (2 evaluations without a gain at step 80, 8 epochs); then the learning rate decayed over 16 steps');
  assert.equal(saved.best, 60, 'the best checkpoint is the best evaluation\'s');
  const lrs = events.filter((e) => e.type === 'step').map((e) => (e as { lr: number }).lr);
  assert.ok(lrs.slice(0, 80).every((lr) => lr === 0.1), 'the peak rate while stable');
  assert.ok(lrs.length === 96 && Math.abs(lrs[80]! - 0.1) < 1e-12 && Math.abs(lrs[95]! - 0.1 / 16) < 1e-12, `then linear to 0: ${lrs.slice(80)}`);
  // an unset --min-lr reaches the Trainer as undefined: the decay ends at lr / 10, not at NaN
  assert.equal(new Trainer(m, plantedTask(m.w, 40, 4, scores), { lr: 0.1, minLr: undefined, devCurve: { minSteps: 20 } }).options.minLr, 0.01);
  // no length at all is still an error; two lengths too
  assert.throws(() => new Trainer(m, plantedTask(m.w, 40, 4, scores), { lr: 0.1 }), /give maxSteps, epochs, devCurve or a timeBudget/);
  assert.throws(() => new Trainer(m, plantedTask(m.w, 40, 4, scores), { lr: 0.1, epochs: 2, devCurve: { minSteps: 1 } }), /give epochs or devCurve, not both/);
});

test('a dev-curve run interrupted while stable and again while decaying, then resumed, equals the straight run bit for bit', async () => {
  const driver = tagDriver as TaskDriver<TaskInstance, data.TaggedExample, unknown, unknown>;
  const [train, dev] = data.split(data.builtinDataset('ambiguity', { seed: 1, n: 120 }), [0.8, 0.2], 1) as [data.TaggedExample[], data.TaggedExample[]];
  const options = {
    trainer: { lr: 5e-3, seed: 4, warmup: 3, devCurve: { minSteps: 24, minEpochs: 0, patience: 2 } },
    task: { model: { kind: 'transformer', dModel: 16, layers: 1, heads: 2, dropout: 0.2 }, batchSize: 8, wordDropout: 0.1 },
  };
  const tmp = () => mkdtempSync(join(tmpdir(), 'qkv-devcurve-'));
  const [a, b] = [tmp(), tmp()];
  const whole: number[] = [];
  let decayAt = -1;
  const straight = trainSession(driver, train, dev, {
    out: a, ...options, onEvent: (e) => { if (e.type === 'step') whole.push(e.loss!); if (e.type === 'decay') decayAt = e.step; },
  });
  assert.equal(straight.stop?.reason, 'devCurve', straight.stop?.message);
  assert.ok(decayAt > 24 && decayAt < whole.length - 1, `the decay started at step ${decayAt} of ${whole.length}`);
  const parts: number[][] = [];
  // 96 examples in batches of 8: 12 steps an epoch; stop at step 17 (stable, mid-epoch) and decayAt + 2 (decaying)
  for (const at of [17, decayAt + 2]) {
    const controller = new AbortController();
    const losses: number[] = [];
    const r = await trainSessionAsync(driver, train, dev, {
      out: b, resume: at !== 17, ...options, signal: controller.signal,
      onEvent: (e) => { if (e.type === 'step') { losses.push(e.loss!); if (e.step === at) controller.abort('SIGINT'); } },
    });
    assert.equal(r.stop?.reason, 'interrupted');
    parts.push(losses);
    const state = JSON.parse(readFileSync(join(b, 'last', 'trainer.json'), 'utf8')).state as q.TrainerState;
    assert.equal(state.devCurve!.phase, at === 17 ? 'stable' : 'decay', 'the phase is in trainer.json');
  }
  const rest: number[] = [];
  const resumed = trainSession(driver, train, dev, { out: b, resume: true, ...options, onEvent: (e) => { if (e.type === 'step') rest.push(e.loss!); } });
  assert.deepEqual([...parts.flat(), ...rest], whole, 'losses bit for bit');
  assert.deepEqual(resumed.stop, straight.stop);
  assert.deepEqual(resumed.best, straight.best);
  assert.deepEqual(readFileSync(join(b, 'best', 'model.safetensors')), readFileSync(join(a, 'best', 'model.safetensors')), 'the same best model');
  rmSync(a, { recursive: true });
  rmSync(b, { recursive: true });
});
