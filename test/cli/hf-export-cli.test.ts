// `qkv export --model HF_DIR --onnx FILE` end to end: a BERT classifier fine-tuned with LoRA (the
// adapter merged on export) runs in ONNX Runtime with the logits qkv gives for the adapter
// directory; Whisper writes two graphs; --torch is a one-line refusal.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { fromPretrained, hf, noGrad, tensor } from '../../src/index.js';
import { fixturePath } from '../fixtures.js';
import { assertOnnxClose, int64, runOnnx } from '../io/onnx/ort.js';
import { failsWith, ok } from './expect.js';

const bin = fileURLToPath(new URL('../../cli/qkv.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'qkv-hf-export-'));
const run = (args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir });
const fx = (name: string) => fixturePath(join('hf', name));

test('export --onnx of a BERT LoRA run: the adapter merged, ONNX Runtime gives the adapter directory\'s logits', async () => {
  writeFileSync(join(dir, 'sent.tsv'), Array.from({ length: 20 }, (_, i) => (i % 2 ? 'the saw was sharp and good\tpos' : 'the wood was bad, I cut it\tneg')).join('\n') + '\n');
  ok(run(['train', 'classify', '--from', fx('bert-seq'), '--train', 'sent.tsv', '--out', 'sent', '--max-steps', '4', '--eval-every', '2', '--batch-size', '4', '--lora', '2', '--lr', '1e-2']), 'train');
  const e = run(['export', '--model', 'sent', '--onnx', 'sent.onnx', '--json']);
  ok(e, 'export --onnx');
  const j = JSON.parse(e.stdout);
  assert.equal(j.mergedAdapters, 4, 'query and value of 2 layers');
  const p = fromPretrained(join(dir, 'sent'));
  const m = p.model as hf.BertForSequenceClassification;
  const ids = [[2, 10, 20, 30, 3], [2, 11, 3, 0, 0]];
  const mask = [[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]];
  const types = ids.map((r) => r.map(() => 0));
  const want = noGrad(() => m.forward({ inputIds: tensor(ids, { dtype: 'int32' }), attentionMask: tensor(mask, { dtype: 'int32' }) }).logits).toTypedArray();
  p.model.dispose();
  const out = await runOnnx(readFileSync(join(dir, 'sent.onnx')), {
    input_ids: { data: int64(ids.flat()), dims: [2, 5] }, token_type_ids: { data: int64(types.flat()), dims: [2, 5] }, attention_mask: { data: int64(mask.flat()), dims: [2, 5] },
  });
  assert.deepEqual([...out.logits!.dims], [2, 2]);
  assertOnnxClose(out.logits!.data, want, 'ONNX Runtime vs qkv on the adapter directory');
});

test('export --onnx of Whisper writes the encoder and the decoder; --torch on HF directories is one line', () => {
  const w = run(['export', '--model', fx('whisper'), '--onnx', 'w.onnx', '--json']);
  ok(w, 'export whisper');
  assert.deepEqual(JSON.parse(w.stdout).written.map((x: { path: string }) => x.path), ['w.onnx', 'w.decoder.onnx']);
  failsWith(run(['export', '--model', fx('gpt2'), '--torch', 'x']), /--torch: .*gpt2 is a Hugging Face directory/);
});
