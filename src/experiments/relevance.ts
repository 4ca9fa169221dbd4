// Lecture §4: relevance alpha by dot product (q · k, the common one) or additive
// (w^T tanh(W^q a + W^k a)); normalised by softmax, or another activation such as ReLU.
import { builtinDataset } from '../data/builtin/index.js';
import { split } from '../data/split.js';
import type { TaggedExample } from '../data/types.js';
import type { AttentionKind } from '../nn/attention/multihead.js';
import { bySize, type ExperimentDef } from './runner.js';
import { pct } from './stats.js';
import { taggerRows, trainTagger } from './train.js';

export interface RelevanceConfig {
  sentences: number;
  dModel: number;
  steps: number;
  lr: number;
  batchSize: number;
}

const VARIANTS: [string, AttentionKind][] = [['dot + softmax', 'softmax'], ['additive + softmax', 'additive'], ['dot + ReLU', 'relu']];

export const relevance: ExperimentDef<RelevanceConfig> = {
  name: 'relevance',
  title: 'Relevance: dot-product vs additive; normaliser: softmax vs ReLU',
  section: '§4',
  claim: 'additive relevance and a ReLU normaliser also work; dot-product is the common (cheaper) choice',
  config: (size) => ({ sentences: bySize(size, 200, 2000, 4000), dModel: bySize(size, 16, 32, 32), steps: bySize(size, 15, 300, 600), lr: 5e-3, batchSize: bySize(size, 16, 32, 32) }),
  units: () => VARIANTS.length,
  runSeed(c, seed, tick) {
    const [train, dev] = split(builtinDataset('ambiguity', { seed, n: c.sentences }), [0.85, 0.15], seed) as [TaggedExample[], TaggedExample[]];
    return VARIANTS.flatMap(([series, attention]) => {
      const r = trainTagger({ train, dev, model: { kind: 'transformer', dModel: c.dModel, layers: 2, heads: 4, pos: 'rope', attention }, steps: c.steps, lr: c.lr, batchSize: c.batchSize, seed });
      tick(series);
      return taggerRows(series, r);
    });
  },
  measures: { accuracy: { title: 'accuracy', unit: '%' }, ms: { title: 'time per training step', unit: 'ms' } },
  charts: [
    { id: 'accuracy', title: 'Accuracy by relevance function and normaliser', measure: 'accuracy', mark: 'bar', xTitle: 'words', yTitle: 'accuracy', xType: 'nominal' },
    { id: 'time', title: 'Time per training step', measure: 'ms', mark: 'bar', xTitle: '', yTitle: 'ms per step', xType: 'nominal' },
  ],
  verdict(t) {
    const base = t.mean('dot + softmax', 'ambiguous words', 'accuracy');
    const others = VARIANTS.slice(1).map(([s]) => ({ s, acc: t.mean(s, 'ambiguous words', 'accuracy') }));
    const worst = others.reduce((a, b) => (b.acc < a.acc ? b : a));
    const fastest = VARIANTS.map(([s]) => ({ s, ms: t.mean(s, 'training step', 'ms') })).reduce((a, b) => (b.ms < a.ms ? b : a));
    const held = worst.acc >= base - 0.05;
    return {
      held,
      text: `On the ambiguous words dot + softmax reached ${pct(base)} and the weakest alternative (${worst.s}) ${pct(worst.acc)}, ${held ? 'within 5 points, so the alternatives also work' : 'more than 5 points behind'}; the fastest step was ${fastest.s} (${fastest.ms.toFixed(1)} ms).`,
    };
  },
};
