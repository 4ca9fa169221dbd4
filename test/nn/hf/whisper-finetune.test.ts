// Whisper fine-tuned by qkv, read back by the real libraries (scripts/hf-qkv-whisper.mjs trained
// the fixtures, scripts/check_hf_whisper.py loaded them in transformers / peft): the full fine-tune
// (save_pretrained layout) gives transformers' logits, the LoRA adapter (PEFT layout) peft's, and
// qkv's beam search on the KV cache returns the ids of transformers' generate(num_beams=3).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { data, fromPretrained, hf, noGrad, tensor, transcribeFeatures, whisperPrompt } from '../../../src/index.js';
import { repoRoot } from '../../fixtures.js';
import { assertGolden, goldenTensors, hfDir } from './golden.js';

interface Beam { num_beams: number; max_new_tokens: number; prefix: number[]; wavs: string[]; ids: number[][] }

const beamGolden = JSON.parse(readFileSync(join(hfDir('whisper-ft-qkv'), 'beam.json'), 'utf8')) as Beam;
/** Each fixture WAV through Whisper's log-mel front end: (mel bins × 3000) values. */
const features = (p: ReturnType<typeof fromPretrained>) => beamGolden.wavs.map((w) => {
  const file = join(repoRoot(), w);
  return data.whisperLogMel(data.toMono(data.parseWav(readFileSync(file), file)), p.featureExtractor!).data;
});

function logitsOf(p: ReturnType<typeof fromPretrained>, golden: Map<string, import('../../../src/index.js').Tensor>) {
  const m = p.model as hf.WhisperForConditionalGeneration;
  const f = features(p);
  const x = new Float32Array(f.length * f[0]!.length);
  f.forEach((v, i) => x.set(v, i * v.length));
  const ids = tensor(Array.from(golden.get('decoder_ids')!.toTypedArray(), Math.round), { shape: [...golden.get('decoder_ids')!.shape], dtype: 'int32' });
  return noGrad(() => m.forward({ inputFeatures: tensor(x, { shape: [f.length, 80, 3000] }), decoderInputIds: ids }).logits);
}

test("qkv's full Whisper fine-tune (save_pretrained layout) gives transformers' logits", () => {
  const p = fromPretrained(hfDir('whisper-ft-qkv'));
  const gold = goldenTensors('whisper-ft-qkv', 'transformers.safetensors');
  const d = assertGolden([['logits', logitsOf(p, gold), gold.get('logits')]]);
  console.log(`# whisper-ft-qkv: max |qkv - transformers| ${d.toExponential(2)}`);
  p.model.dispose();
});

test("qkv's Whisper LoRA adapter (PEFT layout) gives peft's logits", () => {
  const p = fromPretrained(hfDir('whisper-lora-qkv'), { base: hfDir('whisper') });
  assert.deepEqual(p.adapter?.targets, ['q_proj', 'v_proj']);
  const gold = goldenTensors('whisper-lora-qkv', 'peft.safetensors');
  const d = assertGolden([['logits', logitsOf(p, gold), gold.get('logits')]]);
  console.log(`# whisper-lora-qkv: max |qkv - peft| ${d.toExponential(2)}`);
  p.model.dispose();
});

test("beam search on the KV cache returns transformers' generate(num_beams=3) ids; width 1 is greedy", () => {
  const p = fromPretrained(hfDir('whisper-ft-qkv'));
  const eos = (p.model as hf.WhisperForConditionalGeneration).config.eosTokenId!;
  assert.deepEqual(whisperPrompt(p), beamGolden.prefix);
  features(p).forEach((f, i) => {
    const r = transcribeFeatures(p, f, { beam: beamGolden.num_beams, maxNewTokens: beamGolden.max_new_tokens });
    const gold = beamGolden.ids[i]!;
    const ended = gold[gold.length - 1] === eos;
    assert.deepEqual([...beamGolden.prefix, ...r.ids, ...(ended ? [eos] : [])], gold, beamGolden.wavs[i]);
    assert.deepEqual(transcribeFeatures(p, f, { beam: 1, maxNewTokens: 8 }).ids, transcribeFeatures(p, f, { maxNewTokens: 8 }).ids);
  });
  p.model.dispose();
});
