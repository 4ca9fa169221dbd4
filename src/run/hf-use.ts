// Using a loaded Hugging Face model on text: GPT-2 continues a prompt (sampling or greedy, on the
// KV cache), BERT labels each word (token classification: the label of its first WordPiece) or
// the whole text (sequence classification, with the softmax over the labels).
import { Generator } from '../core/rng.js';
import type { BpeTokenizer } from '../data/tokenizers/tokenizer.js';
import type { WordPieceTokenizer } from '../data/tokenizers/wordpiece.js';
import { tensor } from '../ops/creation.js';
import { logSoftmax, softmax } from '../ops/index.js';
import { noGrad, tidy } from '../tensor/engine.js';
import { readLater, readNow, type Reading } from '../ops/reads.js';
import { beamSearch, sampleNext } from '../decode/index.js';
import { expand } from '../ops/views.js';
import { BertForSequenceClassification, BertForTokenClassification, GPT2LMHeadModel, PretrainedError, ViTForImageClassification, WhisperForConditionalGeneration } from '../nn/models/hf/index.js';
import { whisperLogMel } from '../data/audio/whisper-features.js';
import type { ImageInput } from '../data/image/pixels.js';
import type { Pretrained } from './pretrained.js';
import { resolve as resolvePath } from 'node:path';
import { readBinaryFile } from '../data/files.js';
import { imageFile } from '../data/image/decode.js';
import { parseWav, toMono } from '../data/audio/wav.js';
import { resample } from '../data/audio/resample.js';
import { inspectHf } from '../inspect/hf.js';
import type { ModelInspection } from '../inspect/wire.js';

export interface HfGenerateOptions {
  maxNewTokens?: number;
  /** 0: greedy */
  temperature?: number;
  topK?: number;
  topP?: number;
  generator?: Generator;
  /** Stop at the end-of-text token (eos_token_id). Default true. */
  stopAtEos?: boolean;
}

function need<T>(p: Pretrained, cls: abstract new (...a: never[]) => T, what: string): T {
  if (!(p.model instanceof cls)) throw new PretrainedError(`${p.dir}/config.json`, `is a ${p.architecture}; ${what}`);
  if (!p.tokenizer) throw new PretrainedError(p.dir, 'has no tokenizer.json');
  return p.model as T;
}

/** GPT-2: the continuation of `prompt` (text), token by token on the KV cache (host backends). */
export function generatePretrained(p: Pretrained, prompt: string, o: HfGenerateOptions = {}): { text: string; ids: number[] } {
  return readNow(generatingPretrained(p, prompt, o));
}

/** generatePretrained on any backend: a GPU's logits are awaited at each step. */
export function generatePretrainedAsync(p: Pretrained, prompt: string, o: HfGenerateOptions = {}): Promise<{ text: string; ids: number[] }> {
  return readLater(generatingPretrained(p, prompt, o));
}

function* generatingPretrained(p: Pretrained, prompt: string, o: HfGenerateOptions): Reading<{ text: string; ids: number[] }> {
  const model = need(p, GPT2LMHeadModel, 'generation needs a GPT2LMHeadModel');
  const tok = p.tokenizer as BpeTokenizer;
  const eos = model.config.eosTokenId;
  let context = Array.from(tok.encode(prompt));
  if (!context.length) {
    if (eos === null) throw new PretrainedError(p.dir, 'an empty prompt needs a bos/eos token to start from (config.json has no eos_token_id)');
    context = [model.config.bosTokenId ?? eos];
  }
  const max = o.maxNewTokens ?? 50;
  if (context.length + max > model.config.nPositions) {
    throw new PretrainedError('--max-new-tokens', `the prompt (${context.length} tokens) and ${max} new tokens exceed n_positions ${model.config.nPositions}`);
  }
  const g = o.generator ?? new Generator(0);
  const out: number[] = [];
  const caches = model.makeCaches(1);
  model.eval();
  try {
    let next = context;
    for (let i = 0; i < max; i++) {
      const logits = (yield noGrad(() => tidy(() => {
        const l = model.forward(tensor([next], { dtype: 'int32' }), { caches }).logits; // (1, T, vocab)
        return l.select(1, l.shape[1]! - 1).select(0, 0);
      }))) as Float32Array;
      const id = sampleNext(logits, { temperature: o.temperature ?? 0, topK: o.topK, topP: o.topP, generator: g });
      if (id === eos && o.stopAtEos !== false) break;
      out.push(id);
      next = [id];
    }
  } finally {
    caches.forEach((c) => c.dispose());
  }
  return { text: tok.decode(out), ids: out };
}

/**
 * The decoder's first ids: decoder_start_token_id, then generation_config.json's forced_decoder_ids
 * in position order (Whisper's language, task and no-timestamps tokens).
 */
export function whisperPrompt(p: Pretrained): number[] {
  const model = p.model as WhisperForConditionalGeneration;
  const ids = [model.config.decoderStartTokenId];
  const forced = (p.generationConfig?.forced_decoder_ids ?? []) as [number, number][];
  if (!Array.isArray(forced) || !forced.every((f) => Array.isArray(f) && f.length === 2 && f.every(Number.isInteger))) {
    throw new PretrainedError(`${p.dir}/generation_config.json`, '"forced_decoder_ids" must be a list of [position, id] pairs');
  }
  for (const [pos, id] of [...forced].sort((a, b) => a[0] - b[0])) {
    if (pos !== ids.length) throw new PretrainedError(`${p.dir}/generation_config.json`, `forced_decoder_ids skip position ${ids.length} (qkv forces a prefix)`);
    ids.push(id);
  }
  return ids;
}

/**
 * Whisper: features (mel bins × 2·max_source_positions) -> greedy decoding on the KV cache from
 * the forced prefix until end of text; the ids after the prefix and their text.
 */
export function transcribeFeatures(p: Pretrained, features: Float32Array, o: { maxNewTokens?: number; beam?: number } = {}): { ids: number[]; text: string } {
  const model = need(p, WhisperForConditionalGeneration, 'transcription needs a WhisperForConditionalGeneration');
  const c = model.config;
  const prefix = whisperPrompt(p);
  const max = Math.min(o.maxNewTokens ?? c.maxTargetPositions, c.maxTargetPositions - prefix.length);
  if ((o.beam ?? 1) > 1) return beamTranscribe(p, model, features, prefix, max, o.beam!);
  const caches = model.makeCaches(1);
  const out: number[] = [];
  model.eval();
  try {
    noGrad(() => {
      const memory = model.encode(tensor(features, { shape: [1, c.numMelBins, features.length / c.numMelBins] }));
      let next = prefix;
      for (let i = 0; i < max; i++) {
        const id = tidy(() => {
          const l = model.decode(tensor([next], { dtype: 'int32' }), memory, { caches }); // (1, T, vocab)
          return l.select(1, l.shape[1]! - 1).argmax(-1).toTypedArray()[0]!;
        });
        if (id === c.eosTokenId) break;
        out.push(id);
        next = [id];
      }
      memory.dispose();
    });
  } finally {
    caches.forEach((x) => x.dispose());
  }
  return { ids: out, text: (p.tokenizer as BpeTokenizer).decode(out, { skipSpecials: true }) };
}

/**
 * Beam search on the KV cache: the search asks for the next-token scores of every live prefix;
 * each is one token longer than a prefix of the call before, so the caches' rows are reordered to
 * their parents (KVCache.reorder) and only the new tokens go through the decoder. The forced
 * prefix stands in for the search's single bos (its first call runs the whole prefix).
 */
function beamTranscribe(p: Pretrained, model: WhisperForConditionalGeneration, features: Float32Array, prefix: number[], max: number, beam: number): { ids: number[]; text: string } {
  const c = model.config;
  if (c.eosTokenId === null) throw new PretrainedError(`${p.dir}/config.json`, 'beam search needs "eos_token_id"');
  model.eval();
  return noGrad(() => {
    const memory = model.encode(tensor(features, { shape: [1, c.numMelBins, features.length / c.numMelBins] })); // (1, S, d)
    const caches = model.makeCaches(1);
    let rows: string[] = []; // the prefixes the caches hold, by row
    try {
      const step = (prefixes: number[][]): Float32Array[] => tidy(() => {
        let input: number[][];
        if (!rows.length) input = [prefix]; // the first call: one prefix, [bos]
        else {
          const row = new Map(rows.map((r, i) => [r, i]));
          const parents = prefixes.map((q) => row.get(q.slice(0, -1).join()));
          if (parents.some((i) => i === undefined)) throw new PretrainedError('--beam', 'a hypothesis does not extend one of the last step (internal)');
          caches.forEach((x) => x.reorder(parents as number[]));
          input = prefixes.map((q) => [q[q.length - 1]!]);
        }
        rows = prefixes.map((q) => q.join());
        const m = expand(memory, [input.length, memory.shape[1]!, memory.shape[2]!]);
        const logits = model.decode(tensor(input, { dtype: 'int32' }), m, { caches }); // (n, T, vocab)
        const last = logSoftmax(logits.select(1, logits.shape[1]! - 1), -1).toTypedArray() as Float32Array;
        const V = c.vocabSize;
        return input.map((_, i) => last.slice(i * V, (i + 1) * V));
      });
      const best = beamSearch(step, { bos: prefix[0]!, eos: c.eosTokenId!, maxLen: max, beamSize: beam })[0]!;
      return { ids: best.tokens, text: (p.tokenizer as BpeTokenizer).decode(best.tokens, { skipSpecials: true }) };
    } finally {
      memory.dispose();
      caches.forEach((x) => x.dispose());
    }
  });
}

/** Whisper on samples (mono, at the feature extractor's rate): its log-mel front end, then transcribeFeatures. */
export function transcribePretrained(p: Pretrained, samples: Float32Array, o: { maxNewTokens?: number; beam?: number } = {}): { ids: number[]; text: string } {
  if (!p.featureExtractor) throw new PretrainedError(p.dir, 'has no preprocessor_config.json of a WhisperFeatureExtractor');
  const { data, frames } = whisperLogMel(samples, p.featureExtractor);
  const model = need(p, WhisperForConditionalGeneration, 'transcription needs a WhisperForConditionalGeneration');
  if (frames !== 2 * model.config.maxSourcePositions) throw new PretrainedError(p.dir, `the feature extractor gives ${frames} frames, the encoder reads ${2 * model.config.maxSourcePositions}`);
  return transcribeFeatures(p, data, o);
}

/** BertForTokenClassification: a label per whitespace-separated word (its first WordPiece's). */
export function tagWordsPretrained(p: Pretrained, words: readonly string[]): string[] {
  const model = need(p, BertForTokenClassification, 'labelling words needs a BertForTokenClassification');
  const tok = p.tokenizer as WordPieceTokenizer;
  const pieces = words.map((w) => tok.encodeText(w).ids);
  const enc = tok.encode(''); // [CLS] [SEP] around the pieces, as the template says
  const firstSpecial = enc.ids.length ? [enc.ids[0]!] : [];
  const lastSpecial = enc.ids.length > 1 ? [enc.ids[enc.ids.length - 1]!] : [];
  const ids = [...firstSpecial];
  const first: number[] = [];
  for (const ps of pieces) {
    first.push(ids.length);
    ids.push(...(ps.length ? ps : [tok.id(tok.unkToken)!]));
  }
  ids.push(...lastSpecial);
  if (ids.length > model.config.maxPositionEmbeddings) throw new PretrainedError('input', `${ids.length} WordPiece tokens exceed max_position_embeddings ${model.config.maxPositionEmbeddings}`);
  model.eval();
  const pred = noGrad(() => tidy(() => model.forward({ inputIds: tensor([ids], { dtype: 'int32' }) }).logits.argmax(-1).toTypedArray()));
  return first.map((i) => model.config.labels[pred[i]!]!);
}

/** ViTForImageClassification: the label of an image (through the model's image processor) and each label's probability. */
export function classifyImagePretrained(p: Pretrained, image: ImageInput): { label: string; probabilities: Record<string, number> } {
  if (!(p.model instanceof ViTForImageClassification)) throw new PretrainedError(`${p.dir}/config.json`, `is a ${p.architecture}; classifying images needs a ViTForImageClassification`);
  const model = p.model;
  model.eval();
  const probs = noGrad(() => tidy(() => softmax(model.forward({ pixelValues: tensor(image.data, { shape: [1, image.channels, image.height, image.width] }) }).logits, -1).toTypedArray()));
  return labelled(model.config.labels, probs);
}

function labelled(labels: string[], probs: ArrayLike<number>): { label: string; probabilities: Record<string, number> } {
  let best = 0;
  for (let i = 1; i < probs.length; i++) if (probs[i]! > probs[best]!) best = i;
  return { label: labels[best]!, probabilities: Object.fromEntries(labels.map((l, i) => [l, Number(probs[i]!.toFixed(6))])) };
}

/** BertForSequenceClassification: the label of a text and the probability of each label. */
export function classifyTextPretrained(p: Pretrained, text: string, pair?: string): { label: string; probabilities: Record<string, number> } {
  const model = need(p, BertForSequenceClassification, 'classifying texts needs a BertForSequenceClassification');
  const enc = (p.tokenizer as WordPieceTokenizer).encode(text, pair);
  if (enc.ids.length > model.config.maxPositionEmbeddings) throw new PretrainedError('input', `${enc.ids.length} WordPiece tokens exceed max_position_embeddings ${model.config.maxPositionEmbeddings}`);
  model.eval();
  const probs = noGrad(() => tidy(() => softmax(model.forward({ inputIds: tensor([enc.ids], { dtype: 'int32' }), tokenTypeIds: tensor([enc.typeIds], { dtype: 'int32' }) }).logits, -1).toTypedArray()));
  return labelled(model.config.labels, probs);
}

/**
 * The visualizer's view of a Hugging Face model on one input (what `qkv viz --model DIR` shows):
 * GPT-2 a prompt (and its greedy continuation as the prediction), BERT a text (token classification:
 * the label of each WordPiece; sequence classification: text<TAB>pair), ViT an image path, Whisper a
 * WAV path (the greedy transcription, teacher-forced after the forced prefix). Paths are relative to `cwd`.
 */
export function inspectPretrained(p: Pretrained, text: string, o: { maxNewTokens?: number; cwd?: string } = {}): ModelInspection {
  const m = p.model;
  const path = (f: string) => resolvePath(o.cwd ?? '.', f.trim());
  if (m instanceof GPT2LMHeadModel) {
    if (!p.tokenizer) throw new PretrainedError(p.dir, 'has no tokenizer.json');
    const tok = p.tokenizer as BpeTokenizer;
    let ids = Array.from(tok.encode(text));
    if (!ids.length) ids = [m.config.bosTokenId ?? m.config.eosTokenId ?? 0];
    if (ids.length > m.config.nPositions) throw new PretrainedError('input', `${ids.length} tokens exceed n_positions ${m.config.nPositions}`);
    const prediction = generatePretrained(p, text, { maxNewTokens: Math.min(o.maxNewTokens ?? 8, m.config.nPositions - ids.length), temperature: 0 }).text;
    return inspectHf(m, { kind: 'ids', ids, tokens: ids.map((id) => tok.decode([id])) }, prediction);
  }
  if (m instanceof BertForTokenClassification || m instanceof BertForSequenceClassification) {
    if (!p.tokenizer) throw new PretrainedError(p.dir, 'has no tokenizer.json');
    const tok = p.tokenizer as WordPieceTokenizer;
    const [a, b] = text.split('\t');
    if (!a!.trim()) throw new PretrainedError('input', 'the input is empty: type at least one word');
    const enc = tok.encode(a!, b);
    if (enc.ids.length > m.config.maxPositionEmbeddings) throw new PretrainedError('input', `${enc.ids.length} WordPiece tokens exceed max_position_embeddings ${m.config.maxPositionEmbeddings}`);
    const prediction = m instanceof BertForSequenceClassification ? classifyTextPretrained(p, a!, b).label
      : noGrad(() => tidy(() => Array.from(m.forward({ inputIds: tensor([enc.ids], { dtype: 'int32' }), tokenTypeIds: tensor([enc.typeIds], { dtype: 'int32' }) }).logits.argmax(-1).toTypedArray(), (i) => m.config.labels[i]!)));
    return inspectHf(m, { kind: 'ids', ids: enc.ids, typeIds: enc.typeIds, tokens: enc.tokens }, prediction);
  }
  if (m instanceof ViTForImageClassification) {
    if (!p.imageProcessor) throw new PretrainedError(p.dir, 'has no preprocessor_config.json (how images become pixel values)');
    const image = imageFile(path(text), p.imageProcessor);
    return inspectHf(m, { kind: 'pixels', pixels: image.data }, classifyImagePretrained(p, image).label);
  }
  if (!p.featureExtractor) throw new PretrainedError(p.dir, 'has no preprocessor_config.json of a WhisperFeatureExtractor');
  const file = path(text);
  const wav = parseWav(readBinaryFile(file), file);
  const samples = resample(toMono(wav), wav.sampleRate, p.featureExtractor.samplingRate);
  const { data, frames } = whisperLogMel(samples, p.featureExtractor);
  const r = transcribeFeatures(p, data, { maxNewTokens: o.maxNewTokens });
  const tok = p.tokenizer as BpeTokenizer;
  const decoderIds = [...whisperPrompt(p), ...r.ids];
  const sourcePositions = Math.max(1, Math.ceil(samples.length / p.featureExtractor.hopLength / 2));
  return inspectHf(m, { kind: 'speech', features: data, frames, decoderIds, decoderTokens: decoderIds.map((id) => tok.decode([id])), sourcePositions }, r.text);
}
