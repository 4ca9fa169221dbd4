// WhisperForConditionalGeneration from a save_pretrained directory (scripts/golden_hf.py), on
// speech.wav through Whisper's own log-mel front end: the features equal WhisperFeatureExtractor's;
// teacher-forced logits, encoder/decoder hidden states, self- and cross-attention maps within 1e-4
// of transformers (the encoder's 1500-position tensors compared on the slices the fixture keeps);
// greedy decoding on the KV cache from the forced prefix equal to transformers'; `qkv predict`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { data, fromPretrained, hf, noGrad, slice, tensor, tidy, transcribeFeatures, transcribePretrained, whisperPrompt, type Tensor } from '../../../src/index.js';
import { assertGolden, goldenJson, goldenTensors, hfDir, ids, maxAbsDiff } from './golden.js';

interface WhisperGolden { decoder_input_ids: number[][]; generated: number[]; features_shape: number[]; text: string }

const wavSamples = () => data.toMono(data.parseWav(readFileSync(join(hfDir('whisper'), 'speech.wav')), 'speech.wav'));

test("Whisper's log-mel front end on a WAV equals WhisperFeatureExtractor's", () => {
  const p = fromPretrained(hfDir('whisper'));
  assert.ok(p.featureExtractor);
  const { data: feats, frames } = data.whisperLogMel(wavSamples(), p.featureExtractor);
  assert.deepEqual([p.featureExtractor.featureSize, frames], goldenJson<WhisperGolden>('whisper').features_shape);
  const first = new Float32Array(80 * 60);
  for (let m = 0; m < 80; m++) first.set(feats.subarray(m * frames, m * frames + 60), m * 60);
  const d = maxAbsDiff(tensor(first, { shape: [80, 60] }), goldenTensors('whisper').get('wav_features')!, 'log-mel');
  console.log(`# Whisper log-mel max |diff| vs transformers: ${d.toExponential(2)}`);
  assert.ok(d < 1e-4, `log-mel: ${d}`);
  p.model.dispose();
});

test('Whisper: logits, hidden states, self- and cross-attentions within 1e-4 of transformers', () => {
  const p = fromPretrained(hfDir('whisper'));
  assert.equal(p.architecture, 'WhisperForConditionalGeneration');
  const m = p.model as hf.WhisperForConditionalGeneration;
  const g = goldenJson<WhisperGolden>('whisper');
  const gold = goldenTensors('whisper');
  const { data: feats, frames } = data.whisperLogMel(wavSamples(), p.featureExtractor!);
  const worst = noGrad(() => tidy(() => {
    const out = m.forward({ inputFeatures: tensor(feats, { shape: [1, 80, frames] }), decoderInputIds: ids(g.decoder_input_ids), outputHiddenStates: true, outputAttentions: true });
    const pairs: [string, Tensor, Tensor | undefined][] = [['logits', out.logits, gold.get('logits')]];
    out.encoderHiddenStates!.forEach((t, i) => pairs.push([`encoder_hidden_states.${i}`, slice(t, 1, 0, 64), gold.get(`encoder_hidden_states.${i}`)]));
    out.decoderHiddenStates!.forEach((t, i) => pairs.push([`decoder_hidden_states.${i}`, t, gold.get(`decoder_hidden_states.${i}`)]));
    out.encoderAttentions!.forEach((t, i) => pairs.push([`encoder_attentions.${i}`, slice(slice(t, 2, 0, 8), 3, 0, 64), gold.get(`encoder_attentions.${i}`)]));
    out.decoderAttentions!.forEach((t, i) => pairs.push([`decoder_attentions.${i}`, t, gold.get(`decoder_attentions.${i}`)]));
    out.crossAttentions!.forEach((t, i) => pairs.push([`cross_attentions.${i}`, slice(t, 3, 0, 128), gold.get(`cross_attentions.${i}`)]));
    assert.equal(pairs.length, 1 + 3 + 3 + 2 + 2 + 2);
    return assertGolden(pairs);
  }));
  console.log(`# Whisper max |diff| vs transformers: ${worst.toExponential(2)}`);
  m.dispose();
});

test('Whisper: greedy decoding on the KV cache from the forced prefix equals transformers; qkv predict transcribes the WAV', () => {
  const p = fromPretrained(hfDir('whisper'));
  const g = goldenJson<WhisperGolden>('whisper');
  const prefix = whisperPrompt(p);
  assert.deepEqual(prefix, g.generated.slice(0, 4), 'decoder_start_token_id, then the forced <|en|> <|transcribe|> <|notimestamps|>');
  const r = transcribePretrained(p, wavSamples(), { maxNewTokens: g.generated.length - prefix.length });
  assert.deepEqual([...prefix, ...r.ids], g.generated);
  assert.equal(r.text, g.text);
  const { data: feats } = data.whisperLogMel(wavSamples(), p.featureExtractor!);
  assert.deepEqual(transcribeFeatures(p, feats, { maxNewTokens: 3 }).ids, r.ids.slice(0, 3));
  p.model.dispose();
  const bin = fileURLToPath(new URL('../../../cli/qkv.js', import.meta.url));
  const cli = spawnSync(process.execPath, [bin, 'predict', '--model', '.', '--json'], { encoding: 'utf8', input: 'speech.wav\n', cwd: hfDir('whisper') });
  assert.equal(cli.status, 0, cli.stderr);
  const j = JSON.parse(cli.stdout);
  assert.equal(j.audio, 'speech.wav');
  assert.deepEqual(j.ids.slice(0, 4), r.ids.slice(0, 4));
});

test('Whisper: beam search of width 1 equals greedy; width 3 returns a hypothesis within maxNewTokens', () => {
  const p = fromPretrained(hfDir('whisper'));
  const { data: feats } = data.whisperLogMel(wavSamples(), p.featureExtractor!);
  const greedy = transcribeFeatures(p, feats, { maxNewTokens: 6 });
  assert.deepEqual(transcribeFeatures(p, feats, { maxNewTokens: 6, beam: 1 }).ids, greedy.ids);
  const beam = transcribeFeatures(p, feats, { maxNewTokens: 6, beam: 3 });
  assert.ok(beam.ids.length > 0 && beam.ids.length <= 6);
  p.model.dispose();
});
