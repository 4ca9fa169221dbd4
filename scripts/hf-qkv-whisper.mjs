// Fine-tunes the tiny Whisper fixture with qkv (full, and LoRA r 4 on q_proj,v_proj) on two
// WAV<TAB>transcript pairs and keeps what the runs save, in the save_pretrained and PEFT layouts:
// test/fixtures/hf/whisper-ft-qkv/ and test/fixtures/hf/whisper-lora-qkv/. Then
// `/work/venv/bin/python scripts/check_hf_whisper.py` loads both with transformers / peft and
// writes the logits they give and transformers' beam search on the fine-tuned model, which
// test/nn/hf/whisper-finetune.test.ts compares with qkv's.
// Run after `npm run build`:  node scripts/hf-qkv-whisper.mjs
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { data, finetunePretrained } from '../dist/src/index.js';

const root = new URL('..', import.meta.url).pathname;
const fx = (name) => join(root, 'test/fixtures/hf', name);
const wav = (file) => data.toMono(data.parseWav(readFileSync(file), file));
const examples = [{ audio: wav(join(fx('whisper'), 'speech.wav')), text: 'hello' }, { audio: wav(join(root, 'test/fixtures/audio/speech-16k.wav')), text: 'world' }];
const trainer = { maxSteps: 12, evalEvery: 12, lr: 1e-2, schedule: 'constant', seed: 0 };
for (const [name, lora] of [['whisper-ft-qkv', null], ['whisper-lora-qkv', { r: 4, alpha: 8, dropout: 0, targets: ['q_proj', 'v_proj'] }]]) {
  const tmp = mkdtempSync(join(tmpdir(), 'qkv-whisper-'));
  const r = await finetunePretrained({ from: fx('whisper'), task: 'seq2seq', train: examples, dev: examples, out: tmp, lora, trainer, batchSize: 2 });
  console.log(name, r.steps, 'steps', r.metrics);
  const keep = lora ? ['adapter_config.json', 'adapter_model.safetensors'] : ['config.json', 'model.safetensors', 'tokenizer.json', 'preprocessor_config.json', 'generation_config.json'];
  rmSync(fx(name), { recursive: true, force: true });
  mkdirSync(fx(name), { recursive: true });
  for (const f of keep) {
    copyFileSync(join(tmp, f), join(fx(name), f));
  }
  if (lora) { // the base as a path relative to the repository root (the run wrote the absolute --from)
    const c = JSON.parse(readFileSync(join(fx(name), 'adapter_config.json'), 'utf8'));
    writeFileSync(join(fx(name), 'adapter_config.json'), JSON.stringify({ ...c, base_model_name_or_path: 'test/fixtures/hf/whisper' }, null, 2) + '\n');
  }
  rmSync(tmp, { recursive: true, force: true });
}
