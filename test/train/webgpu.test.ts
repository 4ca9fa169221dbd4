// Training on the WebGPU backend (SwiftShader where the machine has no GPU): a GPT step reads
// back only the logged loss and moves nothing; 200 seeded steps give native's losses within 1e-3;
// 2,000 steps keep the live GPU buffers flat (the pool reuses what each step frees).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as q from '../../src/index.js';
import { nativeAvailable } from '../../src/index.js';
import { webgpu, webgpuSkip } from '../webgpu-setup.js';

interface GptSize { vocab: number; block: number; batch: number; nLayer: number; nHead: number; nEmbd: number }
const SMALL: GptSize = { vocab: 29, block: 8, batch: 4, nLayer: 2, nHead: 2, nEmbd: 16 };
const TINY: GptSize = { vocab: 13, block: 4, batch: 2, nLayer: 1, nHead: 1, nEmbd: 8 };

/** Random windows of a fixed token stream; the loss; no reads of its own. */
function gptTask(gpt: q.nn.GPT, s: GptSize): q.TrainingTask<{ x: Int32Array; y: Int32Array }> {
  const stream = Int32Array.from({ length: 400 }, (_, i) => (i * 7 + (i >> 3)) % s.vocab);
  return {
    nextBatch(g) {
      const x = new Int32Array(s.batch * s.block);
      const y = new Int32Array(s.batch * s.block);
      for (let b = 0; b < s.batch; b++) {
        const at = g.int(0, stream.length - s.block - 1);
        x.set(stream.subarray(at, at + s.block), b * s.block);
        y.set(stream.subarray(at + 1, at + s.block + 1), b * s.block);
      }
      return { x, y };
    },
    loss: (b) => gpt.forward(q.tensor(b.x, { shape: [s.batch, s.block] }), { targets: q.tensor(b.y, { shape: [s.batch, s.block] }) }).loss!,
    size: () => s.batch * s.block,
    evaluate: () => ({ metrics: { evaluations: 1 }, main: 'evaluations', higherIsBetter: true }),
  };
}

interface Run { losses: number[]; readsPerStep: number[]; transfers: number; liveBuffers: number[]; gpuBuffers: number[] }

async function trainGpt(backend: string, s: GptSize, steps: number, options: Partial<q.TrainerOptions> = {}): Promise<Run> {
  const previous = q.getBackend().name;
  q.setBackend(backend);
  try {
    const gpt = new q.nn.GPT({ vocabSize: s.vocab, blockSize: s.block, nLayer: s.nLayer, nHead: s.nHead, nEmbd: s.nEmbd, dropout: 0.1, generator: new q.Generator(5) });
    const trainer = new q.Trainer(gpt, gptTask(gpt, s), { maxSteps: steps, evalEvery: 100000, lr: 3e-3, clip: 1, seed: 11, ...options });
    const run: Run = { losses: [], readsPerStep: [], transfers: 0, liveBuffers: [], gpuBuffers: [] };
    let reads = q.transferCounts().hostReads;
    const t0 = q.transferCounts().transfers;
    trainer.on((e) => {
      if (e.type !== 'step') return;
      if (e.loss !== null) run.losses.push(e.loss);
      run.readsPerStep.push(q.transferCounts().hostReads - reads);
      reads = q.transferCounts().hostReads;
      if (backend === 'webgpu') {
        const st = webgpu().stats();
        run.liveBuffers.push(st.liveBuffers);
        run.gpuBuffers.push(st.liveBuffers + st.pooledBuffers); // every GPU buffer not destroyed
      }
    });
    await trainer.runAsync();
    run.transfers = q.transferCounts().transfers - t0;
    trainer.dispose();
    for (const p of gpt.parameters()) p.dispose();
    return run;
  } finally {
    q.setBackend(previous);
  }
}

test('a GPT training step on webgpu reads back only the logged loss and moves nothing', { skip: webgpuSkip }, async () => {
  const r = await trainGpt('webgpu', SMALL, 3);
  assert.deepEqual(r.readsPerStep, [1, 1, 1], 'one read per step: [loss, grad norm] together');
  assert.equal(r.transfers, 0);
  assert.ok(r.losses.every(Number.isFinite));
});

test('200 seeded GPT steps on webgpu give the native backend\'s losses within 1e-3', {
  skip: webgpuSkip || (nativeAvailable() ? false : 'the native addon is not built here'),
}, async (t) => {
  q.selectBackend('native'); // registers it (the default may be wasm or ref here)
  const host = await trainGpt('native', SMALL, 200);
  const dev = await trainGpt('webgpu', SMALL, 200);
  assert.equal(dev.losses.length, 200);
  let worst = 0;
  dev.losses.forEach((l, i) => { worst = Math.max(worst, Math.abs(l - host.losses[i]!)); });
  t.diagnostic(`largest loss difference over 200 steps: ${worst.toExponential(2)} (first ${dev.losses[0]!.toFixed(4)}, last ${dev.losses.at(-1)!.toFixed(4)})`);
  assert.ok(worst <= 1e-3, `largest loss difference ${worst}`);
  assert.ok(dev.losses.at(-1)! < dev.losses[0]! - 0.3, `the loss fell (${dev.losses[0]} -> ${dev.losses.at(-1)})`);
});

test('2,000 GPT steps on webgpu keep the live GPU buffers flat', { skip: webgpuSkip }, async (t) => {
  const r = await trainGpt('webgpu', TINY, 2000, { nanGuard: false, logEvery: 100 });
  // the count seen at a step event depends on whether that step logs (its loss is held for the
  // read); what must not happen is growth: the last 1,000 steps never exceed steps 10-200
  const early = Math.max(...r.liveBuffers.slice(9, 200));
  const late = Math.max(...r.liveBuffers.slice(1000));
  assert.equal(r.liveBuffers.length, 2000);
  // and the pool does not grow either: every GPU buffer made, in use or free, is reused
  const earlyAll = Math.max(...r.gpuBuffers.slice(9, 200));
  const lateAll = Math.max(...r.gpuBuffers.slice(1000));
  t.diagnostic(`live GPU buffers: at most ${early} in steps 10-200, ${late} in steps 1001-2000; live + pooled: ${earlyAll}, ${lateAll}`);
  assert.ok(late <= early, `live GPU buffers grew: at most ${early} in steps 10-200, ${late} in steps 1001-2000`);
  assert.ok(lateAll <= earlyAll, `GPU buffers (live + pooled) grew: ${earlyAll} in steps 10-200, ${lateAll} in steps 1001-2000`);
});
