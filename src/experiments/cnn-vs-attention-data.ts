// Lecture §5: a CNN is a simplified self-attention with a fixed, small receptive field. With
// little training data the CNN does better, with enough data self-attention does (the ViT
// result). Measured on images: a CNN and a patch self-attention model (ViT-style) of matched
// depth, width, parameters and time per step, trained on nested subsets of one generated pool
// (each size contains every smaller one), scored on the same held-out images. The default set,
// `relations` (src/data/builtin/relations.ts), has labels decided by local patterns (one shape:
// its kind) and labels decided by a relation between two far-apart places (two shapes: same or
// different kind); `shapes` (local patterns only) can be asked for with config.dataset.
import { builtinDataset } from '../data/builtin/index.js';
import { RELATIONS_FRONT_END, SHAPE_CLASSES, SHAPES_FRONT_END } from '../data/builtin/index.js';
import type { ClassifiedExample } from '../data/types.js';
import type { ModelConfig } from '../nn/models/taggers.js';
import { bySize, type ExperimentDef } from './runner.js';
import { order, pct, type SummaryTable } from './stats.js';
import { nestedSubsets, trainClassifier } from './train.js';
import type { Row } from './types.js';

export interface CnnVsAttentionConfig {
  dataset: 'relations' | 'shapes';
  /** Training-set sizes (images), nested. */
  sizes: number[];
  dev: number;
  /** Steps for a size: `epochs` passes over it, clamped to [minSteps, maxSteps]. */
  epochs: number;
  minSteps: number;
  maxSteps: number;
  lr: number;
  batchSize: number;
  cnn: Partial<ModelConfig>;
  attention: Partial<ModelConfig>;
}

const SERIES = [['CNN', 'cnn'], ['self-attention', 'attention']] as const;

/** The steps one size trains for. */
export const stepsFor = (c: CnnVsAttentionConfig, n: number): number => Math.min(c.maxSteps, Math.max(c.minSteps, Math.round((c.epochs * n) / c.batchSize)));

/** The smallest size from which self-attention's mean stays at or above the CNN's, or null. */
export function crossing(t: SummaryTable, sizes: readonly number[], measure = 'accuracy', x = (n: number) => n): number | null {
  let from: number | null = null;
  for (const n of sizes) {
    const ahead = t.mean('self-attention', x(n), measure) >= t.mean('CNN', x(n), measure);
    if (ahead && from === null) from = n;
    if (!ahead) from = null;
  }
  return from;
}

/**
 * Where the lead changes for good, on the log-size axis: the straight-line interpolation of
 * (self-attention − CNN) between the last size with the CNN ahead and the next, or null.
 */
export function crossingPoint(t: SummaryTable, sizes: readonly number[], measure = 'accuracy'): number | null {
  const from = crossing(t, sizes, measure);
  const i = from === null ? -1 : sizes.indexOf(from);
  if (i <= 0) return null;
  const d = (n: number) => t.mean('self-attention', n, measure) - t.mean('CNN', n, measure);
  const [a, b] = [sizes[i - 1]!, sizes[i]!];
  const f = d(a) / (d(a) - d(b)); // d(a) < 0 <= d(b)
  return Math.round(Math.exp(Math.log(a) + f * (Math.log(b) - Math.log(a))));
}

const pool = (c: CnnVsAttentionConfig, seed: number, n: number): ClassifiedExample[] => builtinDataset(c.dataset, { seed, n });

export const cnnVsAttentionData: ExperimentDef<CnnVsAttentionConfig> = {
  name: 'cnn-vs-attention-data',
  title: 'CNN vs patch self-attention on images as the training set grows',
  section: '§5',
  claim: 'on images, with the fewest training images the CNN is more accurate than patch self-attention of matched size, and with the most self-attention is (each on every seed); the size where the lead changes is the crossing point',
  config: (size) => ({
    dataset: 'relations',
    sizes: bySize(size, [60, 240], [300, 1000, 3000, 10000, 20000], [300, 1000, 3000, 10000, 30000, 60000]),
    dev: bySize(size, 120, 1200, 3000), epochs: 20, minSteps: bySize(size, 10, 300, 400), maxSteps: bySize(size, 15, 1200, 3000),
    lr: 3e-3, batchSize: bySize(size, 16, 32, 32),
    // matched compute per image (~0.4M multiply-adds each): 24 channels of 3×3 convolutions at 16×16 and 8×8,
    // against 17 tokens (16 patches of 4×4 and a class token) through two width-32 layers
    cnn: { kind: 'cnn', dModel: bySize(size, 16, 24, 24), layers: 2 },
    attention: { kind: 'transformer', dModel: bySize(size, 16, 32, 32), layers: 2, heads: 4, patch: 4 },
  }),
  units: (c) => c.sizes.length * SERIES.length,
  runSeed(c, seed, tick) {
    const largest = Math.max(...c.sizes);
    const all = pool(c, seed, largest + c.dev);
    const dev = all.slice(largest);
    const subsets = nestedSubsets(all.slice(0, largest), c.sizes, seed);
    const frontEnd = c.dataset === 'relations' ? RELATIONS_FRONT_END : SHAPES_FRONT_END;
    const one = (e: ClassifiedExample) => SHAPE_CLASSES.includes(e.label);
    const rows: Row[] = [];
    c.sizes.forEach((n, i) => {
      for (const [series, key] of SERIES) {
        const r = trainClassifier({ train: subsets[i]!, dev, frontEnd, model: c[key], steps: stepsFor(c, n), lr: c.lr, batchSize: c.batchSize, seed });
        tick(`${series}, ${n} images`);
        const on = (keep: (e: ClassifiedExample) => boolean) => {
          const idx = dev.map((e, j) => (keep(e) ? j : -1)).filter((j) => j >= 0);
          return idx.length ? idx.filter((j) => r.predicted[j] === dev[j]!.label).length / idx.length : NaN;
        };
        rows.push({ series, x: n, measure: 'accuracy', value: r.accuracy });
        if (c.dataset === 'relations') {
          rows.push({ series, x: n, measure: 'accuracy, one shape', value: on(one) }, { series, x: n, measure: 'accuracy, two shapes', value: on((e) => !one(e)) });
        }
        if (i === c.sizes.length - 1) rows.push({ series, x: 'model', measure: 'parameters', value: r.parameters }, { series, x: 'training step', measure: 'ms', value: r.msPerStep });
      }
    });
    return rows;
  },
  measures: {
    accuracy: { title: 'held-out accuracy', unit: '%' },
    'accuracy, one shape': { title: 'held-out accuracy, images with one shape (label: its kind)', unit: '%' },
    'accuracy, two shapes': { title: 'held-out accuracy, images with two shapes (same or different)', unit: '%' },
    parameters: { title: 'parameters', unit: '' }, ms: { title: 'time per training step (largest size)', unit: 'ms' },
  },
  charts: [
    { id: 'accuracy', title: 'Accuracy by training-set size', measure: 'accuracy', mark: 'line', xTitle: 'training images', yTitle: 'accuracy', xType: 'quantitative', xLog: true },
    { id: 'local', title: 'One shape: local patterns decide', measure: 'accuracy, one shape', mark: 'line', xTitle: 'training images', yTitle: 'accuracy', xType: 'quantitative', xLog: true },
    { id: 'relation', title: 'Two shapes: a relation across the image decides', measure: 'accuracy, two shapes', mark: 'line', xTitle: 'training images', yTitle: 'accuracy', xType: 'quantitative', xLog: true },
  ],
  verdict(t, c) {
    const small = c.sizes[0]!;
    const large = c.sizes[c.sizes.length - 1]!;
    const [cnnSmall, saSmall] = [t.get('CNN', small, 'accuracy'), t.get('self-attention', small, 'accuracy')];
    const [cnnLarge, saLarge] = [t.get('CNN', large, 'accuracy'), t.get('self-attention', large, 'accuracy')];
    const cnnFirst = order(cnnSmall, saSmall) === 'above';
    const saLast = order(saLarge, cnnLarge) === 'above';
    const held = cnnFirst && saLast;
    const cross = crossing(t, c.sizes);
    const point = crossingPoint(t, c.sizes);
    const where = cross === null ? 'the curves did not cross (self-attention was not ahead at the largest size)'
      : cross === small ? 'self-attention was ahead (in the mean) from the smallest size on'
        : `self-attention caught up between ${c.sizes[c.sizes.indexOf(cross) - 1]} and ${cross} images (near ${point} on the log axis) and stayed ahead`;
    const lead = (o: string) => (o === 'above' ? 'the CNN ahead on every seed' : o === 'below' ? 'self-attention ahead on every seed' : 'within the noise of the seeds');
    // why, from the numbers: the two kinds of label at the largest size
    const why = c.dataset === 'relations'
      ? ` At ${large} images on one shape the CNN reached ${pct(t.mean('CNN', large, 'accuracy, one shape'))} and self-attention ${pct(t.mean('self-attention', large, 'accuracy, one shape'))}; on two shapes (same or different) ${pct(t.mean('CNN', large, 'accuracy, two shapes'))} and ${pct(t.mean('self-attention', large, 'accuracy, two shapes'))}.`
      : '';
    return {
      held,
      text: `On ${c.dataset} with ${small} training images the CNN reached ${pct(cnnSmall.mean)} and self-attention ${pct(saSmall.mean)} (${lead(order(cnnSmall, saSmall))}), with ${large} ${pct(cnnLarge.mean)} and ${pct(saLarge.mean)} (${lead(order(cnnLarge, saLarge))}); ${where}, so the claim ${held ? 'held' : 'did not hold'} on this run.${why}`,
    };
  },
};
