// GPT-2 fine-tuning batches: random windows of the tokenized text, next-token loss; the dev
// metric is the loss over up to 32 windows of the validation text.
import type { BpeTokenizer } from '../../data/tokenizers/tokenizer.js';
import { tensor } from '../../ops/creation.js';
import { tidy } from '../../tensor/engine.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { TrainingTask } from '../../train/trainer.js';
import { PretrainedError, type GPT2LMHeadModel } from '../../nn/models/hf/index.js';
import type { Pretrained } from '../pretrained.js';
import type { FinetuneOptions } from './options.js';

export function lmTask(p: Pretrained, o: FinetuneOptions, trainText: string, devText: string): TrainingTask<{ x: Tensor; y: Tensor; n: number }> {
  const model = p.model as GPT2LMHeadModel;
  const tok = p.tokenizer as BpeTokenizer;
  const block = o.blockSize ?? Math.min(model.config.nPositions, 64);
  if (block > model.config.nPositions) throw new PretrainedError('--block-size', `${block} is more than the model's n_positions ${model.config.nPositions}`);
  const ids = Array.from(tok.encode(trainText));
  const devIds = Array.from(tok.encode(devText));
  for (const [what, xs] of [['training', ids], ['validation', devIds]] as const) {
    if (xs.length < block + 1) throw new PretrainedError('--data', `the ${what} text is ${xs.length} tokens, fewer than a window of ${block + 1}; give more text or a smaller --block-size`);
  }
  const batchSize = o.batchSize ?? 8;
  const window = (xs: number[], at: number) => [xs.slice(at, at + block), xs.slice(at + 1, at + block + 1)];
  const batch = (starts: number[], xs: number[]) => {
    const w = starts.map((s) => window(xs, s));
    return { x: tensor(w.map((p) => p[0]!), { dtype: 'int32' }), y: tensor(w.map((p) => p[1]!), { dtype: 'int32' }), n: starts.length * block };
  };
  return {
    batchSize,
    nextBatch: (g) => batch(Array.from({ length: batchSize }, () => Math.floor(g.uniform() * (ids.length - block))), ids),
    loss: (b) => model.forward(b.x, { targets: b.y }).loss!,
    size: (b) => b.n,
    evaluate: () => {
      const starts: number[] = [];
      for (let s = 0; s + block < devIds.length && starts.length < 32; s += block) starts.push(s);
      let total = 0;
      for (let i = 0; i < starts.length; i += batchSize) {
        const chunk = starts.slice(i, i + batchSize);
        total += tidy(() => {
          const b = batch(chunk, devIds);
          return model.forward(b.x, { targets: b.y }).loss!.item();
        }) * chunk.length;
      }
      const loss = total / starts.length;
      return { metrics: { loss, perplexity: Math.exp(loss) }, main: 'loss', higherIsBetter: false };
    },
  };
}
