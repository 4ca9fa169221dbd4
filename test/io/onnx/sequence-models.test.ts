// Taggers and classifiers (transformer with every attention kind and position, FC and CNN
// baselines; words + character CNN, frames, graph masks) in ONNX Runtime against qkv.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Generator } from '../../../src/core/rng.js';
import { tensor } from '../../../src/ops/creation.js';
import { noGrad, tidy } from '../../../src/tensor/engine.js';
import { DEFAULT_MODEL, SequenceClassifier, SequenceTagger, type InputBatch, type InputConfig, type ModelConfig } from '../../../src/nn/models/taggers.js';
import { exportOnnx } from '../../../src/io/onnx/export.js';
import { assertOnnxClose, int64, runOnnx, type Feed } from './ort.js';
import { Module } from '../../../src/nn/module.js';
import type { SequenceEncoder } from '../../../src/nn/encoder.js';
import type { Tensor } from '../../../src/tensor/tensor.js';

const V = 13;
const CHARS = 7;
const LABELS = 5;

/** A random padded batch and the same as ONNX inputs. */
function batch(input: InputConfig, B: number, T: number, seed: number, graph: boolean): { qkv: InputBatch; feed: Feed } {
  const g = new Generator(seed);
  const lengths = Array.from({ length: B }, (_, b) => (b === 0 ? T : g.int(1, T + 1)));
  const pad = Array.from({ length: B * T }, (_, i) => (i % T < lengths[Math.floor(i / T)]! ? 0 : 1));
  const qkv: InputBatch = { keyPaddingMask: tensor(pad, { shape: [B, T], dtype: 'int32' }) };
  const feed: Feed = { key_padding_mask: { data: int64(pad), dims: [B, T] } };
  if (input.kind === 'tokens') {
    const ids = pad.map((p) => (p ? 0 : g.int(1, V)));
    qkv.ids = tensor(ids, { shape: [B, T], dtype: 'int32' });
    feed.ids = { data: int64(ids), dims: [B, T] };
    const U = 4;
    const C = 3;
    const chars = Array.from({ length: U * C }, (_, i) => (i < C ? 0 : g.int(0, CHARS)));
    const wordIndex = pad.map((p) => (p ? 0 : g.int(1, U)));
    qkv.chars = tensor(chars, { shape: [U, C], dtype: 'int32' });
    qkv.wordIndex = tensor(wordIndex, { shape: [B, T], dtype: 'int32' });
    feed.chars = { data: int64(chars), dims: [U, C] };
    feed.word_index = { data: int64(wordIndex), dims: [B, T] };
  } else if (input.kind === 'frames') {
    const frames = Float32Array.from({ length: B * T * input.frameDim }, () => g.normal());
    qkv.frames = tensor(frames, { shape: [B, T, input.frameDim] });
    feed.frames = { data: frames, dims: [B, T, input.frameDim] };
  }
  if (graph) {
    const m = Array.from({ length: B * T * T }, (_, i) => (i % (T * T) % (T + 1) === 0 ? 0 : g.uniform() < 0.6 ? 1 : 0)); // self loops kept
    qkv.attnMask = tensor(m, { shape: [B, T, T], dtype: 'int32' });
    feed.attn_mask = { data: int64(m), dims: [B, T, T] };
  }
  return { qkv, feed };
}

interface Case { name: string; model: Partial<ModelConfig>; input?: InputConfig; graph?: boolean; opset?: number }
const tokens: InputConfig = { kind: 'tokens', vocabSize: V, charVocabSize: CHARS };
const cases: Case[] = [
  { name: 'transformer, softmax, RoPE, words + characters', model: {} },
  { name: 'transformer, relu attention, sinusoidal', model: { attention: 'relu', pos: 'sinusoidal' } },
  { name: 'transformer, additive attention, learned positions', model: { attention: 'additive', pos: 'learned' } },
  { name: 'transformer, linear attention, no positions', model: { attention: 'linear', pos: 'none' } },
  { name: 'transformer, window 1 (truncated attention)', model: { window: 1 } },
  { name: 'transformer on frames with a graph mask', model: { pos: 'none' }, input: { kind: 'frames', frameDim: 6 }, graph: true },
  { name: 'FC baseline', model: { kind: 'fc' } },
  { name: 'CNN baseline on frames', model: { kind: 'cnn' }, input: { kind: 'frames', frameDim: 6 } },
  { name: 'transformer, opset 23 (Attention operator)', model: {}, opset: 23 },
  { name: 'RNN baseline, bidirectional LSTM, 2 layers', model: { kind: 'rnn', cell: 'lstm' } },
  { name: 'RNN baseline, bidirectional GRU on frames', model: { kind: 'rnn', cell: 'gru', layers: 1 }, input: { kind: 'frames', frameDim: 6 } },
];

for (const c of cases) {
  for (const Model of [SequenceTagger, SequenceClassifier]) {
    test(`${Model.name} (${c.name}): ONNX Runtime equals qkv within 1e-4 on two batch sizes and lengths`, async () => {
      const input = c.input ?? tokens;
      const config: ModelConfig = { ...DEFAULT_MODEL, dModel: 16, layers: 2, heads: 2, ...c.model };
      const model = new Model(input, config, LABELS, new Generator(5));
      model.eval();
      const [file] = exportOnnx(model, { opset: c.opset, graphInput: c.graph });
      if (c.opset === 23) assert.ok(Buffer.from(file!.bytes).includes('Attention_node'), 'the opset 23 graph uses the Attention operator');
      for (const [B, T] of [[1, 4], [3, 7]] as const) {
        const { qkv, feed } = batch(input, B, T, 100 * B + T, c.graph ?? false);
        const expected = tidy(() => noGrad(() => model.forward(qkv).toTypedArray()));
        const out = await runOnnx(file!.bytes, feed);
        assert.deepEqual(out.logits!.dims, Model === SequenceTagger ? [B, T, LABELS] : [B, LABELS]);
        assertOnnxClose(out.logits!.data, expected, `logits B=${B} T=${T}`);
      }
    });
  }
}

test('a body ONNX cannot express: one line naming the module and the feature, nothing returned', () => {
  const model = new SequenceTagger(tokens, { ...DEFAULT_MODEL, dModel: 8, layers: 1, heads: 2 }, LABELS, new Generator(1));
  class HandWrittenEncoder extends Module implements SequenceEncoder {
    readonly inDim = 8;
    readonly outDim = 8;
    forward(x: Tensor): Tensor { return x.mul(2); }
  }
  (model as unknown as { encoder: SequenceEncoder }).encoder = new HandWrittenEncoder();
  assert.throws(() => exportOnnx(model), (e: Error) => e.message === 'HandWrittenEncoder: this encoder has no ONNX export');
  const fc = new SequenceTagger(tokens, { ...DEFAULT_MODEL, kind: 'fc', dModel: 8 }, LABELS, new Generator(1));
  assert.throws(() => exportOnnx(fc, { graphInput: true }), /Error: FCEncoder: a graph \(attention\) mask can only be exported with a self-attention model$/);
  assert.throws(() => exportOnnx(fc, { opset: 18 }), /Error: exportOnnx: opset must be one of 17, 23, got 18$/);
});
