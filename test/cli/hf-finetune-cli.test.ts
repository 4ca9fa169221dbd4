// `qkv train seq2seq --from WHISPER_DIR` end to end (WAV<TAB>transcript lines; full and LoRA), the
// save_pretrained / PEFT layouts it writes (the keys and shapes transformers wrote in the fixture),
// predict on the result (greedy and --beam, one line per input line), and `--resume` of
// fine-tuning runs: stopped and resumed, a run ends with the bytes of one run straight through.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { loadSafetensors } from '../../src/index.js';
import { fixturePath } from '../fixtures.js';
import { failsWith, ok } from './expect.js';

const bin = fileURLToPath(new URL('../../cli/qkv.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'qkv-hf-ft-cli-'));
const run = (args: string[], input?: string) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', input: input ?? '', cwd: dir });
const fx = (name: string) => fixturePath(join('hf', name));
const shapes = (file: string) => new Map([...loadSafetensors(file).tensors].map(([k, t]) => [k, t.shape.join('x')]));
const bytes = (file: string) => readFileSync(join(dir, file));

copyFileSync(join(fx('whisper'), 'speech.wav'), join(dir, 'a.wav'));
copyFileSync(fixturePath(join('audio', 'speech-16k.wav')), join(dir, 'b.wav'));
copyFileSync(fixturePath(join('audio', 'speech-8k.wav')), join(dir, 'c.wav')); // resampled to 16 kHz on reading
writeFileSync(join(dir, 'speech.tsv'), 'a.wav\thello\nb.wav\tworld\nc.wav\thello world\n');
writeFileSync(join(dir, 'sent.tsv'), Array.from({ length: 40 }, (_, i) => (i % 2 ? 'the saw was sharp and good\tpos' : 'the wood was bad, I cut it\tneg')).join('\n') + '\n');
const whisper = ['train', 'seq2seq', '--from', fx('whisper'), '--train', 'speech.tsv', '--dev', 'speech.tsv', '--batch-size', '2', '--lr', '1e-2', '--schedule', 'constant', '--eval-every', '2', '--json'];

test('train seq2seq --from Whisper (full): save_pretrained layout with the keys transformers wrote; predict greedy and --beam', () => {
  const r = run([...whisper, '--out', 'asr', '--max-steps', '4']);
  ok(r, 'train seq2seq --from');
  const s = JSON.parse(r.stdout);
  assert.equal(s.steps, 4);
  assert.ok(Number.isFinite(s.metrics.loss) && s.metrics.tokenAccuracy >= 0, r.stdout);
  assert.equal(s.trainable, s.parameters);
  assert.deepEqual(shapes(join(dir, 'asr', 'model.safetensors')), shapes(join(fx('whisper'), 'model.safetensors')));
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'asr', 'config.json'), 'utf8')).architectures, ['WhisperForConditionalGeneration']);
  for (const f of ['tokenizer.json', 'preprocessor_config.json', 'generation_config.json', join('last', 'optimizer.safetensors')]) assert.ok(existsSync(join(dir, 'asr', f)), f);
  const greedy = run(['predict', '--model', 'asr', '--json'], 'a.wav\n\nb.wav\n');
  ok(greedy, 'predict');
  const lines = greedy.stdout.split('\n');
  assert.equal(lines.length, 4, 'three lines in, three out (and the final newline)');
  assert.equal(lines[1], 'null');
  assert.equal(JSON.parse(lines[0]!).audio, 'a.wav');
  ok(run(['predict', '--model', 'asr', '--beam', '2'], 'a.wav\n'), 'predict --beam 2');
});

test('train seq2seq --from Whisper --lora: PEFT adapter on q_proj,v_proj; stopped at step 2 and resumed, it ends with the bytes of a straight run', () => {
  const straight = run([...whisper, '--out', 'lora-straight', '--max-steps', '4', '--lora', '4']);
  ok(straight, 'straight');
  assert.match(straight.stderr, /LoRA r=4 alpha=8 on 12 modules \(v_proj, q_proj\)/);
  const adapter = JSON.parse(readFileSync(join(dir, 'lora-straight', 'adapter_config.json'), 'utf8'));
  assert.deepEqual(adapter.target_modules, ['q_proj', 'v_proj']);
  assert.equal(adapter.fan_in_fan_out, false);
  const keys = [...shapes(join(dir, 'lora-straight', 'adapter_model.safetensors')).keys()];
  assert.equal(keys.length, 24);
  assert.ok(keys.includes('base_model.model.model.decoder.layers.1.encoder_attn.q_proj.lora_B.weight'), keys.join());
  ok(run([...whisper, '--out', 'lora-resumed', '--max-steps', '2', '--lora', '4']), 'first part');
  failsWith(run([...whisper, '--out', 'lora-resumed', '--max-steps', '4', '--lora', '4']), /--out lora-resumed already holds a run; pass --resume/);
  failsWith(run([...whisper, '--out', 'lora-resumed', '--max-steps', '4', '--lora', '8', '--resume']), /--resume: .*config\.json: was run with LoRA .*"r":4/);
  const resumed = run([...whisper, '--out', 'lora-resumed', '--max-steps', '4', '--lora', '4', '--resume']);
  ok(resumed, 'resumed');
  assert.equal(JSON.parse(resumed.stdout).steps, 4);
  for (const f of ['adapter_model.safetensors', 'last/model.safetensors', 'last/optimizer.safetensors']) {
    assert.ok(bytes(join('lora-straight', f)).equals(bytes(join('lora-resumed', f))), `${f}: the resumed run differs from the straight one`);
  }
});

test('--resume of a full BERT fine-tune with a new head continues exactly; --resume with nothing to resume is one line', () => {
  const bert = ['train', 'classify', '--from', fx('bert-seq'), '--train', 'sent.tsv', '--batch-size', '4', '--lr', '1e-2', '--schedule', 'constant', '--eval-every', '3', '--json'];
  const straight = run([...bert, '--out', 'bert-straight', '--max-steps', '9']);
  ok(straight, 'straight');
  assert.deepEqual(JSON.parse(straight.stdout).newHead, ['neg', 'pos']);
  ok(run([...bert, '--out', 'bert-resumed', '--max-steps', '3']), 'first part');
  const resumed = run([...bert, '--out', 'bert-resumed', '--max-steps', '9', '--resume']);
  ok(resumed, 'resumed');
  assert.deepEqual(JSON.parse(resumed.stdout).newHead, ['neg', 'pos'], 'the new head comes back from the checkpoint');
  for (const f of ['model.safetensors', 'config.json', 'last/model.safetensors', 'last/optimizer.safetensors']) {
    assert.ok(bytes(join('bert-straight', f)).equals(bytes(join('bert-resumed', f))), `${f}: the resumed run differs from the straight one`);
  }
  failsWith(run([...bert, '--out', 'bert-none', '--max-steps', '3', '--resume']), /--resume: .*bert-none\/last holds no checkpoint to resume from/);
  writeFileSync(join(dir, 'ner.conll'), 'mary\tB-PER\nsaw\tO\n\njohn\tB-PER\nsaw\tO\n\n'.repeat(5));
  failsWith(run(['train', 'tag', '--from', fx('bert-token'), '--train', 'ner.conll', '--out', 'bert-resumed', '--resume']), /--resume: .*config\.json: is a classify run, not tag/);
});
