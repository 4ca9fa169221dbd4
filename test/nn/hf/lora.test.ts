// LoRA in PEFT's format: adapters made by peft load in qkv and give peft's logits (GPT-2 on
// c_attn, BERT on query,value); an adapter trained by qkv (scripts/hf-qkv-adapter.mjs) gives in
// qkv the logits peft gives for it (gpt2-lora-qkv/peft.safetensors, computed by
// scripts/golden_hf.py --qkv-adapter); merging keeps the logits; training moves only the adapters;
// and a LoRA step's peak memory stays near the frozen forward's.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { AdamW, fromPretrained, hf, loadAdapter, loadSafetensors, memory, noGrad, resetPeak, saveAdapter, tidy, type Tensor } from '../../../src/index.js';
import { assertGolden, goldenJson, goldenTensors, hfDir, ids, maxAbsDiff } from './golden.js';

interface Golden { input_ids: number[][]; token_type_ids?: number[][]; attention_mask?: number[][] }

function gpt2Logits(m: hf.HfModel): Tensor {
  const g = goldenJson<Golden>('gpt2');
  return noGrad(() => (m as hf.GPT2LMHeadModel).forward(ids(g.input_ids)).logits);
}

function bertLogits(m: hf.HfModel): Tensor {
  const g = goldenJson<Golden>('bert-seq');
  return noGrad(() => (m as hf.BertForSequenceClassification).forward({ inputIds: ids(g.input_ids), tokenTypeIds: ids(g.token_type_ids!), attentionMask: ids(g.attention_mask!) }).logits);
}

function vitLogits(m: hf.HfModel): Tensor {
  const px = goldenTensors('vit').get('pixel_values')!;
  return noGrad(() => (m as hf.ViTForImageClassification).forward({ pixelValues: px }).logits);
}

for (const [adapter, base, logitsOf, targets] of [
  ['gpt2-lora-peft', 'gpt2', gpt2Logits, ['c_attn']],
  ['bert-lora-peft', 'bert-seq', bertLogits, ['query', 'value']],
  ['vit-lora-peft', 'vit', vitLogits, ['q_proj', 'v_proj']], // transformers 5's names for ViT's query, value
] as const) {
  test(`a peft adapter (${adapter}) loads in qkv and gives peft's logits; merged, the same`, () => {
    const { model } = fromPretrained(hfDir(base));
    const before = logitsOf(model);
    const c = loadAdapter(model, hfDir(adapter));
    assert.deepEqual([...c.targets].sort(), [...targets].sort());
    assert.equal(c.modules.length, 2 * targets.length);
    const gold = goldenTensors(adapter).get('logits');
    const withAdapter = logitsOf(model);
    const worst = assertGolden([['logits with the adapter', withAdapter, gold]]);
    console.log(`# ${adapter} max |diff| vs peft: ${worst.toExponential(2)}`);
    assert.ok(maxAbsDiff(before, gold!, 'base vs adapter') > 1e-2, 'the adapter changes the logits');
    assert.equal(hf.mergeLora(model), c.modules.length);
    assert.ok(![...model.stateDict().keys()].some((k) => k.includes('lora_')));
    assertGolden([['logits after merging', logitsOf(model), gold]]);
    model.dispose();
  });
}

test('an adapter trained by qkv gives, loaded in qkv, the logits peft gives for it', () => {
  const { model } = fromPretrained(hfDir('gpt2'));
  const base = gpt2Logits(model);
  loadAdapter(model, hfDir('gpt2-lora-qkv'));
  const peft = loadSafetensors(join(hfDir('gpt2-lora-qkv'), 'peft.safetensors')).tensors.get('logits');
  const worst = assertGolden([['logits', gpt2Logits(model), peft]]);
  console.log(`# qkv-trained adapter: max |diff| qkv vs peft: ${worst.toExponential(2)}`);
  assert.ok(maxAbsDiff(base, peft!, 'base vs adapter') > 1e-2, 'the trained adapter changes the logits');
  const config = JSON.parse(readFileSync(join(hfDir('gpt2-lora-qkv'), 'adapter_config.json'), 'utf8'));
  assert.equal(config.peft_type, 'LORA');
  assert.equal(config.fan_in_fan_out, true);
  model.dispose();
});

test('LoRA training moves only the adapters; the saved adapter has PEFT keys and reloads', () => {
  const { model } = fromPretrained(hfDir('gpt2'));
  const lora = { r: 2, alpha: 4, dropout: 0, targets: ['c_attn', 'c_proj'] };
  const paths = hf.addLora(model, lora);
  assert.deepEqual(paths, ['transformer.h.0.attn.c_attn', 'transformer.h.0.attn.c_proj', 'transformer.h.0.mlp.c_proj', 'transformer.h.1.attn.c_attn', 'transformer.h.1.attn.c_proj', 'transformer.h.1.mlp.c_proj']);
  const params = hf.freezeForLora(model);
  assert.equal(params.length, 2 * paths.length);
  const frozen = new Map([...model.stateDict()].filter(([k]) => !k.includes('lora_')).map(([k, t]) => [k, Float32Array.from(t.toTypedArray() as Float32Array)]));
  const g = goldenJson<Golden>('gpt2');
  const x = ids(g.input_ids.map((r) => r.slice(0, -1)));
  const y = ids(g.input_ids.map((r) => r.slice(1)));
  const opt = new AdamW(params, { lr: 1e-2 });
  model.train();
  const losses: number[] = [];
  for (let i = 0; i < 5; i++) {
    losses.push(tidy(() => {
      const l = (model as hf.GPT2LMHeadModel).forward(x, { targets: y }).loss!;
      l.backward();
      return l.item();
    }));
    opt.step();
    opt.zeroGrad();
  }
  assert.ok(losses[4]! < losses[0]!, `loss went down: ${losses.join(', ')}`);
  for (const [k, t] of model.stateDict()) {
    if (k.includes('lora_')) continue;
    assert.deepEqual(t.toTypedArray(), frozen.get(k), `${k} did not move`);
    assert.equal(t.grad, null, `${k} has no gradient`);
  }
  model.eval();
  const trained = gpt2Logits(model);
  const dir = mkdtempSync(join(tmpdir(), 'qkv-lora-'));
  try {
    saveAdapter(dir, model, lora);
    const keys = [...loadSafetensors(join(dir, 'adapter_model.safetensors')).tensors.keys()];
    assert.ok(keys.includes('base_model.model.transformer.h.0.attn.c_attn.lora_A.weight'), keys.join());
    assert.equal(keys.length, 2 * paths.length);
    const again = fromPretrained(hfDir('gpt2')).model;
    loadAdapter(again, dir);
    assertGolden([['reloaded adapter', gpt2Logits(again), trained]], 0);
    again.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  model.dispose();
});

test('adapter errors are one line naming the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'qkv-lora-'));
  try {
    const { model } = fromPretrained(hfDir('gpt2'));
    assert.throws(() => loadAdapter(model, dir), /adapter_config\.json: cannot read/);
    assert.throws(() => hf.addLora(model, { r: 2, alpha: 4, targets: ['query'] }), /--lora-targets: \["query"\] matches no module of GPT2LMHeadModel \(its projections: c_attn, c_proj, c_fc\)/);
    const bert = fromPretrained(hfDir('bert-seq')).model;
    assert.throws(() => loadAdapter(bert, hfDir('gpt2-lora-peft')), /adapter_config\.json: .*matches no module|no place/);
    assert.ok(![...bert.stateDict().keys()].some((k) => k.includes('lora_')), 'a refused adapter leaves the model as it was');
    model.dispose();
    bert.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('memory: a LoRA step stays near the frozen forward, well under a full fine-tuning step', () => {
  const { model } = fromPretrained(hfDir('gpt2'));
  const m = model as hf.GPT2LMHeadModel;
  const x = ids([Array.from({ length: 48 }, (_, i) => (i * 7) % 300)]);
  const y = ids([Array.from({ length: 48 }, (_, i) => (i * 11) % 300)]);
  const peak = (fn: () => void): number => {
    const start = memory().bytes;
    resetPeak();
    fn();
    return memory().peakBytes - start;
  };
  const step = (params: Tensor[]) => () => {
    const opt = new AdamW(params, { lr: 1e-3 });
    tidy(() => m.forward(x, { targets: y }).loss!.backward());
    opt.step();
    opt.zeroGrad();
  };
  m.eval();
  const forward = peak(() => noGrad(() => tidy(() => { m.forward(x, { targets: y }); })));
  const full = peak(step(m.parameters()));
  hf.addLora(m, { r: 8, alpha: 16, targets: ['c_attn'] });
  const lora = peak(step(hf.freezeForLora(m)));
  console.log(`# peak bytes above the weights: frozen forward ${forward}, LoRA r=8 step ${lora}, full step ${full}`);
  assert.ok(lora < full, 'LoRA needs less than full fine-tuning');
  m.dispose();
});
