// `tag`: one label per input vector (lecture §2, sequence labeling): part-of-speech tags per
// word, a phoneme per audio frame, a class per graph node. Metrics: accuracy, per-tag
// precision/recall/F1, accuracy on words never seen in training, and on ambiguous words
// (seen with more than one tag in training, like "saw").
import { defaultGenerator, type Generator } from '../core/rng.js';
import { QkvError } from '../core/errors.js';
import type { TaggedExample } from '../data/types.js';
import { LabelSet, type LabelSetJSON } from '../data/labels.js';
import type { FrontEnd } from '../data/frontend.js';
import { argmax } from '../ops/reduce.js';
import { tensor } from '../ops/creation.js';
import { crossEntropy } from '../ops/loss.js';
import { noGrad, tidy } from '../tensor/engine.js';
import type { Tensor } from '../tensor/tensor.js';
import type { EvalResult, TrainingTask } from '../train/trainer.js';
import { readLater, readNow, type Reading } from '../ops/reads.js';
import { onDevice } from './driver.js';
import { AttentionEncoder } from '../nn/transformer/attention-encoder.js';
import { Featurizer, type FeaturizerJSON } from './featurize.js';
import { accuracy, perLabelPRF } from '../metrics/index.js';
import type { TaskDriver, TaskFile, TaskInstance } from './driver.js';
import type { SequenceInput } from '../data/types.js';
import { DEFAULT_MODEL, SequenceTagger, type InputBatch, type ModelConfig } from '../nn/models/taggers.js';

export interface TagConfig {
  task: 'tag';
  featurizer: FeaturizerJSON;
  labels: LabelSetJSON;
  model: ModelConfig;
  /** Words seen with more than one tag in training. */
  ambiguous: string[];
  [k: string]: unknown;
}

export interface TagTrainOptions {
  model?: Partial<ModelConfig>;
  batchSize?: number;
  labelSmoothing?: number;
  wordDropout?: number;
  /** 'bpe': subword pieces, each word's label on its first piece (default 'words'). */
  tokenize?: 'words' | 'bpe';
  /** BPE vocabulary size (tokenize 'bpe'). */
  vocabSize?: number;
  /** Length-bucketed batches (examples of similar length together, less padding; default false: uniform ones). */
  bucket?: boolean;
  /** How the frames were made from files (saved in the config). */
  frontEnd?: FrontEnd;
  generator?: Generator;
}

export interface TagModel extends TaskInstance {
  config: TagConfig;
  model: SequenceTagger;
  featurizer: Featurizer;
  labels: LabelSet;
}

/** Builds the vocabularies, label set and a fresh model from training data. */
export function createTagModel(train: readonly TaggedExample[], options: TagTrainOptions = {}): TagModel {
  if (!train.length) throw new QkvError('tag: no training examples');
  const featurizer = Featurizer.fromExamples(train, { task: 'tag', tokenize: options.tokenize, vocabSize: options.vocabSize, frontEnd: options.frontEnd });
  const labels = LabelSet.build(train.flatMap((e) => e.labels));
  const model = { ...DEFAULT_MODEL, ...options.model };
  const seen = new Map<string, Set<string>>();
  for (const e of train) e.tokens?.forEach((w, i) => (seen.get(w) ?? seen.set(w, new Set()).get(w)!).add(e.labels[i]!));
  const ambiguous = [...seen].filter(([, tags]) => tags.size > 1).map(([w]) => w).sort();
  const config: TagConfig = { task: 'tag', featurizer: featurizer.toJSON(), labels: labels.toJSON(), model, ambiguous };
  return { config, featurizer, labels, model: new SequenceTagger(featurizer.inputConfig(), model, labels.size, options.generator ?? defaultGenerator), files: () => featurizer.files() };
}

/** Rebuilds a model from a checkpoint's config (its weights are loaded by the caller); a BPE model's tokenizer comes from `files`. */
export function tagModelFromConfig(config: TagConfig, files?: Readonly<Record<string, TaskFile>>): TagModel {
  const featurizer = Featurizer.fromJSON(config.featurizer, files, 'tag');
  const labels = LabelSet.fromJSON(config.labels);
  return { config, featurizer, labels, model: new SequenceTagger(featurizer.inputConfig(), config.model, labels.size), files: () => featurizer.files() };
}

interface TagBatch { input: InputBatch; labels: Tensor; positions: number }

function makeBatch(m: TagModel, examples: readonly TaggedExample[], options: { wordDropout?: number; g?: Generator } = {}): TagBatch {
  const input = m.featurizer.batch(examples, options);
  const T = input.keyPaddingMask.shape[1]!;
  const y = new Int32Array(examples.length * T).fill(-100); // -100: padding (and pieces after a word's first), no loss
  examples.forEach((e, b) => {
    const ids = m.labels.encode(e.labels, e.origin);
    if (input.firsts) input.firsts[b]!.forEach((t, i) => { y[b * T + t] = ids[i]!; }); // a word's label on its first piece
    else y.set(ids, b * T);
  });
  return { input, labels: tensor(y, { shape: [examples.length, T] }), positions: input.lengths.reduce((a, n) => a + n, 0) };
}

/** Predicted tags for each example, reading one batch's argmax at a time (see ops/reads.ts). */
function* predicting(m: TagModel, examples: readonly SequenceInput[], batchSize = 64): Reading<string[][]> {
  const out: string[][] = [];
  for (let i = 0; i < examples.length; i += batchSize) {
    const chunk = examples.slice(i, i + batchSize);
    const { argmaxes, T, lengths, firsts } = tidy(() => noGrad(() => {
      const input = m.featurizer.batch(chunk);
      return { argmaxes: argmax(m.model.forward(input), -1), T: input.keyPaddingMask.shape[1]!, lengths: input.lengths, firsts: input.firsts };
    }));
    const pred = yield argmaxes; // (B, T)
    // BPE: a word's tag is the prediction at its first piece
    lengths.forEach((n, b) => out.push(m.labels.decode(firsts ? firsts[b]!.map((t) => pred[b * T + t]!) : pred.subarray(b * T, b * T + n))));
  }
  return out;
}

/** Predicted tags for each example. */
export function predictTags(m: TagModel, examples: readonly SequenceInput[], batchSize = 64): string[][] {
  return readNow(predicting(m, examples, batchSize));
}

/** predictTags on any backend (a GPU's predictions are awaited). */
export function predictTagsAsync(m: TagModel, examples: readonly SequenceInput[], batchSize = 64): Promise<string[][]> {
  return readLater(predicting(m, examples, batchSize));
}

/** Accuracy, macro-F1, per-tag F1, and accuracy on unseen and on ambiguous words. */
export function tagMetrics(m: TagModel, examples: readonly TaggedExample[], predicted: string[][]): Record<string, number> {
  const pred = predicted.flat();
  const gold = examples.flatMap((e) => e.labels);
  const prf = perLabelPRF(pred, gold);
  const metrics: Record<string, number> = { accuracy: accuracy(pred, gold), macroF1: prf.macro.f1 };
  if (m.featurizer.words || m.featurizer.bpe) {
    const ambiguous = new Set(m.config.ambiguous);
    const subset = (keep: (w: string) => boolean) => {
      const idx: [string, string][] = [];
      examples.forEach((e, i) => e.tokens!.forEach((w, t) => { if (keep(w)) idx.push([predicted[i]![t]!, e.labels[t]!]); }));
      return idx.length ? accuracy(idx.map((x) => x[0]), idx.map((x) => x[1])) : null;
    };
    // reported only when the data has such words (unseen: word models only, BPE has no word list)
    const unseen = m.featurizer.words ? subset((w) => !m.featurizer.words!.has(w)) : null;
    const amb = subset((w) => ambiguous.has(w));
    if (unseen !== null) metrics.unseenAccuracy = unseen;
    if (amb !== null) metrics.ambiguousAccuracy = amb;
  }
  return metrics;
}

/** Precision, recall, F1 and support of every tag (what `qkv eval` prints as a table). */
export function tagReport(examples: readonly TaggedExample[], predicted: string[][]): { label: string; precision: number; recall: number; f1: number; support: number }[] {
  return perLabelPRF(predicted.flat(), examples.flatMap((e) => e.labels)).perLabel;
}

/** Training: batches from `train` (in epochs, drawn by the Trainer), evaluation on `dev`. */
export function tagTraining(m: TagModel, train: readonly TaggedExample[], dev: readonly TaggedExample[], options: TagTrainOptions = {}): TrainingTask<TagBatch> {
  const { batchSize = 32, labelSmoothing = 0, wordDropout = 0.05, bucket = false } = options;
  return {
    ...(bucket ? { lengths: train.map((e) => e.labels.length) } : {}),
    nextBatch: (g) => makeBatch(m, Array.from({ length: batchSize }, () => train[g.int(0, train.length)]!), { wordDropout, g }),
    batchOf: (indices, g) => makeBatch(m, indices.map((i) => train[i]!), { wordDropout, g }),
    examples: train.length,
    batchSize,
    loss: (b) => crossEntropy(m.model.forward(b.input), b.labels, { labelSmoothing }),
    size: (b) => b.positions,
    evaluate: (): EvalResult | Promise<EvalResult> => (onDevice(m) ? tagDriver.evaluateAsync(m, dev) : tagDriver.evaluate(m, dev)),
  };
}

export const tagDriver: TaskDriver<TagModel, TaggedExample, SequenceInput, string[], TagTrainOptions> = {
  name: 'tag',
  create: (train, options) => createTagModel(train, options),
  fromConfig: (config, files) => tagModelFromConfig(config as TagConfig, files),
  training: (m, train, dev, options) => tagTraining(m, train, dev, options) as TrainingTask<unknown>,
  evaluate: (m, examples) => tagResult(m, examples, predictTags(m, examples)),
  predict: (m, inputs) => predictTags(m, inputs),
  evaluateAsync: async (m, examples) => tagResult(m, examples, await predictTagsAsync(m, examples)),
  predictAsync: (m, inputs) => predictTagsAsync(m, inputs),
};

function tagResult(m: TagModel, examples: readonly TaggedExample[], predicted: string[][]): EvalResult {
  return { metrics: tagMetrics(m, examples, predicted), main: 'accuracy', higherIsBetter: true };
}

/**
 * The attention weights alpha' of every layer and head for one sentence (transformer models):
 * weights[layer][head][i][j] is how much word i looks at word j.
 */
export function tagAttention(m: TagModel, input: SequenceInput): number[][][][] {
  const enc = m.model.encoder;
  if (!(enc instanceof AttentionEncoder)) throw new QkvError(`a ${m.config.model.kind} model has no attention weights`);
  return tidy(() => noGrad(() => {
    const b = m.featurizer.batch([input]);
    const a = m.model.embed.forward(b); // a^i, (1, T, d)
    const { weights } = enc.inspect(a, { keyPaddingMask: b.keyPaddingMask, attnMask: b.attnMask ?? null });
    return weights.map((w) => (w.toArray() as number[][][][])[0]!);
  }));
}
