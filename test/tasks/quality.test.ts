// Each labeling task reaches a stated quality on its built-in data in a test-sized run, and
// self-attention beats the per-position fully-connected baseline where context matters —
// the lecture's argument, measured.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import '../../src/index.js';
import { data, tagDriver, Trainer, type ModelKind, type TrainingTask } from '../../src/index.js';

function trainTagger(set: 'ambiguity' | 'speech' | 'graph', kind: ModelKind, steps: number, n: number, extra: Record<string, unknown> = {}): Record<string, number> {
  const all = data.builtinDataset(set, { seed: 0, n }) as data.TaggedExample[];
  const [train, dev] = data.split(all, [0.85, 0.15], 0) as [data.TaggedExample[], data.TaggedExample[]];
  const m = tagDriver.create(train, { model: { kind, dModel: 32, layers: 2, heads: 4, dropout: 0.1, ...extra } });
  const t = new Trainer(m.model, tagDriver.training(m, train, dev, { batchSize: 16 }) as TrainingTask<unknown>,
    { maxSteps: steps, lr: set === 'ambiguity' ? 5e-3 : 3e-3, warmup: 20, evalEvery: steps, seed: 0 });
  const result = t.run()!;
  t.dispose();
  m.model.dispose();
  return result.metrics;
}

test('ambiguity language: self-attention is at least 20 points above FC on the ambiguous words', () => {
  const fc = trainTagger('ambiguity', 'fc', 150, 800);
  const attention = trainTagger('ambiguity', 'transformer', 250, 800, { pos: 'rope' });
  assert.ok(fc.ambiguousAccuracy! < 0.65, `FC on ambiguous words: ${fc.ambiguousAccuracy}`);
  assert.ok(attention.ambiguousAccuracy! >= 0.9, `attention on ambiguous words: ${attention.ambiguousAccuracy}`);
  assert.ok(attention.ambiguousAccuracy! - fc.ambiguousAccuracy! >= 0.2);
  assert.ok(attention.accuracy! >= 0.97, `attention overall: ${attention.accuracy}`);
});

test('speech-like frames: a label per frame, context helps (attention ≥ 80%, ≥ 10 points above FC)', () => {
  const fc = trainTagger('speech', 'fc', 150, 300);
  const attention = trainTagger('speech', 'transformer', 150, 300, { pos: 'rope' });
  assert.ok(attention.accuracy! >= 0.8, `attention: ${attention.accuracy}`);
  assert.ok(attention.accuracy! - fc.accuracy! >= 0.1, `attention ${attention.accuracy} vs FC ${fc.accuracy}`);
});

test('graph nodes: attention along the edges (a GNN) ≥ 80%, ≥ 10 points above FC', () => {
  const fc = trainTagger('graph', 'fc', 150, 600);
  const attention = trainTagger('graph', 'transformer', 150, 600, { pos: 'none' });
  assert.ok(attention.accuracy! >= 0.8, `attention: ${attention.accuracy}`);
  assert.ok(attention.accuracy! - fc.accuracy! >= 0.1, `attention ${attention.accuracy} vs FC ${fc.accuracy}`);
});
