// fromPretrained's directory reading: sharded weights (model.safetensors.index.json) load the same
// as one file; every problem is one line naming the file and the tensor or field: an unknown
// architecture, a missing config.json / weights file (pytorch_model.bin only), a wrongly shaped
// or typed tensor, a missing one, a shard without the tensor the index puts there, a config
// option qkv does not implement.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fromPretrained, hf, loadSafetensors, noGrad, savePretrained, serializeSafetensors, tensor, type Tensor } from '../../src/index.js';
import { fixturePath } from '../fixtures.js';

const root = mkdtempSync(join(tmpdir(), 'qkv-pretrained-'));
after(() => rmSync(root, { recursive: true, force: true }));
const gpt2 = fixturePath(join('hf', 'gpt2'));
let n = 0;
/** A copy of the GPT-2 fixture to break. */
function copy(): string {
  const d = join(root, `m${n++}`);
  cpSync(gpt2, d, { recursive: true });
  return d;
}
const weights = () => loadSafetensors(join(gpt2, 'model.safetensors')).tensors;
const logits = (d: string): Float32Array => {
  const m = fromPretrained(d).model as hf.GPT2LMHeadModel;
  const out = noGrad(() => m.forward(tensor([[1, 2, 3, 4]], { dtype: 'int32' })).logits.toTypedArray() as Float32Array);
  m.dispose();
  return out;
};
const editConfig = (d: string, f: (c: Record<string, unknown>) => void) => {
  const c = JSON.parse(readFileSync(join(d, 'config.json'), 'utf8'));
  f(c);
  writeFileSync(join(d, 'config.json'), JSON.stringify(c));
};

test('sharded weights (model.safetensors.index.json) load as one file does', () => {
  const d = copy();
  const all = [...weights()];
  const half = Math.ceil(all.length / 2);
  const shards = [all.slice(0, half), all.slice(half)];
  const weight_map: Record<string, string> = {};
  shards.forEach((s, i) => {
    const name = `model-0000${i + 1}-of-00002.safetensors`;
    writeFileSync(join(d, name), serializeSafetensors(new Map(s), { format: 'pt' }));
    for (const [k] of s) weight_map[k] = name;
  });
  unlinkSync(join(d, 'model.safetensors'));
  writeFileSync(join(d, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map }));
  assert.deepEqual(logits(d), logits(gpt2));
  // a shard without the tensor the index puts there
  const key = shards[1]![0]![0];
  weight_map[key] = 'model-00001-of-00002.safetensors';
  writeFileSync(join(d, 'model.safetensors.index.json'), JSON.stringify({ weight_map }));
  assert.throws(() => fromPretrained(d), new RegExp(`model-00001-of-00002\\.safetensors: has no tensor "${key.replace(/\./g, '\\.')}"`));
});

test('errors name the file and the tensor or field', () => {
  assert.throws(() => fromPretrained(join(root, 'absent')), /absent: no such directory .*nothing is downloaded/);
  let d = copy();
  editConfig(d, (c) => { c.architectures = ['LlamaForCausalLM']; });
  assert.throws(() => fromPretrained(d), /config\.json: the architecture "LlamaForCausalLM" is not supported \(qkv builds GPT2LMHeadModel, BertForTokenClassification, BertForSequenceClassification, ViTForImageClassification, WhisperForConditionalGeneration\)/);
  d = copy();
  editConfig(d, (c) => { c.scale_attn_by_inverse_layer_idx = true; });
  assert.throws(() => fromPretrained(d), /config\.json: "scale_attn_by_inverse_layer_idx" = true is not supported/);
  d = copy();
  unlinkSync(join(d, 'config.json'));
  assert.throws(() => fromPretrained(d), /config\.json: cannot read/);
  d = copy();
  unlinkSync(join(d, 'model.safetensors'));
  writeFileSync(join(d, 'pytorch_model.bin'), 'x');
  assert.throws(() => fromPretrained(d), /has no model\.safetensors or model\.safetensors\.index\.json \(only pytorch_model\.bin: qkv reads safetensors/);

  const rewrite = (change: (w: Map<string, Tensor>) => void): string => {
    const dir = copy();
    const w = weights();
    change(w);
    writeFileSync(join(dir, 'model.safetensors'), serializeSafetensors(w, { format: 'pt' }));
    return dir;
  };
  const shape = rewrite((w) => w.set('transformer.wpe.weight', tensor(new Float32Array(32 * 10), { shape: [10, 32] })));
  assert.throws(() => fromPretrained(shape), /model\.safetensors: GPT2LMHeadModel: cannot load state dict: "transformer\.wpe\.weight" has shape \[10, 32\] in the state dict, \[64, 32\] in the model/);
  const dtype = rewrite((w) => w.set('transformer.h.0.ln_1.bias', tensor(new Int32Array(32), { dtype: 'int32' })));
  assert.throws(() => fromPretrained(dtype), /model\.safetensors: .*"transformer\.h\.0\.ln_1\.bias" is int32 in the state dict, float32 in the model/);
  const missing = rewrite((w) => w.delete('transformer.ln_f.weight'));
  assert.throws(() => fromPretrained(missing), /model\.safetensors: .*missing keys: "transformer\.ln_f\.weight"/);
});

test('savePretrained writes what fromPretrained (and transformers) read: HF keys, the tied weight once, format "pt"', () => {
  const p = fromPretrained(gpt2);
  const d = join(root, 'saved');
  savePretrained(d, p.model, { config: p.config, tokenizerFrom: gpt2 });
  const file = loadSafetensors(join(d, 'model.safetensors'));
  assert.deepEqual([...file.tensors.keys()].sort(), [...weights().keys()].sort());
  assert.equal(file.metadata.format, 'pt');
  const config = JSON.parse(readFileSync(join(d, 'config.json'), 'utf8'));
  assert.deepEqual(config.architectures, ['GPT2LMHeadModel']);
  assert.equal(config.transformers_version, '5.18.0', 'the loaded config\'s other fields are kept');
  assert.deepEqual(logits(d), logits(gpt2));
  p.model.dispose();
});
