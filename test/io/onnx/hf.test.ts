// Hugging Face models exported to ONNX (exportOnnx on GPT-2, BERT token / sequence classification,
// ViT), run in ONNX Runtime on the golden inputs scripts/golden_hf.py wrote: the logits equal
// transformers' (golden.safetensors) and qkv's own within 1e-4, at opsets 17 and 23; a padded BERT
// batch uses attention_mask. A model with adapters and Whisper are one-line refusals.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exportOnnx, fromPretrained, hf, noGrad, tensor, type Tensor } from '../../../src/index.js';
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

test('an HF model with LoRA adapters, and Whisper, are refused in one line', () => {
  const p = fromPretrained(hfDir('gpt2-lora-peft'), { base: hfDir('gpt2') });
  assert.throws(() => exportOnnx(p.model), /GPT2LMHeadModel: carries LoRA adapters: merge them first/);
  hf.mergeLora(p.model);
  assert.equal(exportOnnx(p.model).length, 1);
  p.model.dispose();
  const w = fromPretrained(hfDir('whisper'));
  assert.throws(() => exportOnnx(w.model), /WhisperForConditionalGeneration: has no ONNX export yet/);
  w.model.dispose();
});
