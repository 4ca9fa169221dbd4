// The device-ready engine: tensors know their backend, kernels run on the owner of their inputs,
// reads are async everywhere and sync on host backends only, moves are explicit and counted, and a
// GPT training step reads back one thing (the logged loss). The simulated device (test/sim-device.ts)
// hides its memory behind opaque handles, so any JavaScript loop over tensor memory fails on it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as q from '../../src/index.js';
import { nativeAvailable } from '../../src/index.js';
import { simDevice } from '../sim-device.js';

const sim = simDevice();

/** Runs fn with `name` as the default backend (where tensors and models are made). */
function on<T>(name: string, fn: () => T): T {
  const previous = q.getBackend().name;
  q.setBackend(name);
  try {
    return fn();
  } finally {
    q.setBackend(previous);
  }
}

test('a tensor records its backend; ops run there and put their outputs there', () => {
  const [a, b] = on(sim.name, () => [q.tensor([1, 2, 3]), q.tensor([4, 5, 6])]);
  assert.equal(a.backend.name, sim.name);
  const c = q.add(a.mul(2), b).sum();
  assert.equal(c.backend.name, sim.name, 'made on the default backend (ref) would be wrong');
  assert.equal(q.zerosLike(a).backend.name, sim.name);
  [a, b, c].forEach((t) => t.dispose());
});

test('sync reads throw one line naming the async form on a device; the async reads work everywhere', async () => {
  const x = on(sim.name, () => q.tensor([[1, 2], [3, 4]]));
  assert.throws(() => x.toTypedArray(), /lives on the sim-device backend.*use await t\.data\(\)/);
  assert.throws(() => x.sum().item(), /await t\.data\(\)/);
  assert.throws(() => x.toArray(), /await t\.data\(\)/);
  assert.deepEqual(Array.from(await x.data()), [1, 2, 3, 4]);
  assert.deepEqual(await x.array(), [[1, 2], [3, 4]]);
  assert.deepEqual(await x.transpose(0, 1).array(), [[1, 3], [2, 4]], 'a strided view is copied on the device, then read');
  assert.equal(await x.sum().itemAsync(), 10);
  assert.match(String(x), /on sim-device: await t\.array\(\) to read/);
  const h = q.tensor([5, 6]);
  assert.deepEqual(Array.from(await h.data()), [5, 6], 'host tensors answer the async reads too');
  assert.equal(await h.sum().itemAsync(), 11);
  x.dispose();
  h.dispose();
});

test('two backends in one op is one line naming both; t.to moves and is counted', async () => {
  const a = q.tensor([1, 2, 3]);
  const b = on(sim.name, () => q.tensor([1, 1, 1]));
  assert.throws(() => q.add(a, b), (e: Error) => /^add: inputs live on different backends \((ref|wasm|native) and sim-device\); move one with t\.to\('(ref|wasm|native)'\)$/.test(e.message) && !e.message.includes('\n'));
  const before = q.transferCounts();
  const moved = a.to(sim.name);
  assert.equal(moved.backend.name, sim.name);
  assert.equal(a.to(a.backend.name), a, 'already there: the same tensor, no transfer');
  assert.throws(() => b.to(a.backend.name), /use await t\.toAsync/);
  const back = await q.add(moved, b).toAsync(a.backend.name);
  assert.deepEqual(Array.from(back.toTypedArray()), [2, 3, 4]);
  const after = q.transferCounts();
  assert.equal(after.transfers - before.transfers, 2);
  [a, b, moved, back].forEach((t) => t.dispose());
});

test('a kernel the device lacks is one error naming it, never a silent trip through the CPU', () => {
  const partial = simDevice('sim-no-exp', ['Exp']);
  const x = on(partial.name, () => q.tensor([0, 1]));
  assert.throws(() => q.exp(x), /kernel "Exp" is not implemented on the sim-no-exp backend \(nothing falls back to the CPU silently\)/);
  x.dispose();
});

/** A tiny GPT task: random windows of a fixed token stream, its loss, no reads of its own. */
function gptTask(gpt: q.nn.GPT, block: number, batch: number): q.TrainingTask<{ x: Int32Array; y: Int32Array }> {
  const stream = Int32Array.from({ length: 400 }, (_, i) => (i * 7 + (i >> 3)) % 29);
  return {
    nextBatch(g) {
      const x = new Int32Array(batch * block);
      const y = new Int32Array(batch * block);
      for (let b = 0; b < batch; b++) {
        const s = g.int(0, stream.length - block - 1);
        x.set(stream.subarray(s, s + block), b * block);
        y.set(stream.subarray(s + 1, s + block + 1), b * block);
      }
      return { x, y };
    },
    loss: (b) => gpt.forward(q.tensor(b.x, { shape: [batch, block] }), { targets: q.tensor(b.y, { shape: [batch, block] }) }).loss!,
    size: () => batch * block,
    // the trainer's evaluation is not what is measured here: a count, no tensor read
    evaluate: () => ({ metrics: { evaluations: 1 }, main: 'evaluations', higherIsBetter: true }),
  };
}

async function trainGpt(backend: string, steps: number, options: Partial<q.TrainerOptions> = {}): Promise<{ losses: number[]; readsPerStep: number[]; transfers: number }> {
  const previous = q.getBackend().name;
  q.setBackend(backend); // batches are made during the run: the default must stay set until it ends
  try {
    const gpt = new q.nn.GPT({ vocabSize: 29, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 16, dropout: 0.1, generator: new q.Generator(5) });
    const trainer = new q.Trainer(gpt, gptTask(gpt, 8, 4), { maxSteps: steps, evalEvery: 1000, lr: 3e-3, clip: 1, seed: 11, ...options });
    const losses: number[] = [];
    const readsPerStep: number[] = [];
    let reads = q.transferCounts().hostReads;
    const t0 = q.transferCounts().transfers;
    trainer.on((e) => {
      if (e.type !== 'step') return;
      if (e.loss !== null) losses.push(e.loss);
      readsPerStep.push(q.transferCounts().hostReads - reads);
      reads = q.transferCounts().hostReads;
    });
    await trainer.runAsync();
    const transfers = q.transferCounts().transfers - t0;
    trainer.dispose();
    for (const p of gpt.parameters()) p.dispose();
    return { losses, readsPerStep, transfers };
  } finally {
    q.setBackend(previous);
  }
}

test('a GPT training step on a device reads back one thing (the loss, with the gradient norm beside it) and moves nothing', async () => {
  const dev = await trainGpt(sim.name, 4);
  assert.deepEqual(dev.readsPerStep, [1, 1, 1, 1]);
  assert.equal(dev.transfers, 0);
  // the same run on the reference backend gives the same losses: the device runs the same kernels
  const host = await trainGpt('ref', 4);
  assert.deepEqual(dev.losses, host.losses);
  assert.ok(dev.losses.every(Number.isFinite) && dev.losses.length === 4);
});

test('with the NaN guard off the loss is read every logEvery steps only (and on the last step)', async () => {
  const r = await trainGpt(sim.name, 5, { nanGuard: false, logEvery: 2 });
  assert.deepEqual(r.readsPerStep, [0, 1, 0, 1, 1]);
  assert.equal(r.losses.length, 3);
});

test('a training step on the native backend reads the loss once', { skip: nativeAvailable() ? false : 'the native addon is not built here' }, async () => {
  const previous = q.getBackend().name;
  q.selectBackend('native');
  try {
    const r = await trainGpt('native', 3);
    assert.deepEqual(r.readsPerStep, [1, 1, 1]);
    assert.equal(r.transfers, 0);
  } finally {
    q.setBackend(previous);
  }
});

test('trainer.run() on a device says to use runAsync', () => {
  on(sim.name, () => {
    const gpt = new q.nn.GPT({ vocabSize: 29, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 8, generator: new q.Generator(1) });
    const t = new q.Trainer(gpt, gptTask(gpt, 8, 2), { maxSteps: 2, evalEvery: 1000 });
    assert.throws(() => t.run(), /device backend.*use trainer\.runAsync\(\)/);
    t.dispose();
  });
});

test('a task on a device evaluates asynchronously: runAsync awaits it with grad off, and it picks the best checkpoint', async () => {
  const previous = q.getBackend().name;
  q.setBackend(sim.name);
  try {
    const gpt = new q.nn.GPT({ vocabSize: 29, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 8, generator: new q.Generator(3) });
    const base = gptTask(gpt, 8, 2);
    const grads: boolean[] = [];
    const task: q.TrainingTask<{ x: Int32Array; y: Int32Array }> = {
      ...base,
      evaluate: async (g) => {
        grads.push(q.isGradEnabled());
        const l = base.loss(base.nextBatch(g));
        const valLoss = await l.itemAsync();
        grads.push(q.isGradEnabled()); // still off after the await
        l.dispose();
        return { metrics: { valLoss }, main: 'valLoss', higherIsBetter: false };
      },
    };
    const t = new q.Trainer(gpt, task, { maxSteps: 4, evalEvery: 2, lr: 3e-3 });
    const evals: number[] = [];
    t.on((e) => { if (e.type === 'eval') evals.push(e.metrics.valLoss!); });
    const last = await t.runAsync();
    assert.equal(evals.length, 2);
    assert.ok(last && Number.isFinite(last.metrics.valLoss!));
    assert.deepEqual(grads, [false, false, false, false]);
    assert.ok(q.isGradEnabled(), 'grad mode restored after the run');
    assert.throws(() => t.evaluate(), /evaluates asynchronously.*runAsync/);
    t.dispose();
  } finally {
    q.setBackend(previous);
  }
});
