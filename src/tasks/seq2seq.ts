// `seq2seq`: a sequence in, a new sequence out whose length the model decides (lecture §2),
// with the Transformer's encoder and decoder (lecture §6): reversing, sorting or copying
// strings, transliteration, translation. Trained with teacher forcing; outputs are decoded
// greedily (or with beam search) token by token with key/value caches. Metrics: exact match
// (the main one), teacher-forced token accuracy, BLEU and chrF.
import { defaultGenerator, type Generator } from '../core/rng.js';
import { QkvError } from '../core/errors.js';
import type { PairExample } from '../data/types.js';
import { Vocab, type VocabJSON } from '../data/vocab.js';
import { tensor } from '../ops/creation.js';
import { crossEntropy } from '../ops/loss.js';
import { argmax } from '../ops/reduce.js';
import { noGrad, tidy } from '../tensor/engine.js';
import type { Tensor } from '../tensor/tensor.js';
import type { EvalResult, TrainingTask } from '../train/trainer.js';
import { onDevice, type TaskDriver, type TaskFile, type TaskInstance } from './driver.js';
import { readLater, readNow, type Reading } from '../ops/reads.js';
import { BpeVocab, SEQ2SEQ_SPECIALS, tokenizerFiles, tokenizerFromFiles, trainTaskTokenizer, type TokenVocab } from '../data/tokenizers/subword.js';
import { corpusBleu, corpusChrF } from '../metrics/index.js';
import { beamDecoding, greedyBatching, padIds, type GenerationIds } from './seq2seq-decode.js';
import { DEFAULT_SEQ2SEQ_MODEL, Seq2SeqModel, type Seq2SeqModelConfig } from '../nn/models/seq2seq.js';

/** 'bpe': one byte-level BPE tokenizer for both sides (trained on sources and targets), over the characters of the text. */
export type Tokenize = 'chars' | 'words' | 'bpe';

/** A side's vocabulary in config.json; BPE's tokens are in the checkpoint's tokenizer.json. */
export type Seq2SeqVocabJSON = VocabJSON | { kind: 'bpe'; size: number };

export interface Seq2SeqConfig {
  task: 'seq2seq';
  source: Seq2SeqVocabJSON;
  target: Seq2SeqVocabJSON;
  /** How text was split into tokens (and how outputs are joined back): characters, words, or BPE pieces of the characters. */
  tokenize: Tokenize;
  model: Seq2SeqModelConfig;
  [k: string]: unknown;
}

export interface Seq2SeqInstance extends TaskInstance {
  config: Seq2SeqConfig;
  model: Seq2SeqModel;
  source: TokenVocab;
  target: TokenVocab;
}

/** What predict reads: the source tokens. */
export interface Seq2SeqInput {
  source: string[];
}

export interface Seq2SeqOptions {
  model?: Partial<Seq2SeqModelConfig>;
  tokenize?: Tokenize;
  /** BPE vocabulary size (tokenize 'bpe'). */
  vocabSize?: number;
  batchSize?: number;
  labelSmoothing?: number;
  /** Length-bucketed batches (pairs of similar source + target length together, less padding; default false: uniform ones). */
  bucket?: boolean;
  generator?: Generator;
  /** Decoding: beam size (1 or absent: greedy), and the most tokens per output (default 2·|source| + 10). */
  beam?: number;
  maxLen?: number;
}

/** A padded teacher-forcing batch: decoder input <bos> + target, labels target + <eos> (-100 on padding). */
export interface Seq2SeqBatch {
  src: Tensor;
  srcPad: Tensor;
  tgtIn: Tensor;
  tgtPad: Tensor;
  labels: Tensor;
  /** Target tokens (labels) in the batch. */
  tokens: number;
}

export function seq2seqBatch(m: Seq2SeqInstance, examples: readonly PairExample[]): Seq2SeqBatch {
  const { ids: src, pad: srcPad } = padIds(examples.map((e) => m.source.encode(e.source)));
  const { ids: tgtIn, pad: tgtPad } = padIds(examples.map((e) => m.target.encode(e.target, { bos: true })));
  const T = tgtIn.shape[1]!;
  const y = new Int32Array(examples.length * T).fill(-100);
  examples.forEach((e, b) => y.set(m.target.encode(e.target, { eos: true }), b * T));
  return { src, srcPad, tgtIn, tgtPad, labels: tensor(y, { shape: [examples.length, T] }), tokens: examples.reduce((a, e) => a + e.target.length + 1, 0) };
}

/** Teacher-forced logits (B, T, V) of a batch. */
export function seq2seqLogits(m: Seq2SeqInstance, b: Seq2SeqBatch): Tensor {
  return m.model.forward(b.src, b.srcPad, b.tgtIn, b.tgtPad);
}

/** What greedy and beam decoding start and stop on, and never emit. */
export function generationIds(m: Seq2SeqInstance): GenerationIds {
  return { bos: m.target.bos, eos: m.target.eos, banned: [m.target.pad, m.target.bos] };
}

/** Output tokens for each source: greedy in batches, or beam search (`beam` > 1) one source at a time. */
export function translate(m: Seq2SeqInstance, inputs: readonly Seq2SeqInput[], options: TranslateOptions = {}): string[][] {
  return readNow(translating(m, inputs, options));
}

/** translate on any backend (a GPU's log-probabilities are awaited at each step). */
export function translateAsync(m: Seq2SeqInstance, inputs: readonly Seq2SeqInput[], options: TranslateOptions = {}): Promise<string[][]> {
  return readLater(translating(m, inputs, options));
}

export interface TranslateOptions { beam?: number; maxLen?: number; batchSize?: number }

function* translating(m: Seq2SeqInstance, inputs: readonly Seq2SeqInput[], options: TranslateOptions): Reading<string[][]> {
  const beam = Number(options.beam ?? 1);
  if (!Number.isInteger(beam) || beam < 1) throw new QkvError(`seq2seq: beam must be an integer >= 1, got ${String(options.beam)}`);
  const limit = (n: number) => (options.maxLen !== undefined ? Number(options.maxLen) : 2 * n + 10);
  const ids = generationIds(m);
  const sources = inputs.map((x) => m.source.encode(x.source));
  const out: number[][] = new Array(inputs.length);
  if (beam > 1) for (const [i, s] of sources.entries()) out[i] = yield* beamDecoding(m.model, s, limit(s.length), beam, ids);
  else {
    // similar lengths together: less padding
    const order = sources.map((_, i) => i).sort((a, b) => sources[a]!.length - sources[b]!.length);
    const size = options.batchSize ?? 128;
    for (let i = 0; i < order.length; i += size) {
      const chunk = order.slice(i, i + size);
      const res = yield* greedyBatching(m.model, chunk.map((j) => sources[j]!), chunk.map((j) => limit(sources[j]!.length)), ids);
      chunk.forEach((j, k) => { out[j] = res[k]!; });
    }
  }
  return out.map((o) => m.target.decode(o));
}

/** Teacher-forced token accuracy and mean cross-entropy per target token (<eos> included). */
function* teacherForced(m: Seq2SeqInstance, examples: readonly PairExample[], batchSize = 64): Reading<{ tokenAccuracy: number; loss: number }> {
  let correct = 0;
  let total = 0;
  let loss = 0;
  for (let i = 0; i < examples.length; i += batchSize) {
    const r = tidy(() => noGrad(() => {
      const b = seq2seqBatch(m, examples.slice(i, i + batchSize));
      const logits = seq2seqLogits(m, b);
      return { pred: argmax(logits, -1), labels: b.labels, loss: crossEntropy(logits, b.labels, { reduction: 'sum' }) };
    }));
    try {
      const pred = yield r.pred;
      const y = yield r.labels;
      y.forEach((t, k) => { if (t !== -100) { total++; if (pred[k] === t) correct++; } });
      loss += (yield r.loss)[0]!;
    } finally {
      for (const t of [r.pred, r.labels, r.loss]) t.dispose();
    }
  }
  return { tokenAccuracy: total ? correct / total : 0, loss: total ? loss / total : 0 };
}

/** Exact match, token accuracy, BLEU and chrF (both 0-100, as sacreBLEU) of outputs against the targets. */
export function seq2seqMetrics(m: Seq2SeqInstance, examples: readonly PairExample[], outputs: string[][]): Record<string, number> {
  return readNow(metricsOf(m, examples, outputs));
}

function* metricsOf(m: Seq2SeqInstance, examples: readonly PairExample[], outputs: string[][]): Reading<Record<string, number>> {
  const refs = examples.map((e) => e.target);
  const join = (t: readonly string[]) => t.join(m.config.tokenize === 'words' ? ' ' : '');
  const exact = outputs.filter((o, i) => o.length === refs[i]!.length && o.every((t, k) => t === refs[i]![k])).length;
  const tf = yield* teacherForced(m, examples);
  return {
    exactMatch: examples.length ? exact / examples.length : 0, tokenAccuracy: tf.tokenAccuracy,
    bleu: corpusBleu(outputs, refs).score, chrF: corpusChrF(outputs.map(join), refs.map(join)).score, loss: tf.loss,
  };
}

/** Decodes the examples' sources and scores them (the evaluation, on any backend). */
function* evaluating(m: Seq2SeqInstance, examples: readonly PairExample[], options: TranslateOptions): Reading<EvalResult> {
  const outputs = yield* translating(m, examples, options);
  return { metrics: yield* metricsOf(m, examples, outputs), main: 'exactMatch', higherIsBetter: true };
}

function instance(config: Seq2SeqConfig, g?: Generator, files?: Readonly<Record<string, TaskFile>>, trained?: BpeVocab): Seq2SeqInstance {
  if (config.source.kind === 'bpe' || config.target.kind === 'bpe') {
    const shared = trained ?? new BpeVocab(tokenizerFromFiles('seq2seq', files));
    const size = config.source.kind === 'bpe' && config.target.kind === 'bpe' ? config.source.size : NaN;
    if (shared.size !== size) throw new QkvError(`seq2seq: tokenizer.json has ${shared.size} tokens but the model was trained with ${size}`);
    return {
      config, source: shared, target: shared, files: () => tokenizerFiles(shared.bpe),
      model: new Seq2SeqModel(shared.size, shared.size, config.model, g ?? defaultGenerator),
    };
  }
  const source = Vocab.fromJSON(config.source);
  const target = Vocab.fromJSON(config.target);
  if (target.bos < 0 || target.eos < 0) throw new QkvError('seq2seq: the target vocabulary has no <bos>/<eos>');
  return { config, source, target, model: new Seq2SeqModel(source.size, target.size, config.model, g ?? defaultGenerator) };
}

export const seq2seqDriver: TaskDriver<Seq2SeqInstance, PairExample, Seq2SeqInput, string[], Seq2SeqOptions> = {
  name: 'seq2seq',
  create(train, o) {
    if (!train.length) throw new QkvError('seq2seq: no training examples');
    const tokenize = o.tokenize ?? 'chars';
    if (tokenize !== 'chars' && tokenize !== 'words' && tokenize !== 'bpe') throw new QkvError(`seq2seq: tokenize must be "chars", "words" or "bpe", got "${String(tokenize)}"`);
    const longest = Math.max(...train.map((e) => Math.max(e.source.length, e.target.length)));
    const given = Object.fromEntries(Object.entries(o.model ?? {}).filter(([, v]) => v !== undefined && v !== null));
    const model: Seq2SeqModelConfig = { ...DEFAULT_SEQ2SEQ_MODEL, ...given };
    if (given.ff === undefined) model.ff = 2 * model.dModel;
    if (given.maxLen === undefined) model.maxLen = Math.max(model.maxLen, 2 * longest + 16);
    if (tokenize === 'bpe') {
      // one tokenizer for both sides, trained on every source and target text (examples hold characters)
      const bpe = new BpeVocab(trainTaskTokenizer('seq2seq', train.flatMap((e) => [e.source.join(''), e.target.join('')]), o.vocabSize, SEQ2SEQ_SPECIALS));
      const side = { kind: 'bpe' as const, size: bpe.size };
      return instance({ task: 'seq2seq', tokenize, model, source: side, target: side }, o.generator, undefined, bpe);
    }
    const config: Seq2SeqConfig = {
      task: 'seq2seq', tokenize, model,
      source: Vocab.build(train.map((e) => e.source), { bosEos: true }).toJSON(),
      target: Vocab.build(train.map((e) => e.target), { bosEos: true }).toJSON(),
    };
    return instance(config, o.generator);
  },
  fromConfig: (config, files) => instance(config as Seq2SeqConfig, undefined, files),
  training(m, train, dev, options): TrainingTask<unknown> {
    const { batchSize = 32, labelSmoothing = 0, bucket = false } = options;
    const task: TrainingTask<Seq2SeqBatch> = {
      ...(bucket ? { lengths: train.map((e) => e.source.length + e.target.length) } : {}),
      nextBatch: (g) => seq2seqBatch(m, Array.from({ length: batchSize }, () => train[g.int(0, train.length)]!)),
      batchOf: (indices) => seq2seqBatch(m, indices.map((i) => train[i]!)),
      examples: train.length,
      batchSize,
      loss: (b) => crossEntropy(seq2seqLogits(m, b), b.labels, { labelSmoothing, ignoreIndex: -100 }),
      size: (b) => b.tokens,
      evaluate: () => (onDevice(m) ? seq2seqDriver.evaluateAsync(m, dev) : seq2seqDriver.evaluate(m, dev)),
    };
    return task as TrainingTask<unknown>;
  },
  evaluate: (m, examples, options = {}) => readNow(evaluating(m, examples, options)),
  predict: (m, inputs, options = {}) => translate(m, inputs, options),
  evaluateAsync: (m, examples, options = {}) => readLater(evaluating(m, examples, options)),
  predictAsync: (m, inputs, options = {}) => translateAsync(m, inputs, options),
};

export { Seq2SeqModel, DEFAULT_SEQ2SEQ_MODEL, type Seq2SeqModelConfig } from '../nn/models/seq2seq.js';
export { greedyBatch, beamDecode } from './seq2seq-decode.js';
