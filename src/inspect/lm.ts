// What the visualizer shows for a GPT: the prompt's causal self-attention (one pass, every layer
// and head, as for an encoder), and generation step by step on the decoding path qkv generates
// with: the prompt fills the caches, then each new token's query attends over the KV cache (one
// column more per step) or, for linear attention, updates the recurrent state (S, z). Step t's
// numbers are those of the cached forward itself (tests check them against the full pass).
import { QkvError } from '../core/errors.js';
import { Generator } from '../core/rng.js';
import { LinearAttentionState } from '../nn/attention/linear-attention-state.js';
import type { DecodingCache } from '../nn/attention/decoding-cache.js';
import type { GPT } from '../nn/models/gpt.js';
import type { LayerIntermediates } from '../nn/transformer/layers.js';
import { noGrad, tidy } from '../tensor/engine.js';
import type { Tensor } from '../tensor/tensor.js';
import { sampleNext } from '../decode/sample.js';
import type { GenerationHead, GenerationStep, InspectOptions, LayerInspection, ModelInspection } from './wire.js';
import type { LmInstance } from '../tasks/lm.js';
import { lastLogits } from '../tasks/lm/generate.js';
import { wordPieces } from '../data/tokenizers/lm-tokenizer.js';
import { kindInfo, layerJSON, stateJSON } from './heads.js';

/** New tokens the visualizer generates unless told. */
export const DEFAULT_VIZ_TOKENS = 8;

export function inspectLm(m: LmInstance, prompt: string, o: InspectOptions = {}): ModelInspection {
  const { maxNewTokens = DEFAULT_VIZ_TOKENS, temperature = 0, seed = 0 } = o;
  if (typeof prompt !== 'string' || !prompt.length) throw new QkvError('the prompt is empty: type at least one character');
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 0) throw new QkvError(`new tokens must be an integer >= 0, got ${maxNewTokens}`);
  if (!(temperature >= 0)) throw new QkvError(`temperature must be a number >= 0, got ${temperature}`);
  const ids = Array.from(m.tokenizer.encode(prompt, 'the prompt')); // a character the vocabulary lacks: one line naming it and its position
  const gpt = m.model;
  const c = gpt.config;
  const P = ids.length;
  if (!P) throw new QkvError('the prompt is empty: it has no tokens');
  if (P > c.blockSize) throw new QkvError(`the prompt has ${P} tokens; the model reads at most ${c.blockSize} (its block size)`);
  if (P + maxNewTokens - 1 > c.blockSize) {
    throw new QkvError(`${P} prompt tokens and ${maxNewTokens} new ones need ${P + maxNewTokens - 1} positions, but the model's block size is ${c.blockSize}: at most ${c.blockSize - P + 1} new tokens`);
  }
  const H = c.nHead;
  const hd = c.nEmbd / H;
  const projection = (li: number) => {
    const attn = gpt.transformer.h.at(li).attn;
    return { W: attn.c_attn.weight, bias: attn.c_attn.bias, w: attn.additive_w };
  };
  const wasTraining = gpt.training;
  gpt.eval();
  try {
    // the prompt's causal self-attention, in one pass without caches
    const layers: LayerInspection[] = [];
    tidy(() => noGrad(() => lastLogits(gpt, ids, null, (li, r) => { layers[li] = layerJSON(r, projection(li), H, hd, c.nEmbd); })));
    const { steps, generated } = maxNewTokens ? generate(gpt, ids, maxNewTokens, temperature, seed) : { steps: [], generated: [] };
    const token = (id: number) => m.tokenizer.decode([id]);
    const tokens = m.tokenizer.kind === 'words' ? wordPieces(prompt) : ids.map(token);
    return {
      task: 'lm', input: 'words', tokens, keys: null,
      // a word model reads a word it never saw as <unk> (id 1); characters it lacks were refused above
      unknown: ids.map((id) => m.tokenizer.kind === 'words' && id === 1),
      edges: null, prediction: generated.map(token).join(''),
      model: { kind: 'gpt', attention: c.attention, pos: 'learned', layers: c.nLayer, heads: H, dModel: c.nEmbd, headDim: hd, window: null, normFirst: true, scale: 1 / Math.sqrt(hd), ...kindInfo(c.attention) },
      blocked: ids.map((_, i) => ids.map((__, j) => j > i)), // causal: query i never sees a later key
      layers, parts: null,
      generation: !maxNewTokens ? null : {
        tokens: [...tokens, ...generated.map(token)], prompt: P, sampling: temperature === 0 ? 'greedy' : `temperature ${temperature}, seed ${seed}`,
        steps: steps.map((s, k) => ({ ...s, next: token(generated[k]!) })),
      },
    };
  } finally {
    gpt.train(wasTraining);
  }
}

/** Generation with one decoding cache per layer, recording each step's attention as the cached forward computes it. */
function generate(gpt: GPT, prompt: number[], n: number, temperature: number, seed: number): { steps: Omit<GenerationStep, 'next'>[]; generated: number[] } {
  const caches = gpt.makeCaches(1);
  const generator = new Generator(seed);
  const steps: Omit<GenerationStep, 'next'>[] = [];
  const generated: number[] = [];
  try {
    noGrad(() => {
      let feed = prompt;
      for (let s = 0; s < n; s++) {
        const layers: GenerationHead[][] = [];
        const logits = lastLogits(gpt, feed, caches, (li, r) => { layers[li] = stepJSON(r, feed.length, caches[li]!); });
        steps.push({ position: prompt.length + s - 1, layers });
        const next = sampleNext(logits, { temperature, generator });
        generated.push(next);
        feed = [next];
      }
    });
  } finally {
    for (const cache of caches) cache.dispose();
  }
  return { steps, generated };
}

/** The last of the n queries of this call, per head, over every cached key; the n keys and values it appended. */
function stepJSON(r: LayerIntermediates, n: number, cache: DecodingCache): GenerationHead[] {
  const H = r.q.shape[1]!;
  const S = r.k.shape[2]!; // cached positions, this call's included
  const last = (t: Tensor, h: number): number[] => t.select(0, 0).select(0, h).select(0, t.shape[2]! - 1).toArray() as number[];
  const added = (t: Tensor, h: number): number[][] => (t.select(0, 0).select(0, h).toArray() as number[][]).slice(S - n);
  const state = cache instanceof LinearAttentionState ? stateJSON(cache) : null;
  return Array.from({ length: H }, (_, h) => ({
    q: last(r.q, h), k: added(r.k, h), v: added(r.v, h),
    alpha: r.alpha ? last(r.alpha, h) : null, alphaPrime: r.alphaPrime ? last(r.alphaPrime, h) : null, b: last(r.b, h),
    state: state ? { S: state.S[h]!, z: state.z[h]! } : null,
  }));
}
