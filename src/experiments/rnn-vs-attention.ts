// Lecture §5: an RNN processes positions one after another and struggles to relate far-apart
// positions; self-attention relates any two positions in one step and runs in parallel.
// Speed: training time per epoch as the sequence length N grows. Reach: accuracy on the recall
// task (a key, and `distance` positions later a query asking for it) as the distance grows.
import { generatePrevious, generateRecall } from '../data/builtin/long-range.js';
import type { ModelConfig } from '../nn/models/taggers.js';
import { bySize, type ExperimentDef } from './runner.js';
import { pct } from './stats.js';
import { accuracyWhere, trainTagger } from './train.js';

export interface RnnVsAttentionConfig {
  lengths: number[];
  epochSequences: number;
  distances: number[];
  train: number;
  dev: number;
  steps: number;
  lr: number;
  batchSize: number;
  rnn: Partial<ModelConfig>;
  attention: Partial<ModelConfig>;
}

const SERIES = [['RNN (LSTM)', 'rnn'], ['self-attention', 'attention']] as const;

export const rnnVsAttention: ExperimentDef<RnnVsAttentionConfig> = {
  name: 'rnn-vs-attention',
  title: 'RNN vs self-attention: time per epoch as sequences grow, and reach across distance',
  section: '§5',
  claim: 'self-attention runs in parallel (its time grows more slowly with N) and relates far-apart positions that an RNN struggles with',
  config: (size) => ({
    lengths: bySize(size, [8, 32], [16, 32, 64, 128, 256], [16, 32, 64, 128, 256, 512]), epochSequences: bySize(size, 16, 128, 256),
    distances: bySize(size, [2, 8], [2, 8, 16, 32], [2, 8, 16, 32, 64]), train: bySize(size, 100, 1500, 3000), dev: bySize(size, 100, 300, 500),
    steps: bySize(size, 15, 400, 800), lr: 3e-3, batchSize: bySize(size, 16, 32, 32),
    rnn: { kind: 'rnn', cell: 'lstm', dModel: bySize(size, 16, 32, 32), layers: 1 },
    attention: { kind: 'transformer', dModel: bySize(size, 16, 32, 32), layers: 1, heads: 4, pos: 'rope' },
  }),
  units: (c) => (c.lengths.length + c.distances.length) * SERIES.length,
  runSeed(c, seed, tick) {
    const rows = [];
    for (const N of c.lengths) {
      // an epoch: epochSequences sequences of length N, in batches
      const train = generatePrevious(seed, c.epochSequences, { minLength: N, maxLength: N });
      const steps = Math.max(2, Math.ceil(c.epochSequences / c.batchSize));
      for (const [series, key] of SERIES) {
        const r = trainTagger({ train, dev: train.slice(0, 2), model: c[key], steps, lr: c.lr, batchSize: c.batchSize, seed });
        tick(`${series}, N=${N}`);
        rows.push({ series, x: N, measure: 'epoch seconds', value: (r.msPerStep * steps) / 1000 });
      }
    }
    for (const d of c.distances) {
      const train = generateRecall(2 * seed, c.train, { distance: d });
      const dev = generateRecall(2 * seed + 1, c.dev, { distance: d });
      for (const [series, key] of SERIES) {
        const r = trainTagger({ train, dev, model: c[key], steps: c.steps, lr: c.lr, batchSize: c.batchSize, seed });
        tick(`${series}, distance ${d}`);
        rows.push({ series, x: d, measure: 'recall accuracy', value: accuracyWhere(dev, r.predicted, (e, t) => e.labels[t] !== '_') });
      }
    }
    return rows;
  },
  measures: { 'epoch seconds': { title: 'training time per epoch', unit: 's' }, 'recall accuracy': { title: 'accuracy at the query (chance 25%)', unit: '%' } },
  charts: [
    { id: 'time', title: 'Training time per epoch by sequence length', measure: 'epoch seconds', mark: 'line', xTitle: 'sequence length N', yTitle: 'seconds per epoch', xType: 'quantitative', xLog: true, yLog: true },
    { id: 'reach', title: 'Recalling a key across a distance', measure: 'recall accuracy', mark: 'line', xTitle: 'distance between key and query', yTitle: 'accuracy', xType: 'quantitative', xLog: true },
  ],
  verdict(t, c) {
    const [n0, n1] = [c.lengths[0]!, c.lengths[c.lengths.length - 1]!];
    const growth = (s: string) => t.mean(s, n1, 'epoch seconds') / t.mean(s, n0, 'epoch seconds');
    const [rnnGrowth, saGrowth] = [growth('RNN (LSTM)'), growth('self-attention')];
    const speedRatio = t.mean('RNN (LSTM)', n1, 'epoch seconds') / t.mean('self-attention', n1, 'epoch seconds');
    const d = c.distances[c.distances.length - 1]!;
    const rnnFar = t.mean('RNN (LSTM)', d, 'recall accuracy');
    const saFar = t.mean('self-attention', d, 'recall accuracy');
    const speed = speedRatio > 1;
    const reach = saFar >= rnnFar + 0.1;
    return {
      held: speed && reach,
      text: `From N=${n0} to ${n1} an epoch took ${rnnGrowth.toFixed(1)}× longer for the RNN and ${saGrowth.toFixed(1)}× for self-attention (the RNN ${speedRatio.toFixed(1)}× slower at N=${n1}), and at distance ${d} the RNN recalled ${pct(rnnFar)} against ${pct(saFar)}, so the claim ${speed && reach ? 'held' : speed ? 'held for speed but not for reach' : reach ? 'held for reach but not for speed' : 'did not hold'} on this run.`,
    };
  },
};
