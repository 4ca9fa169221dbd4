// Is `qkv train lm`'s update the same as the PyTorch loop's (bench/peers/torch_gpt.py lm)? The same
// initial weights (qkv's, handed to PyTorch) and the same batches, qkv's Trainer with the CLI's baby
// settings (lmTrainerOptions: AdamW, decay on matrices, warmup + cosine, clip 1) against
// torch_gpt.py lmsteps; prints the loss of both at a few steps and the largest gap. Both sides
// start equal, so a gap that grows steadily (not float32 noise) would be a defect in one of them.
//   node bench/lm-steps.mjs [steps=300] [text=README.md]     (QKV_BENCH_PYTHON picks the Python)
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { lmTrainerOptions } from '../dist/cli/commands/train-lm.js';
import { q, torchPeer } from './lib.mjs';
import { BABY } from './e2e.mjs';

const steps = Number(process.argv[2] ?? 300);
const text = readFileSync(process.argv[3] ?? fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
const c = BABY;
const m = q.createLm(text, { batchSize: c.batchSize, generator: new q.Generator(c.seed) });
const weights = Object.fromEntries(m.model.namedParameters().map(([name, p]) => {
  const a = p.toTypedArray();
  return [name, { shape: p.shape, f32: Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64') }];
}));
const task = q.lmTraining(m, [text], [], { batchSize: c.batchSize, evalIters: 1 });
const g = new q.Generator(c.seed + 1);
const batches = Array.from({ length: steps }, () => task.nextBatch(g));
let next = 0;
const fixed = { ...task, nextBatch: () => batches[next++], evaluate: () => ({ metrics: { loss: 0 }, main: 'loss', higherIsBetter: false }) };
const options = lmTrainerOptions({
  lr: c.lr, minLr: c.minLr, weightDecay: c.weightDecay, beta1: 0.9, beta2: c.beta2, warmupIters: c.warmup, clip: c.clip, accumulate: 1,
  evalInterval: steps, seed: c.seed, maxIters: steps, lengthDefaults: { stepsFlag: '--max-iters' },
});
const trainer = new q.Trainer(m.model, fixed, options);
const ours = [];
trainer.on((e) => { if (e.type === 'step') ours.push(e.loss); });
trainer.run();
trainer.dispose();
const t = torchPeer('lmsteps', {
  ...c, vocabSize: m.config.model.vocabSize, weights, batches: batches.map((b) => [Array.from(b.x), Array.from(b.y)]), threads: 1,
}, 900_000);
if (t.error) throw new Error(`PyTorch: ${t.error}`);
let worst = 0;
for (let i = 0; i < steps; i++) worst = Math.max(worst, Math.abs(ours[i] - t.losses[i]));
const at = [1, 2, 10, 50, 100, 200, 300, 500, 1000].filter((s) => s <= steps);
for (const s of at) console.log(`step ${String(s).padStart(4)}: qkv ${ours[s - 1].toFixed(5)}  PyTorch ${t.losses[s - 1].toFixed(5)}  gap ${(ours[s - 1] - t.losses[s - 1]).toExponential(2)}`);
const mean = (a, i, j) => a.slice(i, j).reduce((x, y) => x + y, 0) / (j - i);
console.log(`mean loss of the last 50 steps: qkv ${mean(ours, steps - 50, steps).toFixed(4)}, PyTorch ${mean(t.losses, steps - 50, steps).toFixed(4)}; largest gap ${worst.toExponential(2)}`);
