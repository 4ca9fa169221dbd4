// What a layer keeps between decoding steps: softmax attention keeps every past key and value
// (KVCache, memory and time per token grow with the position); linear attention keeps a
// constant-size state (S, z) and runs as an RNN (lecture §5, "Transformers are RNNs").
import { stack } from '../../ops/join.js';
import { LinearAttentionState } from '../../ops/linear-attention-state.js';
import { select } from '../../ops/views.js';
import { tidy } from '../../tensor/engine.js';
import type { Tensor } from '../../tensor/tensor.js';
import { ModuleError } from '../module.js';
import { KVCache } from './kv-cache.js';

export type DecodingCache = KVCache | LinearAttentionState;

/** Positions already seen by a cache. */
export function cachedLength(cache: DecodingCache | null | undefined): number {
  if (!cache) return 0;
  return cache instanceof KVCache ? cache.length : cache.steps;
}

/** Runs linear attention in its recurrent form over the L new positions of q, k, v (B, H, L, d). */
export function recurrentLinearAttention(state: DecodingCache, q: Tensor, k: Tensor, v: Tensor, module: string): Tensor {
  if (!(state instanceof LinearAttentionState)) throw new ModuleError(module, 'linear attention decodes with a LinearAttentionState, not a KVCache');
  return tidy(() => {
    const outs: Tensor[] = [];
    for (let t = 0; t < q.shape[2]!; t++) outs.push(state.step(select(q, 2, t), select(k, 2, t), select(v, 2, t))); // (B, H, dv)
    return stack(outs, 2); // (B, H, L, dv)
  });
}

/** A softmax-attention cache, checking it is the right kind. */
export function asKVCache(cache: DecodingCache, module: string): KVCache {
  if (!(cache instanceof KVCache)) throw new ModuleError(module, 'softmax attention decodes with a KVCache, not a LinearAttentionState');
  return cache;
}
