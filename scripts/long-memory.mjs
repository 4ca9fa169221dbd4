// A long-run memory check (not part of npm test): trains a small self-attention tagger through
// the real Trainer (batching, forward, backward, clipping, AdamW, evaluations) for STEPS steps
// (default 100,000) and checks that the engine's live bytes and tensor count after every
// evaluation equal those after the first. Prints a line per checkpoint and a JSON summary.
//   npm run long-memory                  # 100,000 steps
//   node scripts/long-memory.mjs 5000    # fewer
import * as q from '../dist/src/index.js';

const STEPS = Number(process.argv[2] ?? 100000);
const EVERY = Math.max(1, Math.min(10000, Math.floor(STEPS / 10)));
const { data, tagDriver, Trainer, Generator, memory } = q;

const all = data.builtinDataset('ambiguity', { seed: 3, n: 400 });
const [train, dev] = data.split(all, [0.9, 0.1], 3);
const instance = tagDriver.create(train, { model: { kind: 'transformer', dModel: 16, layers: 1, heads: 2, dropout: 0.1 }, generator: new Generator(5) });
const task = tagDriver.training(instance, train, dev, { batchSize: 8, wordDropout: 0.05 });
const trainer = new Trainer(instance.model, task, { maxSteps: STEPS, evalEvery: EVERY, lr: 3e-3, warmup: 100, seed: 1 });

const rows = [];
let reference = null;
const t0 = performance.now();
trainer.on((e) => {
  if (e.type !== 'eval') return;
  const m = memory();
  const row = { step: e.step, bytes: m.bytes, tensors: m.tensors, storages: m.storages, peakBytes: m.peakBytes, rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20), accuracy: e.metrics.accuracy, seconds: Math.round((performance.now() - t0) / 1000) };
  reference ??= row;
  rows.push(row);
  console.error(`step ${row.step}: live ${row.bytes} bytes in ${row.tensors} tensors, rss ${row.rssMiB} MiB, accuracy ${row.accuracy?.toFixed(3)}, ${row.seconds} s`);
});
trainer.run();
const flat = rows.every((r) => r.bytes === reference.bytes && r.tensors === reference.tensors && r.storages === reference.storages);
console.log(JSON.stringify({ steps: STEPS, backend: q.describeBackend(), flat, first: reference, last: rows[rows.length - 1] }));
trainer.dispose();
process.exitCode = flat ? 0 : 1;
