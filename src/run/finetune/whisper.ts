// Whisper fine-tuning batches: speech through Whisper's own log-mel front end, transcripts
// teacher-forced from the forced decoder prefix; the dev metric is the loss.
import type { BpeTokenizer } from '../../data/tokenizers/tokenizer.js';
import { whisperLogMel } from '../../data/audio/whisper-features.js';
import { tensor } from '../../ops/creation.js';
import { tidy } from '../../tensor/engine.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { EvalResult, TrainingTask } from '../../train/trainer.js';
import { PretrainedError, type WhisperForConditionalGeneration } from '../../nn/models/hf/index.js';
import { whisperPrompt } from '../hf-use.js';
import type { Pretrained } from '../pretrained.js';
import type { FinetuneOptions, SpeechExample } from './options.js';

interface SpeechBatch { features: Tensor; ids: Tensor; labels: Tensor; n: number }

/**
 * Whisper on speech and transcripts: Whisper's log-mel front end on each example (once), the
 * decoder teacher-forced from the forced prefix (decoder_start_token_id + forced_decoder_ids):
 * input [prefix, text], targets [-100 for the forced tokens, text, eos]; the dev metric is the loss.
 */
export function whisperTask(p: Pretrained, o: FinetuneOptions, train: readonly unknown[], dev: readonly unknown[]): TrainingTask<SpeechBatch> {
  const model = p.model as WhisperForConditionalGeneration;
  const c = model.config;
  if (!p.featureExtractor) throw new PretrainedError(p.dir, 'has no preprocessor_config.json of a WhisperFeatureExtractor (how audio becomes log-mel features)');
  if (c.eosTokenId === null) throw new PretrainedError(`${p.dir}/config.json`, 'fine-tuning Whisper needs "eos_token_id" (where a transcript ends)');
  const tok = p.tokenizer as BpeTokenizer;
  const prefix = whisperPrompt(p);
  const encode = (e: unknown) => {
    const x = e as SpeechExample;
    if (!(x.audio instanceof Float32Array) || typeof x.text !== 'string') throw new PretrainedError('data', 'Whisper fine-tuning needs speech examples (a WAV path<TAB>transcript per line)');
    const { data, frames } = whisperLogMel(x.audio, p.featureExtractor!);
    if (frames !== 2 * c.maxSourcePositions) throw new PretrainedError(p.dir, `the feature extractor gives ${frames} frames, the encoder reads ${2 * c.maxSourcePositions}`);
    const text = Array.from(tok.encode(x.text));
    const ids = [...prefix, ...text];
    if (ids.length > c.maxTargetPositions) throw new PretrainedError(x.source ?? 'data', `the transcript is ${text.length} tokens; with the ${prefix.length} forced ones that is more than max_target_positions ${c.maxTargetPositions}`);
    return { features: data, ids, labels: [...prefix.slice(1).map(() => -100), ...text, c.eosTokenId!] };
  };
  const encTrain = train.map(encode);
  const encDev = dev.map(encode);
  const batchSize = o.batchSize ?? 8;
  const batch = (rows: ReturnType<typeof encode>[]): SpeechBatch => {
    const T = Math.max(...rows.map((r) => r.ids.length));
    const F = rows[0]!.features.length;
    const features = new Float32Array(rows.length * F);
    rows.forEach((r, i) => features.set(r.features, i * F));
    const pad = (xs: number[], v: number) => [...xs, ...new Array<number>(T - xs.length).fill(v)];
    return {
      features: tensor(features, { shape: [rows.length, c.numMelBins, F / c.numMelBins] }),
      ids: tensor(rows.map((r) => pad(r.ids, c.padTokenId)), { dtype: 'int32' }),
      labels: tensor(rows.map((r) => pad(r.labels, -100)), { dtype: 'int32' }),
      n: rows.reduce((s, r) => s + r.ids.length, 0),
    };
  };
  const forward = (b: SpeechBatch) => model.forward({ inputFeatures: b.features, decoderInputIds: b.ids, labels: b.labels });
  return {
    examples: encTrain.length,
    batchSize,
    nextBatch: (g) => batch(Array.from({ length: batchSize }, () => encTrain[Math.floor(g.uniform() * encTrain.length)]!)),
    batchOf: (indices) => batch(indices.map((i) => encTrain[i]!)),
    loss: (b) => forward(b).loss!,
    size: (b) => b.n,
    evaluate: (): EvalResult => {
      let total = 0;
      let right = 0;
      let count = 0;
      for (let s = 0; s < encDev.length; s += batchSize) {
        tidy(() => {
          const b = batch(encDev.slice(s, s + batchSize));
          const out = forward(b);
          const pred = out.logits.argmax(-1).toTypedArray();
          const gold = b.labels.toTypedArray();
          let n = 0;
          for (let i = 0; i < gold.length; i++) {
            if (gold[i]! < 0) continue;
            n++;
            if (pred[i] === gold[i]) right++;
          }
          total += out.loss!.item() * n;
          count += n;
        });
      }
      const loss = count ? total / count : 0;
      return { metrics: { loss, tokenAccuracy: count ? right / count : 0 }, main: 'loss', higherIsBetter: false };
    },
  };
}
