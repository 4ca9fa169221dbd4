// The CLI on Hugging Face directories, end to end: fine-tuning BERT (tag: full; classify: LoRA
// with a new head) and GPT-2 (lm: LoRA) from the tiny fixtures, the save_pretrained and PEFT
// layouts they write (the keys and shapes transformers and peft read: checked against the
// fixtures written by transformers itself), predict / generate on them, export --merge-lora
// giving the adapter's logits, and one-line errors.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { encodePng, fromPretrained, hf, loadSafetensors, noGrad, tensor, type Tensor } from '../../src/index.js';
import { fixturePath } from '../fixtures.js';
import { failsWith, ok } from './expect.js';

const bin = fileURLToPath(new URL('../../cli/qkv.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'qkv-hf-cli-'));
const run = (args: string[], input?: string) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', input: input ?? '', cwd: dir });
const fx = (name: string) => fixturePath(join('hf', name));

const names = ['john', 'mary', 'anna', 'peter'];
const places = ['paris', 'london', 'rome', 'berlin'];
writeFileSync(join(dir, 'ner.conll'), Array.from({ length: 40 }, (_, i) =>
  [[names[i % 4]!, 'B-PER'], ['saw', 'O'], ['a', 'O'], ['saw', 'O'], ['in', 'O'], [places[(i * 3) % 4]!, 'B-LOC']].map(([w, t]) => `${w}\t${t}`).join('\n') + '\n\n').join(''));
writeFileSync(join(dir, 'sent.tsv'), Array.from({ length: 60 }, (_, i) => (i % 2 ? 'the saw was sharp and good\tpos' : 'the wood was bad, I cut it\tneg')).join('\n') + '\n');
writeFileSync(join(dir, 'text.txt'), 'I saw a saw. The saw was sharp, and I saw it cut the wood. '.repeat(40));

/** name -> shape of a safetensors file. */
const shapes = (file: string) => new Map([...loadSafetensors(file).tensors].map(([k, t]) => [k, t.shape.join('x')]));

test('train tag --from BERT (full): save_pretrained layout with the keys transformers wrote; predict labels words', () => {
  const r = run(['train', 'tag', '--from', fx('bert-token'), '--train', 'ner.conll', '--out', 'ner', '--max-steps', '60', '--eval-every', '20', '--lr', '3e-3', '--batch-size', '8', '--json']);
  ok(r, 'train tag');
  const s = JSON.parse(r.stdout);
  assert.equal(s.metrics.accuracy, 1, r.stdout);
  assert.equal(s.newHead, null, 'the data\'s labels are the model\'s: the head is kept');
  assert.deepEqual(shapes(join(dir, 'ner', 'model.safetensors')), shapes(join(fx('bert-token'), 'model.safetensors')));
  const config = JSON.parse(readFileSync(join(dir, 'ner', 'config.json'), 'utf8'));
  assert.deepEqual(config.architectures, ['BertForTokenClassification']);
  assert.equal(config.id2label['1'], 'B-PER');
  assert.ok(existsSync(join(dir, 'ner', 'tokenizer.json')));
  const p = run(['predict', '--model', 'ner'], 'mary saw a saw in rome\n');
  ok(p, 'predict');
  assert.equal(p.stdout.trim(), 'mary/B-PER saw/O a/O saw/O in/O rome/B-LOC');
  // one output line per input line: an empty line in gives an empty line out (null with --json)
  const blank = run(['predict', '--model', 'ner'], 'mary saw a saw in rome\n\n  \r\npeter saw a saw in paris\n');
  ok(blank, 'predict with empty lines');
  assert.equal(blank.stdout, 'mary/B-PER saw/O a/O saw/O in/O rome/B-LOC\n\n\npeter/B-PER saw/O a/O saw/O in/O paris/B-LOC\n');
  const blankJson = run(['predict', '--model', 'ner', '--json'], '\nmary saw\n');
  ok(blankJson, 'predict --json with an empty line');
  assert.deepEqual(blankJson.stdout.trim().split('\n').map((l) => JSON.parse(l)), [null, { words: ['mary', 'saw'], labels: ['B-PER', 'O'] }]);
});

test('train classify --from BERT --lora 4 with other labels: a new head, PEFT\'s adapter (modules_to_save), merge gives the same logits', () => {
  const r = run(['train', 'classify', '--from', fx('bert-seq'), '--train', 'sent.tsv', '--out', 'sent', '--max-steps', '30', '--eval-every', '10', '--lr', '1e-2', '--batch-size', '8', '--lora', '4', '--json']);
  ok(r, 'train classify');
  assert.match(r.stderr, /qkv: the data's labels \(neg, pos\) are not the model's \(negative, neutral, positive\): a new classifier head with 2 labels is trained/);
  const s = JSON.parse(r.stdout);
  assert.equal(s.metrics.accuracy, 1);
  const adapter = JSON.parse(readFileSync(join(dir, 'sent', 'adapter_config.json'), 'utf8'));
  assert.equal(adapter.peft_type, 'LORA');
  assert.deepEqual(adapter.target_modules, ['query', 'value']);
  assert.deepEqual(adapter.modules_to_save, ['classifier']);
  const keys = [...shapes(join(dir, 'sent', 'adapter_model.safetensors'))].map(([k, sh]) => `${k} ${sh}`).sort();
  assert.deepEqual(keys, [
    'base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight 4x32', 'base_model.model.bert.encoder.layer.0.attention.self.query.lora_B.weight 32x4',
    'base_model.model.bert.encoder.layer.0.attention.self.value.lora_A.weight 4x32', 'base_model.model.bert.encoder.layer.0.attention.self.value.lora_B.weight 32x4',
    'base_model.model.bert.encoder.layer.1.attention.self.query.lora_A.weight 4x32', 'base_model.model.bert.encoder.layer.1.attention.self.query.lora_B.weight 32x4',
    'base_model.model.bert.encoder.layer.1.attention.self.value.lora_A.weight 4x32', 'base_model.model.bert.encoder.layer.1.attention.self.value.lora_B.weight 32x4',
    'base_model.model.classifier.bias 2', 'base_model.model.classifier.weight 2x32',
  ]);
  const p = run(['predict', '--model', 'sent'], 'the saw was sharp and good\nthe wood was bad, I cut it\n');
  ok(p, 'predict');
  assert.equal(p.stdout, 'pos\tthe saw was sharp and good\nneg\tthe wood was bad, I cut it\n');
  const withBlank = run(['predict', '--model', 'sent'], 'the saw was sharp and good\n\nthe wood was bad, I cut it');
  ok(withBlank, 'predict with an empty line');
  assert.equal(withBlank.stdout, 'pos\tthe saw was sharp and good\n\nneg\tthe wood was bad, I cut it\n');
  const e = run(['export', '--model', 'sent', '--merge-lora', '--out', 'sent-merged']);
  ok(e, 'export --merge-lora');
  assert.deepEqual([...shapes(join(dir, 'sent-merged', 'model.safetensors')).keys()].sort(), [...shapes(join(fx('bert-seq'), 'model.safetensors')).keys()].sort());
  const ids = tensor([[2, 10, 20, 30, 3]], { dtype: 'int32' });
  const logits = (d: string): Tensor => {
    const m = fromPretrained(join(dir, d)).model as hf.BertForSequenceClassification;
    return noGrad(() => m.forward({ inputIds: ids }).logits);
  };
  const [a, b] = [logits('sent').toTypedArray(), logits('sent-merged').toTypedArray()];
  assert.equal(a.length, 2);
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]!) < 1e-5, `${v} vs ${b[i]}`));
});

test('train lm --from GPT-2 --lora: the adapter on c_attn,c_fc (fan_in_fan_out), generate on it and on the merged model agree', () => {
  const r = run(['train', 'lm', '--from', fx('gpt2'), '--data', 'text.txt', '--out', 'lm', '--max-iters', '20', '--eval-interval', '10', '--lora', '4', '--lora-targets', 'c_attn,c_fc', '--block-size', '32', '--lr', '1e-2', '--json']);
  ok(r, 'train lm');
  const s = JSON.parse(r.stdout);
  assert.ok(s.trainable < s.parameters / 10, `${s.trainable} of ${s.parameters} trained`);
  const adapter = JSON.parse(readFileSync(join(dir, 'lm', 'adapter_config.json'), 'utf8'));
  assert.equal(adapter.fan_in_fan_out, true);
  assert.ok(shapes(join(dir, 'lm', 'adapter_model.safetensors')).has('base_model.model.transformer.h.1.mlp.c_fc.lora_B.weight'));
  ok(run(['export', '--model', 'lm', '--merge-lora', '--out', 'lm-merged']), 'export');
  const g1 = run(['generate', '--model', 'lm', '--prompt', 'I saw', '--max-new-tokens', '10', '--temperature', '0']);
  const g2 = run(['generate', '--model', 'lm-merged', '--prompt', 'I saw', '--max-new-tokens', '10', '--temperature', '0']);
  ok(g1, 'generate');
  assert.equal(g1.stdout, g2.stdout);
  assert.ok(g1.stdout.startsWith('I saw'));
});

test('train classify --from ViT --lora on PNG folders: its image processor, a new head, PEFT names of transformers 5, predict and merge agree', () => {
  for (const label of ['bright', 'dark']) {
    mkdirSync(join(dir, 'imgs', label), { recursive: true });
    for (let i = 0; i < 12; i++) {
      const data = Float32Array.from({ length: 16 * 16 * 3 }, (_, j) => (label === 'bright' ? 0.6 : 0) + 0.4 * (((j * 7 + i) % 10) / 10));
      writeFileSync(join(dir, 'imgs', label, `${i}.png`), encodePng({ width: 16, height: 16, channels: 3, data }));
    }
  }
  const r = run(['train', 'classify', '--from', fx('vit'), '--train', 'imgs', '--out', 'vit', '--max-steps', '30', '--eval-every', '10', '--lr', '1e-2', '--batch-size', '8', '--lora', '4', '--json']);
  ok(r, 'train classify (ViT)');
  assert.match(r.stderr, /a new classifier head with 2 labels/);
  assert.equal(JSON.parse(r.stdout).metrics.accuracy, 1);
  const adapter = JSON.parse(readFileSync(join(dir, 'vit', 'adapter_config.json'), 'utf8'));
  assert.deepEqual(adapter.target_modules, ['vit.layers.0.attention.q_proj', 'vit.layers.0.attention.v_proj', 'vit.layers.1.attention.q_proj', 'vit.layers.1.attention.v_proj']);
  assert.ok(shapes(join(dir, 'vit', 'adapter_model.safetensors')).has('base_model.model.vit.layers.1.attention.v_proj.lora_B.weight'));
  assert.ok(existsSync(join(dir, 'vit', 'preprocessor_config.json')));
  const p = spawnSync(process.execPath, [bin, 'predict', '--model', join(dir, 'vit'), '--json'], { encoding: 'utf8', input: 'bright/0.png\ndark/3.png\n', cwd: join(dir, 'imgs') });
  ok(p, 'predict');
  const [a, b] = p.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual([a.label, b.label], ['bright', 'dark']);
  ok(run(['export', '--model', 'vit', '--merge-lora', '--out', 'vit-merged']), 'export');
  const q = spawnSync(process.execPath, [bin, 'predict', '--model', join(dir, 'vit-merged'), '--json'], { encoding: 'utf8', input: 'bright/0.png\n', cwd: join(dir, 'imgs') });
  ok(q, 'predict merged');
  const merged = JSON.parse(q.stdout);
  assert.ok(Math.abs(merged.probabilities.bright - a.probabilities.bright) < 1e-5, `${merged.probabilities.bright} vs ${a.probabilities.bright}`);
  assert.deepEqual([...shapes(join(dir, 'vit-merged', 'model.safetensors')).keys()].sort(), [...shapes(join(fx('vit'), 'model.safetensors')).keys()].sort());
});

test('one-line errors: wrong task for the architecture, an adapter where none fits, a qkv run for --merge-lora', () => {
  failsWith(run(['train', 'lm', '--from', fx('bert-seq'), '--data', 'text.txt', '--out', 'x1']), /bert-seq\/config\.json: is a BertForSequenceClassification; qkv train lm --from needs a GPT2LMHeadModel/);
  failsWith(run(['train', 'lm', '--from', fx('gpt2'), '--data', 'text.txt', '--out', 'x2', '--lora', '2', '--lora-targets', 'query']), /--lora-targets: \["query"\] matches no module of GPT2LMHeadModel/);
  failsWith(run(['train', 'tag', '--from', join(dir, 'nowhere'), '--train', 'ner.conll', '--out', 'x3']), /nowhere: no such directory/);
  failsWith(run(['generate', '--model', fx('bert-seq'), '--prompt', 'a']), /config\.json: is a BertForSequenceClassification; generation needs a GPT2LMHeadModel/);
  failsWith(run(['export', '--model', fx('gpt2'), '--merge-lora', '--out', 'x4']), /--merge-lora: .*gpt2 has no adapter_config\.json/);
});
