// The encoder–decoder: encoder graph and decoder-step graph (KV cache or linear state) in ONNX
// Runtime against qkv's teacher-forced logits and greedy decoding.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Generator } from '../../../src/core/rng.js';
import { tensor } from '../../../src/ops/creation.js';
import { noGrad, tidy } from '../../../src/tensor/engine.js';
import { DEFAULT_SEQ2SEQ_MODEL, Seq2SeqModel, type Seq2SeqModelConfig } from '../../../src/nn/models/seq2seq.js';
import { exportOnnx } from '../../../src/io/onnx/export.js';
import { assertOnnxClose, int64, runOnnx, type Feed } from './ort.js';

const SV = 9;
const TV = 8;

function cache(m: Seq2SeqModel, B: number): Feed {
  const { heads, dModel, attention } = m.config;
  const hd = dModel / heads;
  const feed: Feed = {};
  m.transformer.decoder.layers.items.forEach((_, i) => {
    if (attention === 'linear') {
      feed[`past_S_${i}`] = { data: new Float32Array(B * heads * hd * hd), dims: [B, heads, hd, hd] };
      feed[`past_z_${i}`] = { data: new Float32Array(B * heads * hd), dims: [B, heads, hd] };
    } else {
      feed[`past_key_${i}`] = { data: new Float32Array(0), dims: [B, heads, 0, hd] };
      feed[`past_value_${i}`] = { data: new Float32Array(0), dims: [B, heads, 0, hd] };
    }
  });
  if (attention === 'linear') feed.past_length = { data: int64([0]), dims: [] };
  return feed;
}

const cases: Partial<Seq2SeqModelConfig>[] = [{}, { pos: 'rope', normFirst: false }, { attention: 'linear', pos: 'learned' }];
for (const c of cases) {
  test(`seq2seq (${c.attention ?? 'softmax'}, ${c.pos ?? 'sinusoidal'}): encoder and decoder-step graphs equal qkv within 1e-4`, async () => {
    const m = new Seq2SeqModel(SV, TV, { ...DEFAULT_SEQ2SEQ_MODEL, dModel: 16, heads: 2, layers: 2, ff: 32, maxLen: 32, ...c }, new Generator(4));
    m.eval();
    const [enc, dec] = exportOnnx(m);
    for (const [B, S, T] of [[1, 5, 3], [2, 7, 4]] as const) {
      const g = new Generator(B * 31 + S);
      const src = Array.from({ length: B * S }, () => g.int(1, SV));
      const pad = Array.from({ length: B * S }, (_, i) => (i >= S && i % S >= S - 2 ? 1 : 0)); // the second sequence is shorter
      const tgt = Array.from({ length: B * T }, () => g.int(1, TV));
      const expected = tidy(() => noGrad(() => m.forward(tensor(src, { shape: [B, S], dtype: 'int32' }), tensor(pad, { shape: [B, S], dtype: 'int32' }),
        tensor(tgt, { shape: [B, T], dtype: 'int32' })).toTypedArray()));
      const memory = await runOnnx(enc!.bytes, { src: { data: int64(src), dims: [B, S] }, src_key_padding_mask: { data: int64(pad), dims: [B, S] } });
      const common: Feed = { memory: { data: memory.memory!.data, dims: [...memory.memory!.dims] }, src_key_padding_mask: { data: int64(pad), dims: [B, S] } };
      // all target positions at once, then the last one again on the cache of the first T - 1
      const all = await runOnnx(dec!.bytes, { tgt: { data: int64(tgt), dims: [B, T] }, ...common, ...cache(m, B) });
      assertOnnxClose(all.logits!.data, expected, `decoder logits B=${B} T=${T}`);
      const head = await runOnnx(dec!.bytes, { tgt: { data: int64(tgt.filter((_, i) => i % T < T - 1)), dims: [B, T - 1] }, ...common, ...cache(m, B) });
      const past: Feed = {};
      for (const [k, v] of Object.entries(head)) if (k.startsWith('present_')) past[k.replace('present_', 'past_')] = { data: v.data, dims: [...v.dims] };
      if (m.config.attention === 'linear') past.past_length = { data: int64([T - 1]), dims: [] };
      const step = await runOnnx(dec!.bytes, { tgt: { data: int64(tgt.filter((_, i) => i % T === T - 1)), dims: [B, 1] }, ...common, ...past });
      const last = Array.from({ length: B }, (_, b) => Array.from(expected.subarray((b * T + T - 1) * TV, (b + 1) * T * TV))).flat();
      assert.deepEqual(step.logits!.dims, [B, 1, TV]);
      assertOnnxClose(step.logits!.data, last, 'the step on the cache');
    }
  });
}
