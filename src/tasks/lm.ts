// `lm`: a decoder-only GPT trained on one plain text, like nanoGPT's shakespeare_char.
//
// Data, as nanoGPT's data/shakespeare_char/prepare.py and train.py:
// - tokens are characters by default (`sorted(set(text))`, no specials); `tokenize: 'words'`
//   uses a Vocab of words, whitespace runs and punctuation marks (`<pad>`, `<unk>` first);
//   `tokenize: 'bpe'` a byte-level BPE tokenizer trained on the text (`vocabSize` entries, no
//   specials; any text encodes, nothing is unknown), carried by the checkpoint as tokenizer.json;
// - the whole text is encoded as one Int32Array and split: the first 90% trains, the last
//   10% is the validation split (unless held-out texts are given, see below);
// - a batch is `batchSize` random offsets i in [0, n - blockSize), x = data[i : i+block],
//   y = data[i+1 : i+1+block] (get_batch), drawn from the trainer's generator;
// - evaluation is estimate_loss: the mean loss over `evalIters` random batches of each split.
//
// How the lm task fits the TaskDriver interface: an Example is a whole text (a string).
// `create(train)` builds the vocabulary from every training text (before any split, as
// prepare.py does from the full file); `training(m, train, dev)` concatenates `train`, and
// when `dev` is empty holds out its last 10% as the validation split; with `dev` texts those
// are the validation split and all of `train` trains. `evaluate(m, texts)` is the loss of
// whole texts (every token predicted once, see textLoss); `predict(m, prompts)` generates a
// continuation of each prompt.
//
// Generation (nanoGPT's generate with temperature, top-k, and also top-p) runs with decoding
// caches: the prompt goes through the model once, then one token per step (a KVCache per layer
// for softmax/relu attention; a constant-size LinearAttentionState, the RNN form, for linear
// attention). The context is cropped like nanoGPT's idx[:, -block_size:]: when the next token
// would not fit in blockSize positions, the caches are restarted on the last blockSize tokens
// (positions are learned per index, so a cache cannot slide). Past that point every token
// costs one forward of blockSize tokens, exactly as nanoGPT, and the tokens are those the
// uncached loop gives (`useCache: false`), which tests check.
import { QkvError } from '../core/errors.js';
import { defaultGenerator, Generator } from '../core/rng.js';
import { charVocab, Vocab } from '../data/vocab.js';
import type { AttentionKind } from '../nn/attention/multihead.js';
import { GPT } from '../nn/models/gpt.js';
import type { EvalResult, TrainingTask } from '../train/trainer.js';
import type { TaskDriver, TaskFile, TaskInstance } from './driver.js';
import { tokenizerFiles, trainTaskTokenizer } from '../data/tokenizers/subword.js';
import { bpeTokenizer, charTokenizer, lmTokenizerFromJSON, LM_TOKENIZE, wordPieces, wordTokenizer, type LmTokenize, type LmTokenizer, type LmVocabJSON } from '../data/tokenizers/lm-tokenizer.js';
import { batchLoss, estimateLoss, estimateLossAsync, getBatch, splitTokens, textLossReading, type LmBatch } from './lm/batches.js';
import { generateTokens, generateTokensAsync, type GenerateOptions } from './lm/generate.js';
import { readLater, readNow, type Reading } from '../ops/reads.js';

export { wordPieces, lmTokenizerFromJSON, LM_TOKENIZE, type LmTokenize, type LmTokenizer, type LmVocabJSON } from '../data/tokenizers/lm-tokenizer.js';
export { batchLoss, estimateLoss, estimateLossAsync, getBatch, splitTokens, textLoss, type LmBatch } from './lm/batches.js';
export { generateTokens, generateTokensAsync, type GenerateOptions } from './lm/generate.js';


/** The GPT's hyperparameters as saved in config.json (nanoGPT's GPTConfig). */
export interface LmModelConfig {
  vocabSize: number;
  blockSize: number;
  nLayer: number;
  nHead: number;
  nEmbd: number;
  dropout: number;
  bias: boolean;
  attention: AttentionKind;
}

/** nanoGPT's "baby GPT" for CPUs (its README): 4 layers, 4 heads, 128 dims, block 64, no dropout, no biases. */
export const DEFAULT_LM_MODEL: Omit<LmModelConfig, 'vocabSize'> = {
  blockSize: 64, nLayer: 4, nHead: 4, nEmbd: 128, dropout: 0, bias: false, attention: 'softmax',
};

export interface LmConfig {
  task: 'lm';
  tokenize: LmTokenize;
  vocab: LmVocabJSON;
  model: LmModelConfig;
  [k: string]: unknown;
}

export interface LmInstance extends TaskInstance {
  config: LmConfig;
  model: GPT;
  tokenizer: LmTokenizer;
}

export interface LmOptions {
  /** GPT hyperparameters (default: DEFAULT_LM_MODEL; vocabSize comes from the text). */
  model?: Partial<Omit<LmModelConfig, 'vocabSize'>>;
  tokenize?: LmTokenize;
  /** Entries in the BPE vocabulary (tokenize 'bpe'; default 1000). */
  vocabSize?: number;
  /** Sequences per batch (nanoGPT's batch_size, default 12). */
  batchSize?: number;
  /** Batches per split in each evaluation (nanoGPT's eval_iters, default 20). */
  evalIters?: number;
  /** Fraction of the text that trains when no held-out text is given (default 0.9). */
  trainFraction?: number;
  generator?: Generator;
}

/** A fresh GPT whose vocabulary comes from `text` (the whole text, as nanoGPT's prepare.py). */
export function createLm(text: string, options: LmOptions = {}): LmInstance {
  if (!text.length) throw new QkvError('lm: the training text is empty');
  const tokenize = options.tokenize ?? 'chars';
  if (!LM_TOKENIZE.includes(tokenize)) throw new QkvError(`lm: tokenize must be chars, words or bpe, got "${String(tokenize)}"`);
  const tokenizer = tokenize === 'chars' ? charTokenizer(charVocab(text))
    : tokenize === 'bpe' ? bpeTokenizer(trainTaskTokenizer('lm', [text], options.vocabSize, []))
    : wordTokenizer(Vocab.build([wordPieces(text)]));
  const model: LmModelConfig = { ...DEFAULT_LM_MODEL, ...definedOnly(options.model ?? {}), vocabSize: tokenizer.size };
  const config: LmConfig = { task: 'lm', tokenize, vocab: tokenizer.toJSON(), model };
  return withFiles({ config, tokenizer, model: new GPT({ ...model, generator: options.generator ?? defaultGenerator }) });
}

/** A BPE model's checkpoint carries its tokenizer.json. */
function withFiles(m: LmInstance): LmInstance {
  const bpe = m.tokenizer.bpe;
  return bpe ? { ...m, files: () => tokenizerFiles(bpe) } : m;
}

/** Rebuilds the model from a checkpoint's config (weights are loaded by the caller). */
export function lmFromConfig(raw: Record<string, unknown>, files?: Readonly<Record<string, TaskFile>>): LmInstance {
  const config = raw as LmConfig;
  if (!config.vocab || !config.model) throw new QkvError('lm: the model config has no "vocab" or "model"');
  const tokenizer = lmTokenizerFromJSON(config.vocab, files);
  if (tokenizer.size !== config.model.vocabSize) throw new QkvError(`lm: the vocabulary has ${tokenizer.size} tokens but the model ${config.model.vocabSize}`);
  return withFiles({ config, tokenizer, model: new GPT({ ...config.model }) });
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null)) as Partial<T>;
}

/** The prompt `qkv generate` starts from when none is given: "\n" as nanoGPT's sample.py, or the first token when the vocabulary has no "\n". */
export function defaultPrompt(m: LmInstance): string {
  try {
    const ids = m.tokenizer.encode('\n');
    if (ids.length === 1 && (m.tokenizer.kind !== 'words' || ids[0] !== 1)) return '\n';
  } catch { /* no "\n" in the vocabulary */ }
  return m.tokenizer.decode([m.tokenizer.kind === 'chars' ? 0 : Math.min(2, m.tokenizer.size - 1)]);
}

/** Continues a text prompt and returns the new text (without the prompt). */
export function generate(m: LmInstance, prompt: string, o: GenerateOptions = {}): string {
  return m.tokenizer.decode(generateTokens(m.model, promptIds(m, prompt), o));
}

/** generate on any backend (a GPU's logits are awaited at each step). */
export async function generateAsync(m: LmInstance, prompt: string, o: GenerateOptions = {}): Promise<string> {
  return m.tokenizer.decode(await generateTokensAsync(m.model, promptIds(m, prompt), o));
}

function promptIds(m: LmInstance, prompt: string): Int32Array {
  const ids = m.tokenizer.encode(prompt, 'the prompt');
  if (!ids.length) throw new QkvError('generate: the prompt is empty; give at least one character (nanoGPT starts from "\\n")');
  return ids;
}

/** Training: random windows of the first 90% (or all of `train` when `dev` is given), estimate_loss on both splits. */
export function lmTraining(m: LmInstance, train: readonly string[], dev: readonly string[], options: LmOptions = {}): TrainingTask<LmBatch> {
  const { batchSize = 12, evalIters = 20, trainFraction = 0.9 } = options;
  const block = m.model.config.blockSize;
  const all = m.tokenizer.encode(train.join(''), 'the training text');
  const split = dev.length ? { train: all, val: m.tokenizer.encode(dev.join(''), 'the validation text') } : splitTokens(all, trainFraction);
  for (const [name, d] of Object.entries(split)) {
    if (d.length <= block) {
      throw new QkvError(`lm: the ${name === 'val' ? 'validation' : 'training'} split has ${d.length} tokens, not more than the block size ${block}; use a longer text or a smaller block size`);
    }
  }
  return {
    nextBatch: (g) => getBatch(split.train, batchSize, block, g),
    // random windows, as nanoGPT: an epoch is as many windows as the training text holds blocks
    examples: Math.max(1, Math.floor(split.train.length / block)),
    batchSize,
    loss: (b) => batchLoss(m.model, b),
    size: (b) => b.batch * b.block,
    evaluate: (g): EvalResult | Promise<EvalResult> => {
      if (m.model.parameters()[0]?.backend.kind === 'device') {
        // a device's losses are read asynchronously (both splits' batches are drawn first, in order)
        const train = estimateLossAsync(m.model, split.train, { batchSize, evalIters, generator: g });
        const val = estimateLossAsync(m.model, split.val, { batchSize, evalIters, generator: g });
        return Promise.all([train, val]).then(([trainLoss, valLoss]) =>
          ({ metrics: { trainLoss, valLoss, valPerplexity: Math.exp(valLoss) }, main: 'valLoss', higherIsBetter: false }));
      }
      const trainLoss = estimateLoss(m.model, split.train, { batchSize, evalIters, generator: g });
      const valLoss = estimateLoss(m.model, split.val, { batchSize, evalIters, generator: g });
      return { metrics: { trainLoss, valLoss, valPerplexity: Math.exp(valLoss) }, main: 'valLoss', higherIsBetter: false };
    },
  };
}

/** Loss (nats per token), perplexity and bits per token of whole texts (textLoss over each, pooled). */
export function lmEvaluate(m: LmInstance, texts: readonly string[]): EvalResult {
  return readNow(evaluating(m, texts));
}

function* evaluating(m: LmInstance, texts: readonly string[]): Reading<EvalResult> {
  let sum = 0;
  let tokens = 0;
  for (const [i, t] of texts.entries()) {
    const r = yield* textLossReading(m.model, m.tokenizer.encode(t, texts.length > 1 ? `text ${i + 1}` : 'the text'));
    sum += r.sum;
    tokens += r.tokens;
  }
  if (!tokens) throw new QkvError('lm: nothing to evaluate');
  const loss = sum / tokens;
  return { metrics: { loss, perplexity: Math.exp(loss), bitsPerToken: loss / Math.LN2, tokens }, main: 'loss', higherIsBetter: false };
}

export const lmDriver: TaskDriver<LmInstance, string, string, string, LmOptions> = {
  name: 'lm',
  create(train, options) {
    if (!train.length) throw new QkvError('lm: no training text');
    return createLm(train.join(''), options);
  },
  fromConfig: (config, files) => lmFromConfig(config, files),
  training: (m, train, dev, options) => lmTraining(m, train, dev, options) as TrainingTask<unknown>,
  evaluate: (m, texts) => lmEvaluate(m, texts),
  /** A continuation of each prompt; options are GenerateOptions (one generator shared by all prompts, in order). */
  predict: (m, prompts, options = {}) => {
    const o = options as GenerateOptions & { seed?: number };
    const generator = o.generator ?? new Generator(o.seed ?? 0);
    return prompts.map((p) => generate(m, p, { ...o, generator }));
  },
  evaluateAsync: (m, texts) => readLater(evaluating(m, texts)),
  predictAsync: async (m, prompts, options = {}) => {
    const o = options as GenerateOptions & { seed?: number };
    const generator = o.generator ?? new Generator(o.seed ?? 0);
    const out: string[] = [];
    for (const p of prompts) out.push(await generateAsync(m, p, { ...o, generator }));
    return out;
  },
};
