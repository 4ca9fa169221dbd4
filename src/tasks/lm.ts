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
import { charVocab, CharVocab, Vocab } from '../data/vocab.js';
import type { BpeTokenizer } from '../data/tokenizers/tokenizer.js';
import type { AttentionKind } from '../nn/attention/multihead.js';
import { cachedLength, type DecodingCache } from '../nn/attention/decoding-cache.js';
import { GPT } from '../nn/models/gpt.js';
import { tensor } from '../ops/creation.js';
import { crossEntropy } from '../ops/loss.js';
import { select } from '../ops/views.js';
import { noGrad, tidy } from '../tensor/engine.js';
import type { Tensor } from '../tensor/tensor.js';
import type { EvalResult, TrainingTask } from '../train/trainer.js';
import { sampleNext } from './decode/sample.js';
import type { TaskDriver, TaskFile, TaskInstance } from './driver.js';
import { tokenizerFiles, tokenizerFromFiles, trainTaskTokenizer } from './subword.js';

export type LmTokenize = 'chars' | 'words' | 'bpe';
export const LM_TOKENIZE: readonly LmTokenize[] = ['chars', 'words', 'bpe'];

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
  /** The vocabulary: `{kind: 'chars', chars}`, `{kind: 'vocab', tokens}`, or `{kind: 'bpe', size}` (the tokens are in tokenizer.json). */
  vocab: { kind: 'chars'; chars: string[] } | { kind: 'vocab'; tokens: string[] } | { kind: 'bpe'; size: number };
  model: LmModelConfig;
  [k: string]: unknown;
}

/** Text <-> token ids for a language model. */
export interface LmTokenizer {
  readonly kind: LmTokenize;
  readonly size: number;
  /** Ids of a text; `what` names the text in errors (a character the vocabulary lacks is an error; an unknown word is `<unk>`). */
  encode(text: string, what?: string): Int32Array;
  decode(ids: ArrayLike<number>): string;
  toJSON(): LmConfig['vocab'];
  /** The BPE tokenizer (bpe only), saved as the checkpoint's tokenizer.json. */
  readonly bpe?: BpeTokenizer;
}

/** Words (letters, digits, inner apostrophes), whitespace runs, and single other characters: decoding joins them back. */
const WORD_PIECES = /\s+|[\p{L}\p{N}_]+(?:['\u2019][\p{L}\p{N}_]+)*|[^\s\p{L}\p{N}_]/gu;

export function wordPieces(text: string): string[] {
  return text.match(WORD_PIECES) ?? [];
}

function charTokenizer(v: CharVocab): LmTokenizer {
  const known = new Set(v.chars);
  return {
    kind: 'chars',
    size: v.size,
    encode(text, what = 'the text') {
      let i = 0;
      let line = 1;
      let column = 1;
      for (const c of text) {
        if (!known.has(c)) {
          const code = `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
          throw new QkvError(`lm: ${what} has the character ${JSON.stringify(c)} (${code}) at position ${i} (line ${line}, column ${column}), which is not in the model's vocabulary of ${v.size} characters`);
        }
        i++;
        if (c === '\n') { line++; column = 1; } else column++;
      }
      return v.encode(text);
    },
    decode: (ids) => v.decode(ids),
    toJSON: () => v.toJSON(),
  };
}

function wordTokenizer(v: Vocab): LmTokenizer {
  return {
    kind: 'words',
    size: v.size,
    encode: (text) => v.encode(wordPieces(text)),
    decode: (ids) => v.decode(ids).join(''),
    toJSON: () => v.toJSON() as LmConfig['vocab'],
  };
}

function bpeTokenizer(t: BpeTokenizer): LmTokenizer {
  return { kind: 'bpe', size: t.size, bpe: t, encode: (text) => t.encode(text), decode: (ids) => t.decode(ids), toJSON: () => ({ kind: 'bpe', size: t.size }) };
}

/** The tokenizer a config describes; a BPE one is read from the checkpoint's tokenizer.json. */
export function lmTokenizerFromJSON(json: LmConfig['vocab'], files?: Readonly<Record<string, TaskFile>>): LmTokenizer {
  if (json.kind === 'bpe') return bpeTokenizer(tokenizerFromFiles('lm', files));
  return json.kind === 'chars' ? charTokenizer(CharVocab.fromJSON(json)) : wordTokenizer(Vocab.fromJSON(json));
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

/** nanoGPT's split: the first `fraction` of the tokens train, the rest validate (int(n*0.9)). */
export function splitTokens(data: Int32Array, fraction = 0.9): { train: Int32Array; val: Int32Array } {
  const n = Math.floor(data.length * fraction);
  return { train: data.subarray(0, n), val: data.subarray(n) };
}

export interface LmBatch { x: Int32Array; y: Int32Array; batch: number; block: number }

/** nanoGPT's get_batch: `batch` random offsets in [0, n - block), inputs and next-token targets. */
export function getBatch(data: Int32Array, batch: number, block: number, g: Generator): LmBatch {
  if (data.length <= block) throw new QkvError(`lm: ${data.length} tokens cannot make a batch of block size ${block}`);
  const x = new Int32Array(batch * block);
  const y = new Int32Array(batch * block);
  for (let b = 0; b < batch; b++) {
    const i = g.int(0, data.length - block);
    x.set(data.subarray(i, i + block), b * block);
    y.set(data.subarray(i + 1, i + 1 + block), b * block);
  }
  return { x, y, batch, block };
}

/** The mean cross-entropy of a batch (a scalar tensor, with a graph when grad is on). */
export function batchLoss(gpt: GPT, b: LmBatch): Tensor {
  return tidy(() => gpt.forward(tensor(b.x, { shape: [b.batch, b.block] }), { targets: tensor(b.y, { shape: [b.batch, b.block] }) }).loss!);
}

/** nanoGPT's estimate_loss for one split: the mean loss of `iters` random batches (no grad). */
export function estimateLoss(gpt: GPT, data: Int32Array, o: { batchSize: number; evalIters: number; generator: Generator }): number {
  const block = gpt.config.blockSize;
  let total = 0;
  noGrad(() => {
    for (let k = 0; k < o.evalIters; k++) total += tidy(() => batchLoss(gpt, getBatch(data, o.batchSize, block, o.generator)).item());
  });
  return total / o.evalIters;
}

/**
 * The loss of a whole text, every token after the first predicted exactly once: the text is
 * cut into non-overlapping windows of blockSize inputs (x = ids[s : s+block], y = ids[s+1 :
 * s+1+block] for s = 0, block, 2·block, ...; the last window is shorter), so a token at the
 * start of a window sees less context than one in the middle, as in nanoGPT-style evaluations
 * without a sliding window. Returns the summed and the mean loss (nats) and the token count.
 */
export function textLoss(gpt: GPT, ids: Int32Array, o: { batchSize?: number } = {}): { sum: number; tokens: number; loss: number } {
  const block = gpt.config.blockSize;
  const batchSize = o.batchSize ?? 16;
  const n = ids.length - 1; // positions with a target
  if (n < 1) throw new QkvError('lm: a text needs at least 2 tokens to be scored');
  const full = Math.floor(n / block);
  let sum = 0;
  const wasTraining = gpt.training;
  gpt.eval();
  try {
    noGrad(() => {
      const run = (starts: number[], len: number) => tidy(() => {
        const x = new Int32Array(starts.length * len);
        const y = new Int32Array(starts.length * len);
        starts.forEach((s, b) => { x.set(ids.subarray(s, s + len), b * len); y.set(ids.subarray(s + 1, s + 1 + len), b * len); });
        const { logits } = gpt.forward(tensor(x, { shape: [starts.length, len] }));
        sum += crossEntropy(logits, tensor(y, { shape: [starts.length, len] }), { reduction: 'sum' }).item();
      });
      for (let w = 0; w < full; w += batchSize) run(Array.from({ length: Math.min(batchSize, full - w) }, (_, k) => (w + k) * block), block);
      if (n % block) run([full * block], n % block);
    });
  } finally {
    gpt.train(wasTraining);
  }
  return { sum, tokens: n, loss: sum / n };
}

export interface GenerateOptions {
  /** Tokens to generate (default 100). */
  maxNewTokens?: number;
  /** Softmax temperature (default 1; 0 = greedy argmax). */
  temperature?: number;
  topK?: number;
  topP?: number;
  /** Where the random draws come from (default: the default generator). */
  generator?: Generator;
  /** Decode with KV caches / recurrent state (default true); false re-runs the whole context every step, as nanoGPT. */
  useCache?: boolean;
  /** Called with each new token id as it is sampled. */
  onToken?: (id: number) => void;
}

/** The last position's logits of a forward pass over `ids` (1, T), as a plain array. */
function lastLogits(gpt: GPT, ids: ArrayLike<number>, caches: DecodingCache[] | null): Float32Array {
  return tidy(() => {
    const { logits } = gpt.forward(tensor(Int32Array.from(ids), { shape: [1, ids.length] }), { caches });
    return select(select(logits, 0, 0), 0, ids.length - 1).toTypedArray() as Float32Array;
  });
}

/**
 * Continues `prompt` (token ids, at least one) by `maxNewTokens` tokens and returns the new
 * ids. nanoGPT's generate: crop the context to the last blockSize tokens, take the last
 * position's logits, sample (temperature, top-k, top-p). With caches (the default) the prompt
 * runs once and then each token runs alone; when the context outgrows blockSize the caches
 * restart on its last blockSize tokens (see the file comment). The model runs in eval mode.
 */
export function generateTokens(gpt: GPT, prompt: ArrayLike<number>, o: GenerateOptions = {}): number[] {
  const { maxNewTokens = 100, temperature = 1, topK, topP, generator = defaultGenerator, useCache = true } = o;
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 0) throw new QkvError(`generate: maxNewTokens must be an integer >= 0, got ${maxNewTokens}`);
  if (prompt.length < 1) throw new QkvError('generate: the prompt must have at least one token');
  const V = gpt.config.vocabSize;
  for (let i = 0; i < prompt.length; i++) {
    if (!Number.isInteger(prompt[i]) || prompt[i]! < 0 || prompt[i]! >= V) throw new QkvError(`generate: prompt token ${prompt[i]} at ${i} is out of range for a vocabulary of ${V}`);
  }
  const block = gpt.config.blockSize;
  const ids = Array.from(prompt);
  const out: number[] = [];
  const wasTraining = gpt.training;
  gpt.eval();
  const held: { caches: DecodingCache[] | null } = { caches: null };
  const restart = (): Float32Array => {
    held.caches?.forEach((c) => c.dispose());
    held.caches = gpt.makeCaches(1);
    return lastLogits(gpt, ids.slice(-block), held.caches);
  };
  try {
    noGrad(() => {
      let logits = useCache ? restart() : lastLogits(gpt, ids.slice(-block), null);
      for (let step = 0; step < maxNewTokens; step++) {
        const next = sampleNext(logits, { temperature, topK, topP, generator });
        ids.push(next);
        out.push(next);
        o.onToken?.(next);
        if (step === maxNewTokens - 1) break;
        if (!held.caches) logits = lastLogits(gpt, ids.slice(-block), null);
        else if (cachedLength(held.caches[0]) + 1 > block) logits = restart(); // crop: idx[:, -block_size:]
        else logits = lastLogits(gpt, [next], held.caches);
      }
    });
  } finally {
    held.caches?.forEach((c) => c.dispose());
    gpt.train(wasTraining);
  }
  return out;
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
  const ids = m.tokenizer.encode(prompt, 'the prompt');
  if (!ids.length) throw new QkvError('generate: the prompt is empty; give at least one character (nanoGPT starts from "\\n")');
  return m.tokenizer.decode(generateTokens(m.model, ids, o));
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
    evaluate: (g): EvalResult => {
      const trainLoss = estimateLoss(m.model, split.train, { batchSize, evalIters, generator: g });
      const valLoss = estimateLoss(m.model, split.val, { batchSize, evalIters, generator: g });
      return { metrics: { trainLoss, valLoss, valPerplexity: Math.exp(valLoss) }, main: 'valLoss', higherIsBetter: false };
    },
  };
}

/** Loss (nats per token), perplexity and bits per token of whole texts (textLoss over each, pooled). */
export function lmEvaluate(m: LmInstance, texts: readonly string[]): EvalResult {
  let sum = 0;
  let tokens = 0;
  texts.forEach((t, i) => {
    const r = textLoss(m.model, m.tokenizer.encode(t, texts.length > 1 ? `text ${i + 1}` : 'the text'));
    sum += r.sum;
    tokens += r.tokens;
  });
  if (!tokens) throw new QkvError('lm: nothing to evaluate');
  const loss = sum / tokens;
  return { metrics: { loss, perplexity: Math.exp(loss), bitsPerToken: loss / Math.LN2, tokens }, main: 'loss', higherIsBetter: false };
}

export const lmDriver: TaskDriver<LmInstance, string, string, string> = {
  name: 'lm',
  create(train, options) {
    if (!train.length) throw new QkvError('lm: no training text');
    return createLm(train.join(''), options as LmOptions);
  },
  fromConfig: (config, files) => lmFromConfig(config, files),
  training: (m, train, dev, options) => lmTraining(m, train, dev, options as LmOptions) as TrainingTask<unknown>,
  evaluate: (m, texts) => lmEvaluate(m, texts),
  /** A continuation of each prompt; options are GenerateOptions (one generator shared by all prompts, in order). */
  predict: (m, prompts, options = {}) => {
    const o = options as GenerateOptions & { seed?: number };
    const generator = o.generator ?? new Generator(o.seed ?? 0);
    return prompts.map((p) => generate(m, p, { ...o, generator }));
  },
};
