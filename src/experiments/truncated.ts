// Lecture §4: for long inputs such as speech, attend only within a window (truncated
// self-attention). Window size against accuracy and cost on long speech-frame sequences.
import { builtinDataset } from '../data/builtin/index.js';
import { split } from '../data/split.js';
import type { TaggedExample } from '../data/types.js';
import { bySize, type ExperimentDef } from './runner.js';
import { order, pct } from './stats.js';
import { trainTagger } from './train.js';

export interface TruncatedConfig {
  utterances: number;
  minFrames: number;
  maxFrames: number;
  /** Positions seen either side; 0 = the whole sequence. */
  windows: number[];
  steps: number;
  lr: number;
  batchSize: number;
  dModel: number;
}

const label = (w: number) => (w === 0 ? 'whole sequence' : `±${w}`);

export const truncated: ExperimentDef<TruncatedConfig> = {
  name: 'truncated',
  title: 'Truncated self-attention on long speech-frame sequences',
  section: '§4',
  claim: 'on speech frames a window narrower than the whole sequence tags within 2 points of whole-sequence attention, and its training step is faster on every seed',
  config: (size) => ({
    utterances: bySize(size, 40, 400, 800), minFrames: bySize(size, 30, 200, 400), maxFrames: bySize(size, 40, 300, 600),
    windows: bySize(size, [1, 4, 0], [1, 2, 4, 8, 16, 0], [1, 2, 4, 8, 16, 32, 0]), steps: bySize(size, 10, 200, 400), lr: 3e-3, batchSize: bySize(size, 4, 8, 8), dModel: bySize(size, 16, 32, 32),
  }),
  units: (c) => c.windows.length,
  runSeed(c, seed, tick) {
    const all = builtinDataset('speech', { seed, n: c.utterances, minFrames: c.minFrames, maxFrames: c.maxFrames });
    const [train, dev] = split(all, [0.8, 0.2], seed) as [TaggedExample[], TaggedExample[]];
    return c.windows.flatMap((w) => {
      const r = trainTagger({ train, dev, model: { kind: 'transformer', dModel: c.dModel, layers: 2, heads: 4, pos: 'rope', window: w === 0 ? null : w }, steps: c.steps, lr: c.lr, batchSize: c.batchSize, seed });
      tick(label(w));
      const x = w === 0 ? c.maxFrames : 2 * w + 1; // the span a frame sees
      return [
        { series: 'truncated attention', x, measure: 'accuracy', value: r.metrics.accuracy! },
        { series: 'truncated attention', x, measure: 'ms', value: r.msPerStep },
      ];
    });
  },
  measures: { accuracy: { title: 'frame accuracy', unit: '%' }, ms: { title: 'time per training step', unit: 'ms' } },
  charts: [
    { id: 'accuracy', title: 'Frame accuracy by attention span (rightmost: the whole sequence)', measure: 'accuracy', mark: 'line', xTitle: 'frames each frame attends to', yTitle: 'accuracy', xType: 'quantitative', xLog: true },
    { id: 'time', title: 'Time per training step by attention span', measure: 'ms', mark: 'line', xTitle: 'frames each frame attends to', yTitle: 'ms per step', xType: 'quantitative', xLog: true },
  ],
  verdict(t, c) {
    const full = c.maxFrames;
    const fullAcc = t.mean('truncated attention', full, 'accuracy');
    const fullMs = t.get('truncated attention', full, 'ms');
    const spans = c.windows.filter((w) => w > 0).map((w) => 2 * w + 1);
    const good = spans.find((s) => t.mean('truncated attention', s, 'accuracy') >= fullAcc - 0.02);
    if (good === undefined) {
      return { held: false, text: `No window came within 2 points of whole-sequence attention (${pct(fullAcc)}; the widest span of ${spans[spans.length - 1]} frames ${pct(t.mean('truncated attention', spans[spans.length - 1]!, 'accuracy'))}), so the claim did not hold on this run.` };
    }
    const goodMs = t.get('truncated attention', good, 'ms');
    const cheaper = order(goodMs, fullMs) === 'below';
    return {
      held: cheaper,
      text: `The narrowest span within 2 points, ${good} frames, reached ${pct(t.mean('truncated attention', good, 'accuracy'))} against ${pct(fullAcc)} for the whole sequence, at ${goodMs.mean.toFixed(1)} vs ${fullMs.mean.toFixed(1)} ms per step (${cheaper ? 'faster on every seed' : 'not faster on every seed: within noise'}), so the claim ${cheaper ? 'held' : 'held for accuracy but not for cost'} on this run.`,
    };
  },
};
