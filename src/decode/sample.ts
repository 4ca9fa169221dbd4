// Sampling the next token from a model's logits: temperature, top-k and nucleus (top-p)
// filtering in the order and with the semantics of Hugging Face transformers'
// TemperatureLogitsWarper -> TopKLogitsWarper -> TopPLogitsWarper, then one draw from the
// softmax with a seeded Generator, so a generation is reproducible from its seed.

import { OpError } from '../core/errors.js';
import type { Generator } from '../core/rng.js';

export interface SampleOptions {
  /**
   * Logits are divided by it before the softmax (default 1). Below 1 sharpens the distribution,
   * above 1 flattens it; 0 means greedy (argmax, no random draw). Must be finite and >= 0.
   */
  temperature?: number;
  /**
   * Keep only the tokens whose (scaled) logit is at least the k-th largest one; the others get
   * probability 0. Ties with the k-th value are all kept (as Hugging Face's TopKLogitsWarper),
   * so more than k tokens survive only when logits tie exactly. k > vocabulary size keeps all.
   * An integer >= 1; default: no top-k filtering.
   */
  topK?: number;
  /**
   * Nucleus sampling: keep the smallest set of most probable tokens (after temperature and
   * top-k) whose total probability is >= p, always at least one token. In the tokens sorted by
   * probability (descending; equal probabilities by ascending id), token i is kept iff the
   * probability of the tokens before it is < p. This is Hugging Face's TopPLogitsWarper (which
   * drops the tokens whose ascending cumulative probability is <= 1 - p) computed in float64.
   * In (0, 1]; default 1 (no filtering).
   */
  topP?: number;
  /** The seeded random number generator that the draw comes from. */
  generator: Generator;
}

/** Index of the largest value; the first one on ties (as torch.argmax). */
export function argmaxIndex(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

function validate(op: string, logits: ArrayLike<number>, options: Omit<SampleOptions, 'generator'>): void {
  const { temperature = 1, topK, topP = 1 } = options;
  if (logits.length === 0) throw new OpError(op, 'logits are empty (a vocabulary of 0 tokens)');
  let finite = 0;
  for (let i = 0; i < logits.length; i++) {
    const v = logits[i]!;
    if (Number.isNaN(v) || v === Infinity) throw new OpError(op, `logit ${i} is ${v}; logits must be finite or -Infinity (masked)`);
    if (v !== -Infinity) finite++;
  }
  if (finite === 0) throw new OpError(op, `every one of the ${logits.length} logits is -Infinity; nothing can be sampled`);
  if (typeof temperature !== 'number' || !Number.isFinite(temperature) || temperature < 0) {
    throw new OpError(op, `temperature must be a finite number >= 0 (0 = greedy), got ${temperature}`);
  }
  if (topK !== undefined && (!Number.isInteger(topK) || topK < 1)) throw new OpError(op, `topK must be an integer >= 1, got ${topK}`);
  if (typeof topP !== 'number' || !(topP > 0 && topP <= 1)) throw new OpError(op, `topP must be in (0, 1], got ${topP}`);
}

function filtered(logits: ArrayLike<number>, options: Omit<SampleOptions, 'generator'>): Float64Array {
  const { temperature = 1, topK, topP = 1 } = options;
  const V = logits.length;
  const probs = new Float64Array(V);
  if (temperature === 0) {
    probs[argmaxIndex(logits)] = 1;
    return probs;
  }
  // Temperature: (l_i - max) / T, the same softmax as l_i / T but without overflow for tiny T.
  let max = -Infinity;
  for (let i = 0; i < V; i++) max = Math.max(max, logits[i]!);
  const scaled = new Float64Array(V);
  for (let i = 0; i < V; i++) scaled[i] = (logits[i]! - max) / temperature;
  // Top-k: drop every token below the k-th largest scaled logit.
  if (topK !== undefined && topK < V) {
    const sorted = Float64Array.from(scaled).sort();
    const kth = sorted[V - topK]!;
    for (let i = 0; i < V; i++) if (scaled[i]! < kth) scaled[i] = -Infinity;
  }
  // Softmax over what is left (the maximum is 0, so exp never overflows).
  let total = 0;
  for (let i = 0; i < V; i++) {
    probs[i] = Math.exp(scaled[i]!);
    total += probs[i]!;
  }
  for (let i = 0; i < V; i++) probs[i]! /= total;
  // Top-p: keep tokens, most probable first, while the mass before them is < p.
  if (topP < 1) {
    const order = Array.from({ length: V }, (_, i) => i).filter((i) => probs[i]! > 0);
    order.sort((a, b) => probs[b]! - probs[a]! || a - b);
    let before = 0;
    let kept = 0;
    for (const i of order) {
      if (before < topP || kept === 0) {
        before += probs[i]!;
        kept++;
      } else {
        probs[i] = 0;
      }
    }
    let mass = 0;
    for (let i = 0; i < V; i++) mass += probs[i]!;
    for (let i = 0; i < V; i++) probs[i]! /= mass;
  }
  return probs;
}

/**
 * The distribution `sampleNext` draws from, after temperature, top-k and top-p: a probability
 * for every token of the vocabulary (0 for the filtered-out ones), summing to 1. Temperature 0
 * gives all the mass to the argmax. Validates the options as `sampleNext` does.
 */
export function nextTokenDistribution(logits: ArrayLike<number>, options: Omit<SampleOptions, 'generator'> = {}): Float64Array {
  validate('nextTokenDistribution', logits, options);
  return filtered(logits, options);
}

/** A uniform number in [0, 1) with 53 random bits (two 32-bit draws). */
function uniform53(generator: Generator): number {
  const a = generator.nextUint32() >>> 5;
  const b = generator.nextUint32() >>> 6;
  return (a * 67108864 + b) / 9007199254740992;
}

/**
 * Samples the next token id from `logits` (one score per vocabulary entry, e.g. the last row
 * of a language model's output): divide by the temperature, keep the top-k, keep the top-p
 * nucleus, softmax, then draw one id with `generator` (two 32-bit draws per call, so the same
 * seed gives the same id on every platform). Temperature 0 returns the argmax (the first on
 * ties) and draws nothing; as the temperature goes to 0 the draw becomes the argmax too.
 * -Infinity logits (masked tokens) are never drawn. Throws an OpError for NaN or +Infinity
 * logits, all logits -Infinity, temperature < 0, topK < 1 or not an integer, topP outside (0, 1].
 */
export function sampleNext(logits: ArrayLike<number>, options: SampleOptions): number {
  validate('sampleNext', logits, options);
  const { generator } = options;
  if (options.temperature === 0) return argmaxIndex(logits);
  if (!generator || typeof generator.nextUint32 !== 'function') throw new OpError('sampleNext', 'a generator is required (new Generator(seed))');
  const probs = filtered(logits, options);
  const target = uniform53(generator);
  let cum = 0;
  let last = -1;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i]! <= 0) continue;
    cum += probs[i]!;
    last = i;
    if (target < cum) return i;
  }
  return last; // rounding left the cumulative sum a hair under the draw: the last kept token
}
