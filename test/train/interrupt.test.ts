// Stopping a run early on request (SIGINT/SIGTERM in the CLI abort the signal): training stops
// between steps, the last checkpoint holds the step reached, and resuming from it gives the
// uninterrupted run's losses and weights bit for bit.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { data, manualSeed, nn, readCheckpoint, tensor, tagDriver, Trainer, trainSession, trainSessionAsync, type TaskDriver, type TaskInstance, type TrainingTask } from '../../src/index.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'qkv-interrupt-'));
const driver = tagDriver as TaskDriver<TaskInstance, data.TaggedExample, unknown, unknown>;
const [train, dev] = data.split(data.builtinDataset('ambiguity', { seed: 1, n: 200 }), [0.8, 0.2], 1) as [data.TaggedExample[], data.TaggedExample[]];
const options = (steps: number) => ({
  trainer: { maxSteps: steps, lr: 5e-3, evalEvery: 10, seed: 4, decaySteps: 30, warmup: 5 },
  task: { model: { kind: 'transformer', dModel: 16, layers: 1, heads: 2, dropout: 0.2 }, batchSize: 8, wordDropout: 0.1 },
});

test('an aborted run stops between steps and saves the step it reached; resuming equals the uninterrupted run', async () => {
  const [a, b] = [tmp(), tmp()];
  const lossesOf = (losses: number[]) => (e: { type: string; loss?: number | null }) => { if (e.type === 'step') losses.push(e.loss!); };
  const whole: number[] = [];
  trainSession(driver, train, dev, { out: a, ...options(30), onEvent: lossesOf(whole) });

  // abort at step 17: between evaluations (10 and 20), so only the interrupt's save keeps steps 11-17
  const controller = new AbortController();
  const first: number[] = [];
  const r = await trainSessionAsync(driver, train, dev, {
    out: b, ...options(30), signal: controller.signal,
    onEvent: (e) => { lossesOf(first)(e); if (e.type === 'step' && e.step === 17) controller.abort('SIGINT'); },
  });
  assert.equal(first.length, 17, 'no step after the abort');
  assert.deepEqual(r.stop, { reason: 'interrupted', step: 17, message: 'interrupted by SIGINT at step 17' });
  const saved = readCheckpoint(join(b, 'last'));
  assert.equal(saved.config.step, 17);
  assert.deepEqual(saved.config.metrics, {}, 'not evaluated at the interrupt: no metrics claimed');
  assert.equal((saved.trainer!.state as { step: number }).step, 17);
  assert.equal(readCheckpoint(join(b, 'best')).config.step, 10, 'best is still the evaluated one');
  for (const t of saved.tensors.values()) t.dispose();

  const rest: number[] = [];
  trainSession(driver, train, dev, { out: b, resume: true, ...options(30), onEvent: lossesOf(rest) });
  assert.deepEqual([...first, ...rest], whole, 'losses bit for bit');
  assert.deepEqual(readFileSync(join(b, 'last', 'model.safetensors')), readFileSync(join(a, 'last', 'model.safetensors')), 'final weights byte for byte');
  rmSync(a, { recursive: true });
  rmSync(b, { recursive: true });
});

test('runAsync gives timers a turn between steps; run() and runAsync() train the same', async () => {
  const make = () => {
    manualSeed(9); // the same initial weights each time
    const lin = new nn.Linear(1, 1);
    const task: TrainingTask<number> = {
      nextBatch: (g) => g.uniform(),
      loss: (x) => { const d = lin.forward(tensor([[x]])).sub(2 * x); return d.mul(d).mean(); },
      size: () => 1,
      evaluate: () => ({ metrics: { loss: 0 }, main: 'loss', higherIsBetter: false }),
    };
    return { lin, trainer: new Trainer(lin, task, { maxSteps: 50, evalEvery: 1000, seed: 3 }) };
  };
  const sync = make();
  sync.trainer.run();
  const async = make();
  let ticks = 0;
  const timer = setInterval(() => ticks++, 0);
  await async.trainer.runAsync();
  clearInterval(timer);
  assert.ok(ticks > 0, 'a timer ran while training');
  assert.deepEqual(Array.from(async.lin.weight.toTypedArray()), Array.from(sync.lin.weight.toTypedArray()));
  assert.equal(async.trainer.state.step, 50);

  const stopped = make();
  const controller = new AbortController();
  controller.abort('SIGTERM');
  await stopped.trainer.runAsync(controller.signal);
  assert.equal(stopped.trainer.state.step, 0, 'aborted before the first step: no step taken');
  assert.equal(stopped.trainer.state.stop?.reason, 'interrupted');
});
