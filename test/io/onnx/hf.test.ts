// Hugging Face models exported to ONNX (exportOnnx on GPT-2, BERT token / sequence classification,
// ViT), run in ONNX Runtime on the golden inputs scripts/golden_hf.py wrote: the logits equal
// transformers' (golden.safetensors) and qkv's own within 1e-4, at opsets 17 and 23; a padded BERT
// batch uses attention_mask; GPT-2's and Whisper's decoders step by step on the KV cache. A model
// with adapters is a one-line refusal.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { data, exportOnnx, fromPretrained, hf, noGrad, tensor, type Tensor } from '../../../src/index.js';
import { goldenJson, goldenTensors, hfDir } from '../../nn/hf/golden.js';
import { assertOnnxClose, int64, runOnnx, type Feed } from './ort.js';

const flat = (rows: number[][]) => rows.flat();
const dims = (rows: number[][]) => [rows.length, rows[0]!.length];

async function check(name: string, feed: Feed, qkv: (m: hf.HfModel) => Tensor): Promise<void> {
  const p = fromPretrained(hfDir(name));
  const gold = goldenTensors(name).get('logits')!;
  const own = noGrad(() => qkv(p.model)).toTypedArray();
  for (const opset of [17, 23]) {
    const [f] = exportOnnx(p.model, { opset });
    assert.equal(f!.role, 'model');
    const out = await runOnnx(f!.bytes, feed);
    assert.deepEqual([...out.logits!.dims], gold.shape, `${name}: logits shape`);
    assertOnnxClose(out.logits!.data, gold.toTypedArray(), `${name} opset ${opset}: ONNX Runtime vs transformers`);
    assertOnnxClose(out.logits!.data, own, `${name} opset ${opset}: ONNX Runtime vs qkv`);
    let d = 0;
    out.logits!.data.forEach((x, i) => { d = Math.max(d, Math.abs(x - gold.toTypedArray()[i]!)); });
    console.log(`# ${name} opset ${opset}: max |ORT - transformers| ${d.toExponential(2)}`);
  }
  p.model.dispose();
}

test('GPT-2 as ONNX: input_ids -> logits equal transformers\' and qkv\'s', async () => {
  const ids = goldenJson<{ input_ids: number[][] }>('gpt2').input_ids;
  await check('gpt2', { input_ids: { data: int64(flat(ids)), dims: dims(ids) } }, (m) => (m as hf.GPT2LMHeadModel).forward(tensor(ids, { dtype: 'int32' })).logits);
});

test('BERT token and sequence classification as ONNX: a padded batch of a pair and a single text', async () => {
  for (const name of ['bert-token', 'bert-seq']) {
    const g = goldenJson<{ input_ids: number[][]; token_type_ids: number[][]; attention_mask: number[][] }>(name);
    const feed: Feed = {
      input_ids: { data: int64(flat(g.input_ids)), dims: dims(g.input_ids) }, token_type_ids: { data: int64(flat(g.token_type_ids)), dims: dims(g.input_ids) },
      attention_mask: { data: int64(flat(g.attention_mask)), dims: dims(g.input_ids) },
    };
    const i32 = (rows: number[][]) => tensor(rows, { dtype: 'int32' });
    await check(name, feed, (m) => (m as hf.BertForSequenceClassification).forward({ inputIds: i32(g.input_ids), tokenTypeIds: i32(g.token_type_ids), attentionMask: i32(g.attention_mask) }).logits);
  }
});

test('ViT as ONNX: pixel_values -> logits', async () => {
  const px = goldenTensors('vit').get('pixel_values')!;
  await check('vit', { pixel_values: { data: px.toTypedArray() as Float32Array, dims: [...px.shape] } }, (m) => (m as hf.ViTForImageClassification).forward({ pixelValues: px }).logits);
});

/** The decoder graph run step by step: `first` ids with an empty past, then one id at a time, the present fed back as the past. */
async function stepwise(bytes: Uint8Array, rows: number[], first: number, layers: number, heads: number, hd: number, extra: Feed = {}): Promise<Float32Array[]> {
  const past: Feed = {};
  for (let i = 0; i < layers; i++) for (const kv of ['key', 'value']) past[`past_${kv}_${i}`] = { data: new Float32Array(0), dims: [1, heads, 0, hd] };
  const out: Float32Array[] = [];
  for (let t = first; t <= rows.length; t++) {
    const ids = t === first ? rows.slice(0, first) : [rows[t - 1]!];
    const r = await runOnnx(bytes, { input_ids: { data: int64(ids), dims: [1, ids.length] }, ...extra, ...past });
    const V = r.logits!.dims[2]!;
    const T = r.logits!.dims[1]!;
    out.push(r.logits!.data.slice((T - 1) * V, T * V)); // the last position's logits
    for (let i = 0; i < layers; i++) for (const kv of ['key', 'value']) past[`past_${kv}_${i}`] = { data: r[`present_${kv}_${i}`]!.data, dims: [...r[`present_${kv}_${i}`]!.dims] };
  }
  return out;
}

test('GPT-2\'s decoder graph on the KV cache: the prompt, then one token at a time, gives transformers\' logits at each position', async () => {
  const ids = goldenJson<{ input_ids: number[][] }>('gpt2').input_ids[0]!;
  const p = fromPretrained(hfDir('gpt2'));
  const [, dec] = exportOnnx(p.model);
  assert.equal(dec!.role, 'decoder');
  const c = (p.model as hf.GPT2LMHeadModel).config;
  const steps = await stepwise(dec!.bytes, ids, 2, c.nLayer, c.nHead, c.nEmbd / c.nHead);
  const gold = goldenTensors('gpt2').get('logits')!.toTypedArray();
  const V = c.vocabSize;
  steps.forEach((l, s) => assertOnnxClose(l, gold.slice((1 + s) * V, (2 + s) * V), `position ${1 + s}`));
  p.model.dispose();
});

test('Whisper as ONNX: the encoder, then the decoder on its KV cache, give transformers\' teacher-forced logits', async () => {
  const p = fromPretrained(hfDir('whisper'));
  const m = p.model as hf.WhisperForConditionalGeneration;
  const c = m.config;
  const g = goldenJson<{ decoder_input_ids: number[][] }>('whisper');
  const wav = data.toMono(data.parseWav(readFileSync(join(hfDir('whisper'), 'speech.wav')), 'speech.wav'));
  const { data: feats, frames } = data.whisperLogMel(wav, p.featureExtractor!);
  const [enc, dec] = exportOnnx(m);
  assert.deepEqual([enc!.role, dec!.role], ['model', 'decoder']);
  const memory = (await runOnnx(enc!.bytes, { input_features: { data: feats, dims: [1, c.numMelBins, frames] } })).last_hidden_state!;
  const own = noGrad(() => m.encode(tensor(feats, { shape: [1, c.numMelBins, frames] }))).toTypedArray();
  assertOnnxClose(memory.data, own, 'encoder: ONNX Runtime vs qkv');
  const rows = g.decoder_input_ids[0]!;
  const steps = await stepwise(dec!.bytes, rows, 4, c.decoderLayers, c.decoderAttentionHeads, c.dModel / c.decoderAttentionHeads, { encoder_hidden_states: { data: memory.data, dims: [...memory.dims] } });
  const gold = goldenTensors('whisper').get('logits')!.toTypedArray();
  const V = c.vocabSize;
  steps.forEach((l, s) => assertOnnxClose(l, gold.slice((3 + s) * V, (4 + s) * V), `decoder position ${3 + s}`));
  let d = 0;
  steps.forEach((l, s) => l.forEach((x, i) => { d = Math.max(d, Math.abs(x - gold[(3 + s) * V + i]!)); }));
  console.log(`# Whisper encoder + decoder (cache) in ONNX Runtime vs transformers: ${d.toExponential(2)}`);
  p.model.dispose();
});

test('an HF model with LoRA adapters is refused in one line until merged', () => {
  const p = fromPretrained(hfDir('gpt2-lora-peft'), { base: hfDir('gpt2') });
  assert.throws(() => exportOnnx(p.model), /GPT2LMHeadModel: carries LoRA adapters: merge them first/);
  hf.mergeLora(p.model);
  assert.deepEqual(exportOnnx(p.model).map((f) => f.role), ['model', 'decoder']);
  p.model.dispose();
});
