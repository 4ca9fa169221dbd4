// The training loop: schedules, clipping, accumulation, NaN handling, exact resume, and
// checkpoints that survive a kill in the middle of a save.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as q from '../../src/index.js';
import { data, Generator, nn, tagDriver, Trainer, trainSession, type TaskDriver, type TaskInstance, type Tensor, type TrainingTask } from '../../src/index.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'qkv-train-'));

test('schedules: nanoGPT cosine with warmup, Noam, constant', () => {
  const cos = q.warmupCosine({ lr: 1, minLr: 0.1, warmup: 10, decaySteps: 110 });
  assert.equal(cos(0), 1 / 11);
  assert.equal(cos(9), 10 / 11);
  assert.ok(Math.abs(cos(10) - 1) < 1e-12);
  assert.ok(Math.abs(cos(60) - 0.55) < 1e-12, 'half way: (1 + 0.1) / 2');
  assert.equal(cos(500), 0.1);
  const noam = q.noam({ dModel: 512, warmup: 4000 });
  assert.ok(Math.abs(noam(3999) - 512 ** -0.5 * 4000 ** -0.5) < 1e-12, 'peak at the end of warmup');
  assert.ok(noam(100) < noam(1000) && noam(10000) < noam(4000));
  assert.equal(q.constant(0.3)(1234), 0.3);
});

test('clipGradNorm scales gradients to the given norm and reports the norm before', () => {
  const w = q.tensor([3, 4], { requiresGrad: true });
  w.mul(w).mul(0.5).sum().backward(); // grad = w = [3, 4], norm 5
  assert.equal(q.clipGradNorm([w], 1).item(), 5);
  const g = Array.from(w.grad!.toTypedArray());
  assert.ok(Math.abs(g[0]! - 0.6) < 1e-6 && Math.abs(g[1]! - 0.8) < 1e-6);
  assert.ok(Math.abs(q.clipGradNorm([w], 10).item() - 1) < 1e-6, 'under the limit: unchanged');
  assert.deepEqual(Array.from(w.grad!.toTypedArray()), g, 'under the limit the gradients keep their bits');
});

/** A toy task: fit y = 2x with one weight; batches of fixed values; a NaN at a chosen step. */
function toyTask(w: Tensor, nanAt = -1): TrainingTask<number[]> & { calls: number } {
  const t = {
    calls: 0,
    nextBatch: (g: Generator) => [g.uniform(), g.uniform()],
    loss(b: number[]) {
      t.calls++;
      const x = q.tensor(b);
      const d = x.mul(w).sub(x.mul(2));
      const l = d.mul(d).mean();
      return t.calls === nanAt ? l.mul(NaN) : l;
    },
    size: (b: number[]) => b.length,
    evaluate: () => ({ metrics: { w: w.item() }, main: 'w', higherIsBetter: false }),
  };
  return t;
}

class Scalar extends nn.Module {
  readonly w = this.param('w', q.tensor([0]));
}

test('the trainer fits, accumulates micro-batches, and stops on a NaN loss with a message', () => {
  const m = new Scalar();
  const trainer = new Trainer(m, toyTask(m.w), { maxSteps: 200, lr: 0.1, schedule: 'constant', evalEvery: 50, optimizer: 'sgd', momentum: 0, weightDecay: 0, clip: 0 });
  const losses: number[] = [];
  trainer.on((e) => { if (e.type === 'step') losses.push(e.loss!); });
  trainer.run();
  assert.ok(Math.abs(m.w.item() - 2) < 1e-3, `w = ${m.w.item()}`);
  assert.ok(losses.at(-1)! < losses[0]! / 100);

  // accumulate 2 micro-batches of 2 = one step on their mean: same update as the mean of both losses
  const a = new Scalar();
  const ta = new Trainer(a, toyTask(a.w), { maxSteps: 1, lr: 0.1, schedule: 'constant', evalEvery: 1, optimizer: 'sgd', momentum: 0, weightDecay: 0, clip: 0, accumulate: 2, seed: 3 });
  ta.run();
  const g = new Generator(3);
  const xs = [g.uniform(), g.uniform(), g.uniform(), g.uniform()];
  const grad = xs.reduce((s, x) => s + 2 * x * x * (0 - 2), 0) / 4; // d/dw mean((wx - 2x)^2) at w = 0
  assert.ok(Math.abs(a.w.item() - -0.1 * grad) < 1e-6, `accumulated update ${a.w.item()} vs ${-0.1 * grad}`);

  const n = new Scalar();
  const tn = new Trainer(n, toyTask(n.w, 7), { maxSteps: 20, lr: 0.1, evalEvery: 5 });
  assert.throws(() => tn.run(), /loss is NaN at step 7; training stopped \(the last good checkpoint is kept\)/);
  assert.equal(tn.state.step, 6);
});

test('a NaN loss keeps the last good checkpoint intact', () => {
  const out = tmp();
  const m = new Scalar();
  const checkpointer = { save: (kind: 'last' | 'best', s: { model: nn.Module; trainer: { step: number } }) => q.saveCheckpoint(join(out, kind), { config: { step: s.trainer.step }, model: s.model }) };
  const t = new Trainer(m, toyTask(m.w, 8), { maxSteps: 20, lr: 0.1, evalEvery: 5 }, checkpointer as unknown as q.Checkpointer);
  assert.throws(() => t.run(), /loss is NaN at step 8/);
  const ck = q.readCheckpoint(join(out, 'last'));
  assert.equal(ck.config.step, 5, 'the checkpoint of step 5 is what is left');
  assert.ok(Number.isFinite(ck.tensors.get('w')!.item()));
  rmSync(out, { recursive: true });
});

const tagOptions = (steps: number) => ({
  trainer: { maxSteps: steps, lr: 5e-3, evalEvery: 10, seed: 4, decaySteps: 40, warmup: 5 },
  task: { model: { kind: 'transformer', dModel: 16, layers: 1, heads: 2, dropout: 0.2 }, batchSize: 8, wordDropout: 0.1 },
});

test('a resumed run continues exactly: its losses equal the uninterrupted run\'s', () => {
  const examples = data.builtinDataset('ambiguity', { seed: 1, n: 200 });
  const [train, dev] = data.split(examples, [0.8, 0.2], 1) as [data.TaggedExample[], data.TaggedExample[]];
  const driver = tagDriver as TaskDriver<TaskInstance, data.TaggedExample, unknown, unknown>;
  const run = (out: string, steps: number, resume = false) => {
    const losses: number[] = [];
    trainSession(driver, train, dev, { out, resume, ...tagOptions(steps), onEvent: (e) => { if (e.type === 'step') losses.push(e.loss!); } });
    return losses;
  };
  const a = tmp();
  const b = tmp();
  const whole = run(a, 40);
  const first = run(b, 20);
  const rest = run(b, 40, true);
  assert.deepEqual(first, whole.slice(0, 20));
  assert.deepEqual(rest, whole.slice(20), 'resumed losses equal the uninterrupted ones, bit for bit');
  for (const kind of ['best', 'last']) assert.ok(existsSync(join(b, kind, 'model.safetensors')));
  assert.ok(!existsSync(join(b, 'best', 'optimizer.safetensors')), 'best holds the model only');
  rmSync(a, { recursive: true });
  rmSync(b, { recursive: true });
});

test('a checkpoint killed in the middle of saving is never half-written', async () => {
  const dir = tmp();
  const target = join(dir, 'ck');
  const child = fileURLToPath(new URL('./save-loop.js', import.meta.url));
  for (const delay of [3, 40, 110, 170]) {
    const p = spawn(process.execPath, [child, target], { stdio: ['ignore', 'pipe', 'inherit'] });
    let saves = 0;
    const firstSave = new Promise((r) => p.stdout.once('data', r));
    p.stdout.on('data', (d: Buffer) => { saves += d.toString().split('\n').filter(Boolean).length; });
    await firstSave; // then kill at some moment of a later save
    await new Promise((r) => setTimeout(r, delay));
    p.kill('SIGKILL');
    await new Promise((r) => p.on('exit', r));
    const ck = q.readCheckpoint(target); // finishes an interrupted swap if there was one
    const version = ck.config.version as number;
    const values = Array.from(ck.tensors.get('weight')!.toTypedArray());
    assert.ok(values.every((v) => v === version), `all tensors from one save (version ${version}), after ${saves} saves`);
    assert.deepEqual(JSON.parse(readFileSync(join(target, 'trainer.json'), 'utf8')), { version });
  }
  assert.ok(readdirSync(dir).every((f) => f === 'ck' || f.includes('.tmp-') || f.includes('.old-')), readdirSync(dir).join(', '));
  rmSync(dir, { recursive: true });
});

test("decay 'matrices' (nanoGPT's rule) decays weights of 2+ dimensions only; 'all' decays every parameter", () => {
  class Mixed extends nn.Module {
    readonly w = this.param('w', q.tensor([[1, 2], [3, 4]]));
    readonly b = this.param('b', q.tensor([1, 1]));
    readonly v = this.param('v', q.tensor([[2, 2]]));
  }
  // a loss whose gradient is zero: one AdamW step then only applies the decay, p *= 1 - lr * wd
  const zeroTask = (m: Mixed): TrainingTask<number[]> => ({
    nextBatch: () => [0],
    loss: () => q.add(q.add(m.w.sum(), m.b.sum()), m.v.sum()).mul(0),
    size: () => 1,
    evaluate: () => ({ metrics: { x: 0 }, main: 'x', higherIsBetter: false }),
  });
  const after = (decay: 'all' | 'matrices') => {
    const m = new Mixed();
    const t = new Trainer(m, zeroTask(m), { maxSteps: 1, lr: 0.5, schedule: 'constant', evalEvery: 1, weightDecay: 0.2, decay, clip: 0 });
    t.run();
    t.dispose();
    return [m.w, m.b, m.v].map((p) => Array.from(p.toTypedArray()));
  };
  const near = (got: number[], want: number[], what: string) => got.forEach((x, i) => assert.ok(Math.abs(x - want[i]!) < 1e-6, `${what}: ${got} vs ${want}`));
  const [w, b, v] = after('matrices');
  near(w, [0.9, 1.8, 2.7, 3.6], 'the matrix is decayed by 1 - 0.5 * 0.2');
  assert.deepEqual(b, [1, 1], 'the bias is not decayed');
  near(v, [1.8, 1.8], 'a 1×2 matrix is a matrix');
  near(after('all')[1], [0.9, 0.9], "with decay 'all' the bias is decayed too");
});
