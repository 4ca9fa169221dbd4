// WhisperForConditionalGeneration from a save_pretrained directory (scripts/golden_hf.py):
// teacher-forced logits, encoder/decoder hidden states, self- and cross-attention maps within 1e-4
// of transformers; greedy decoding on the KV cache from the forced prefix equal to transformers';
// and Whisper's log-mel front end on a WAV file equal to WhisperFeatureExtractor's.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { data, fromPretrained, hf, noGrad, tensor, tidy, transcribeFeatures, whisperPrompt, type Tensor } from '../../../src/index.js';
import { assertGolden, goldenJson, goldenTensors, hfDir, ids, maxAbsDiff } from './golden.js';

interface WhisperGolden { decoder_input_ids: number[][]; generated: number[]; features_shape: number[] }

test('Whisper: logits, hidden states, self- and cross-attentions within 1e-4 of transformers', () => {
  const p = fromPretrained(hfDir('whisper'));
  assert.equal(p.architecture, 'WhisperForConditionalGeneration');
  const m = p.model as hf.WhisperForConditionalGeneration;
  const g = goldenJson<WhisperGolden>('whisper');
  const gold = goldenTensors('whisper');
  const worst = noGrad(() => tidy(() => {
    const out = m.forward({ inputFeatures: gold.get('input_features')!, decoderInputIds: ids(g.decoder_input_ids), outputHiddenStates: true, outputAttentions: true });
    const pairs: [string, Tensor, Tensor | undefined][] = [['logits', out.logits, gold.get('logits')]];
    for (const [name, list] of [['encoder_hidden_states', out.encoderHiddenStates], ['decoder_hidden_states', out.decoderHiddenStates],
      ['encoder_attentions', out.encoderAttentions], ['decoder_attentions', out.decoderAttentions], ['cross_attentions', out.crossAttentions]] as const) {
      assert.equal(list!.length, name.endsWith('hidden_states') ? 3 : 2, name);
      list!.forEach((t, i) => pairs.push([`${name}.${i}`, t, gold.get(`${name}.${i}`)]));
    }
    return assertGolden(pairs);
  }));
  console.log(`# Whisper max |diff| vs transformers: ${worst.toExponential(2)}`);
  m.dispose();
});

test('Whisper: greedy decoding on the KV cache from the forced prefix equals transformers', () => {
  const p = fromPretrained(hfDir('whisper'));
  const g = goldenJson<WhisperGolden>('whisper');
  const prefix = whisperPrompt(p);
  assert.deepEqual(prefix, g.generated.slice(0, 4), 'decoder_start_token_id, then the forced <|en|> <|transcribe|> <|notimestamps|>');
  const features = goldenTensors('whisper').get('input_features')!;
  const r = transcribeFeatures(p, features.toTypedArray() as Float32Array, { maxNewTokens: g.generated.length - prefix.length });
  assert.deepEqual([...prefix, ...r.ids], g.generated);
  p.model.dispose();
});

test("Whisper's log-mel front end on a WAV equals WhisperFeatureExtractor's", () => {
  const p = fromPretrained(hfDir('whisper'));
  assert.ok(p.featureExtractor);
  const wav = data.parseWav(readFileSync(join(hfDir('whisper'), 'speech.wav')), 'speech.wav');
  const { data: feats, frames } = data.whisperLogMel(data.toMono(wav), p.featureExtractor);
  const g = goldenJson<WhisperGolden>('whisper');
  assert.deepEqual([p.featureExtractor.featureSize, frames], g.features_shape);
  const first = new Float32Array(80 * 60);
  for (let m = 0; m < 80; m++) first.set(feats.subarray(m * frames, m * frames + 60), m * 60);
  const d = maxAbsDiff(tensor(first, { shape: [80, 60] }), goldenTensors('whisper').get('wav_features')!, 'log-mel');
  console.log(`# Whisper log-mel max |diff| vs transformers: ${d.toExponential(2)}`);
  assert.ok(d < 1e-4, `log-mel: ${d}`);
  p.model.dispose();
});
