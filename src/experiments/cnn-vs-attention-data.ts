// Lecture §5: a CNN is a simplified self-attention with a fixed, small receptive field. With
// little training data the CNN does better, with enough data self-attention does (the ViT
// result). Both on the "ambiguity" tagging language, trained on nested subsets of one pool
// (each size contains every smaller one) and scored on the same held-out sentences.
import { builtinDataset } from '../data/builtin/index.js';
import type { ModelConfig } from '../nn/models/taggers.js';
import { bySize, type ExperimentDef } from './runner.js';
import { pct, type SummaryTable } from './stats.js';
import { nestedSubsets, trainTagger } from './train.js';

export interface CnnVsAttentionConfig {
  sizes: number[];
  dev: number;
  steps: number;
  lr: number;
  batchSize: number;
  cnn: Partial<ModelConfig>;
  attention: Partial<ModelConfig>;
}

const SERIES = [['CNN', 'cnn'], ['self-attention', 'attention']] as const;

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

export const cnnVsAttentionData: ExperimentDef<CnnVsAttentionConfig> = {
  name: 'cnn-vs-attention-data',
  title: 'CNN vs self-attention as the training set grows',
  section: '§5',
  claim: 'with little training data the CNN does better; with enough data self-attention does better',
  config: (size) => ({
    sizes: bySize(size, [16, 64], [25, 50, 100, 200, 400, 1600], [25, 50, 100, 200, 400, 800, 1600, 3200]),
    dev: bySize(size, 60, 400, 600), steps: bySize(size, 15, 300, 500), lr: 3e-3, batchSize: bySize(size, 16, 32, 32),
    cnn: { kind: 'cnn', dModel: bySize(size, 16, 32, 32), layers: 2, kernel: 3 },
    attention: { kind: 'transformer', dModel: bySize(size, 16, 32, 32), layers: 2, heads: 4, pos: 'rope' },
  }),
  units: (c) => c.sizes.length * SERIES.length,
  runSeed(c, seed, tick) {
    const largest = Math.max(...c.sizes);
    const all = builtinDataset('ambiguity', { seed, n: largest + c.dev });
    const dev = all.slice(largest);
    const subsets = nestedSubsets(all.slice(0, largest), c.sizes, seed);
    return c.sizes.flatMap((n, i) => SERIES.map(([series, key]) => {
      const r = trainTagger({ train: subsets[i]!, dev, model: c[key], steps: c.steps, lr: c.lr, batchSize: c.batchSize, seed });
      tick(`${series}, ${n} sentences`);
      return { series, x: n, measure: 'accuracy', value: r.metrics.accuracy! };
    }));
  },
  measures: { accuracy: { title: 'held-out accuracy', unit: '%' } },
  charts: [{ id: 'accuracy', title: 'Accuracy by training-set size', measure: 'accuracy', mark: 'line', xTitle: 'training sentences', yTitle: 'accuracy', xType: 'quantitative', xLog: true }],
  verdict(t, c) {
    const small = c.sizes[0]!;
    const large = c.sizes[c.sizes.length - 1]!;
    const cnnSmall = t.mean('CNN', small, 'accuracy');
    const saSmall = t.mean('self-attention', small, 'accuracy');
    const cnnLarge = t.mean('CNN', large, 'accuracy');
    const saLarge = t.mean('self-attention', large, 'accuracy');
    const cross = crossing(t, c.sizes);
    const held = cnnSmall > saSmall && saLarge > cnnLarge;
    const where = cross === null ? 'the curves did not cross (self-attention never stayed ahead)'
      : cross === small ? 'self-attention was ahead from the smallest size on' : `self-attention caught up at ${cross} sentences and stayed ahead`;
    return {
      held,
      text: `With ${small} sentences the CNN reached ${pct(cnnSmall)} and self-attention ${pct(saSmall)}, with ${large} ${pct(cnnLarge)} and ${pct(saLarge)}; ${where}, so the claim ${held ? 'held' : 'did not hold'} on this run.`,
    };
  },
};
