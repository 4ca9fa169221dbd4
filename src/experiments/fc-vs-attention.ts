// Lecture §3: a fully-connected network sees one position, so in "I saw a saw" it gives both
// "saw" the same label; self-attention looks at the whole sentence. Built-in "ambiguity" language.
import { builtinDataset } from '../data/builtin/index.js';
import { split } from '../data/split.js';
import type { TaggedExample } from '../data/types.js';
import type { ModelConfig } from '../nn/models/taggers.js';
import { bySize, type ExperimentDef } from './runner.js';
import { pct } from './stats.js';
import { taggerRows, trainTagger } from './train.js';

export interface FcVsAttentionConfig {
  sentences: number;
  steps: number;
  lr: number;
  batchSize: number;
  fc: Partial<ModelConfig>;
  attention: Partial<ModelConfig>;
}

const MODELS = [['fully-connected', 'fc'], ['self-attention', 'attention']] as const;

export const fcVsAttention: ExperimentDef<FcVsAttentionConfig> = {
  name: 'fc-vs-attention',
  title: 'A fully-connected tagger vs self-attention on "I saw a saw"',
  section: '§3',
  claim: 'a per-position fully-connected network cannot tell the two "saw" apart; self-attention can',
  config: (size) => ({
    sentences: bySize(size, 200, 2000, 4000), steps: bySize(size, 15, 300, 600), lr: 5e-3, batchSize: bySize(size, 16, 32, 32),
    fc: { kind: 'fc', dModel: bySize(size, 16, 64, 64), layers: 2 },
    attention: { kind: 'transformer', dModel: bySize(size, 16, 32, 32), layers: 2, heads: 4, pos: 'rope' },
  }),
  units: () => 2,
  runSeed(c, seed, tick) {
    const [train, dev] = split(builtinDataset('ambiguity', { seed, n: c.sentences }), [0.85, 0.15], seed) as [TaggedExample[], TaggedExample[]];
    return MODELS.flatMap(([series, key]) => {
      const r = trainTagger({ train, dev, model: c[key], steps: c.steps, lr: c.lr, batchSize: c.batchSize, seed });
      tick(series);
      return taggerRows(series, r);
    });
  },
  measures: { accuracy: { title: 'accuracy', unit: '%' }, ms: { title: 'time per training step', unit: 'ms' } },
  charts: [{ id: 'accuracy', title: 'Tagging accuracy (held-out sentences)', measure: 'accuracy', mark: 'bar', xTitle: 'words', yTitle: 'accuracy', xType: 'nominal' }],
  verdict(t) {
    const fc = t.get('fully-connected', 'ambiguous words', 'accuracy');
    const sa = t.get('self-attention', 'ambiguous words', 'accuracy');
    const held = sa.min > fc.max;
    return {
      held,
      text: `On the ambiguous words self-attention reached ${pct(sa.mean)} (min ${pct(sa.min)}) against ${pct(fc.mean)} (max ${pct(fc.max)}) for the fully-connected tagger, so the claim ${held ? 'held on every seed' : 'did not hold on every seed'}.`,
    };
  },
};
