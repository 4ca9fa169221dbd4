// Generation with decoding caches (nanoGPT's generate with temperature, top-k and top-p): the
// prompt once, then one token per step; the context cropped to the block size like nanoGPT.
import { QkvError } from '../../core/errors.js';
import { defaultGenerator, Generator } from '../../core/rng.js';
import { cachedLength, type DecodingCache } from '../../nn/attention/decoding-cache.js';
import { GPT } from '../../nn/models/gpt.js';
import type { LayerIntermediates } from '../../nn/transformer/layers.js';
import { tensor } from '../../ops/creation.js';
import { select } from '../../ops/views.js';
import { noGrad, tidy } from '../../tensor/engine.js';
import { sampleNext } from '../../decode/sample.js';
import { readLater, readNow, type Reading } from '../../ops/reads.js';

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

/** The last position's logits of a forward pass over `ids` (1, T), as a plain array; `onAttention` sees every layer's attention (the visualizer). */
export function lastLogits(gpt: GPT, ids: ArrayLike<number>, caches: DecodingCache[] | null, onAttention?: (layer: number, i: LayerIntermediates) => void): Float32Array {
  return readNow(lastLogitsReading(gpt, ids, caches, onAttention));
}

/** lastLogits, reading the row (ops/reads.ts: any backend). */
function* lastLogitsReading(gpt: GPT, ids: ArrayLike<number>, caches: DecodingCache[] | null, onAttention?: (layer: number, i: LayerIntermediates) => void): Reading<Float32Array> {
  return (yield tidy(() => noGrad(() => {
    const { logits } = gpt.forward(tensor(Int32Array.from(ids), { shape: [1, ids.length] }), { caches, onAttention });
    return select(select(logits, 0, 0), 0, ids.length - 1);
  }))) as Float32Array;
}

/**
 * Continues `prompt` (token ids, at least one) by `maxNewTokens` tokens and returns the new
 * ids. nanoGPT's generate: crop the context to the last blockSize tokens, take the last
 * position's logits, sample (temperature, top-k, top-p). With caches (the default) the prompt
 * runs once and then each token runs alone; when the context outgrows blockSize the caches
 * restart on its last blockSize tokens (see the file comment). The model runs in eval mode.
 */
export function generateTokens(gpt: GPT, prompt: ArrayLike<number>, o: GenerateOptions = {}): number[] {
  return readNow(generating(gpt, prompt, o));
}

/** generateTokens on any backend (a GPU's logits are awaited at each step). */
export function generateTokensAsync(gpt: GPT, prompt: ArrayLike<number>, o: GenerateOptions = {}): Promise<number[]> {
  return readLater(generating(gpt, prompt, o));
}

function* generating(gpt: GPT, prompt: ArrayLike<number>, o: GenerateOptions): Reading<number[]> {
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
  function* restart(): Reading<Float32Array> {
    held.caches?.forEach((c) => c.dispose());
    held.caches = gpt.makeCaches(1);
    return yield* lastLogitsReading(gpt, ids.slice(-block), held.caches);
  }
  try {
    let logits = useCache ? yield* restart() : yield* lastLogitsReading(gpt, ids.slice(-block), null);
    for (let step = 0; step < maxNewTokens; step++) {
      const next = sampleNext(logits, { temperature, topK, topP, generator });
      ids.push(next);
      out.push(next);
      o.onToken?.(next);
      if (step === maxNewTokens - 1) break;
      if (!held.caches) logits = yield* lastLogitsReading(gpt, ids.slice(-block), null);
      else if (cachedLength(held.caches[0]) + 1 > block) logits = yield* restart(); // crop: idx[:, -block_size:]
      else logits = yield* lastLogitsReading(gpt, [next], held.caches);
    }
  } finally {
    held.caches?.forEach((c) => c.dispose());
    gpt.train(wasTraining);
  }
  return out;
}
