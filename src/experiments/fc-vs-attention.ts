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
  claim: 'on the ambiguous words (saw, can, fly, ...) a per-position fully-connected tagger stays near a coin toss (at most 60%), because both "saw" look the same to it; self-attention, which sees the whole sentence, beats it on every seed',
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
    const blind = fc.max <= 0.6; // a coin toss between VERB and NOUN is 50%
    const beats = sa.min > fc.max;
    const held = blind && beats;
    return {
      held,
      text: `On the ambiguous words the fully-connected tagger reached ${pct(fc.mean)} (max ${pct(fc.max)}: ${blind ? 'at most 60%, where a coin toss is 50%' : 'above 60%, not blind to the neighbours'}) and self-attention ${pct(sa.mean)} (min ${pct(sa.min)}: ${beats ? 'ahead on every seed' : 'not ahead on every seed'}), so the claim ${held ? 'held' : 'did not hold'} on this run.`,
    };
  },
};
