// The lm task's data, as nanoGPT's train.py: the 90/10 split, get_batch's random windows, and
// the losses (estimate_loss over random batches, textLoss over whole texts).
import { QkvError } from '../../core/errors.js';
import { Generator } from '../../core/rng.js';
import { GPT } from '../../nn/models/gpt.js';
import { tensor } from '../../ops/creation.js';
import { add } from '../../ops/elementwise.js';
import { crossEntropy } from '../../ops/loss.js';
import { noGrad, tidy } from '../../tensor/engine.js';
import type { Tensor } from '../../tensor/tensor.js';
import { readNow, type Reading } from '../../ops/reads.js';

/** nanoGPT's split: the first `fraction` of the tokens train, the rest validate (int(n*0.9)). */
export function splitTokens(data: Int32Array, fraction = 0.9): { train: Int32Array; val: Int32Array } {
  const n = Math.floor(data.length * fraction);
  return { train: data.subarray(0, n), val: data.subarray(n) };
}

export interface LmBatch { x: Int32Array; y: Int32Array; batch: number; block: number }

/** nanoGPT's get_batch: `batch` random offsets in [0, n - block), inputs and next-token targets. */
export function getBatch(data: Int32Array, batch: number, block: number, g: Generator): LmBatch {
  if (data.length <= block) throw new QkvError(`lm: ${data.length} tokens cannot make a batch of block size ${block}`);
  const x = new Int32Array(batch * block);
  const y = new Int32Array(batch * block);
  for (let b = 0; b < batch; b++) {
    const i = g.int(0, data.length - block);
    x.set(data.subarray(i, i + block), b * block);
    y.set(data.subarray(i + 1, i + 1 + block), b * block);
  }
  return { x, y, batch, block };
}

/** The mean cross-entropy of a batch (a scalar tensor, with a graph when grad is on). */
export function batchLoss(gpt: GPT, b: LmBatch): Tensor {
  return tidy(() => gpt.forward(tensor(b.x, { shape: [b.batch, b.block] }), { targets: tensor(b.y, { shape: [b.batch, b.block] }) }).loss!);
}

/** nanoGPT's estimate_loss for one split: the mean loss of `iters` random batches (no grad). */
export function estimateLoss(gpt: GPT, data: Int32Array, o: { batchSize: number; evalIters: number; generator: Generator }): number {
  const block = gpt.config.blockSize;
  let total = 0;
  noGrad(() => {
    for (let k = 0; k < o.evalIters; k++) total += tidy(() => batchLoss(gpt, getBatch(data, o.batchSize, block, o.generator)).item());
  });
  return total / o.evalIters;
}

/**
 * estimateLoss for a model on a device backend: the batches' losses are summed there and read
 * once. The batches are drawn before the first await, so `o.generator` advances as in estimateLoss.
 */
export async function estimateLossAsync(gpt: GPT, data: Int32Array, o: { batchSize: number; evalIters: number; generator: Generator }): Promise<number> {
  const block = gpt.config.blockSize;
  let total: Tensor | null = null;
  noGrad(() => {
    for (let k = 0; k < o.evalIters; k++) {
      const l = batchLoss(gpt, getBatch(data, o.batchSize, block, o.generator));
      const next: Tensor = total ? add(total, l) : l;
      if (total) { total.dispose(); l.dispose(); }
      total = next;
    }
  });
  const t = total as Tensor | null;
  if (!t) return NaN;
  try {
    return (await t.itemAsync()) / o.evalIters;
  } finally {
    t.dispose();
  }
}

/**
 * The loss of a whole text, every token after the first predicted exactly once: the text is
 * cut into non-overlapping windows of blockSize inputs (x = ids[s : s+block], y = ids[s+1 :
 * s+1+block] for s = 0, block, 2·block, ...; the last window is shorter), so a token at the
 * start of a window sees less context than one in the middle, as in nanoGPT-style evaluations
 * without a sliding window. Returns the summed and the mean loss (nats) and the token count.
 */
export function textLoss(gpt: GPT, ids: Int32Array, o: { batchSize?: number } = {}): { sum: number; tokens: number; loss: number } {
  return readNow(textLossReading(gpt, ids, o));
}

/** textLoss, reading each window batch's summed loss (ops/reads.ts: any backend). */
export function* textLossReading(gpt: GPT, ids: Int32Array, o: { batchSize?: number } = {}): Reading<{ sum: number; tokens: number; loss: number }> {
  const block = gpt.config.blockSize;
  const batchSize = o.batchSize ?? 16;
  const n = ids.length - 1; // positions with a target
  if (n < 1) throw new QkvError('lm: a text needs at least 2 tokens to be scored');
  const full = Math.floor(n / block);
  let sum = 0;
  const wasTraining = gpt.training;
  gpt.eval();
  const run = (starts: number[], len: number): Tensor => tidy(() => noGrad(() => {
    const x = new Int32Array(starts.length * len);
    const y = new Int32Array(starts.length * len);
    starts.forEach((s, b) => { x.set(ids.subarray(s, s + len), b * len); y.set(ids.subarray(s + 1, s + 1 + len), b * len); });
    const { logits } = gpt.forward(tensor(x, { shape: [starts.length, len] }));
    return crossEntropy(logits, tensor(y, { shape: [starts.length, len] }), { reduction: 'sum' });
  }));
  try {
    for (let w = 0; w < full; w += batchSize) sum += (yield run(Array.from({ length: Math.min(batchSize, full - w) }, (_, k) => (w + k) * block), block))[0]!;
    if (n % block) sum += (yield run([full * block], n % block))[0]!;
  } finally {
    gpt.train(wasTraining);
  }
  return { sum, tokens: n, loss: sum / n };
}
