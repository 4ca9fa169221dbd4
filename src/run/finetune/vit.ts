// ViT fine-tuning batches: images already through the model's image processor, a label each;
// the dev metric is accuracy.
import type { ClassifiedExample } from '../../data/types.js';
import { tensor } from '../../ops/creation.js';
import { tidy } from '../../tensor/engine.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { EvalResult, TrainingTask } from '../../train/trainer.js';
import { PretrainedError, type ViTForImageClassification } from '../../nn/models/hf/index.js';
import type { Pretrained } from '../pretrained.js';
import type { FinetuneOptions } from './options.js';

interface ImageBatch { pixels: Tensor; labels: Tensor; n: number }

/** Images (already through the model's image processor) and their labels. */
export function vitTask(p: Pretrained, o: FinetuneOptions, train: readonly unknown[], dev: readonly unknown[]): TrainingTask<ImageBatch> {
  const model = p.model as ViTForImageClassification;
  const labelId = new Map(model.config.labels.map((l, i) => [l, i]));
  const batchSize = o.batchSize ?? 16;
  const batch = (rows: readonly unknown[]): ImageBatch => {
    const ex = rows as ClassifiedExample[];
    const first = ex[0]!.image;
    if (!first) throw new PretrainedError('data', 'ViT fine-tuning needs images (path<TAB>label lists or a folder per label)');
    const data = new Float32Array(ex.length * first.data.length);
    ex.forEach((e, i) => data.set(e.image!.data, i * first.data.length));
    return {
      pixels: tensor(data, { shape: [ex.length, first.channels, first.height, first.width] }),
      labels: tensor(ex.map((e) => labelId.get(e.label)!), { dtype: 'int32' }), n: ex.length,
    };
  };
  const forward = (b: ImageBatch) => model.forward({ pixelValues: b.pixels, labels: b.labels });
  return {
    examples: train.length,
    batchSize,
    nextBatch: (g) => batch(Array.from({ length: batchSize }, () => train[Math.floor(g.uniform() * train.length)])),
    batchOf: (indices) => batch(indices.map((i) => train[i])),
    loss: (b) => forward(b).loss!,
    size: (b) => b.n,
    evaluate: (): EvalResult => {
      let right = 0;
      for (let s = 0; s < dev.length; s += batchSize) {
        tidy(() => {
          const b = batch(dev.slice(s, s + batchSize));
          const pred = forward(b).logits.argmax(-1).toTypedArray();
          const gold = b.labels.toTypedArray();
          for (let i = 0; i < gold.length; i++) if (pred[i] === gold[i]) right++;
        });
      }
      return { metrics: { accuracy: dev.length ? right / dev.length : 0 }, main: 'accuracy', higherIsBetter: true };
    },
  };
}
