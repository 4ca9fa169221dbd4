// What a layer keeps between decoding steps. Each attention kind makes its own (kinds/):
// softmax, ReLU and additive attention keep every past key and value (KVCache: memory and time
// per token grow with the position); linear attention keeps a constant-size state (S, z) and
// runs as an RNN (LinearAttentionState; lecture §5, "Transformers are RNNs").
import { ModuleError } from '../module.js';
import { KVCache } from './kv-cache.js';

export interface DecodingCache {
  /** Positions seen so far. */
  readonly length: number;
  /** Beam search: sequence i continues the old sequence index[i]. */
  reorder(index: ArrayLike<number>): void;
  dispose(): void;
}

/** Positions already seen by a cache. */
export function cachedLength(cache: DecodingCache | null | undefined): number {
  return cache?.length ?? 0;
}

/** A cache of keys and values, checking it is one (for the kinds that keep them). */
export function asKVCache(cache: DecodingCache, module: string): KVCache {
  if (!(cache instanceof KVCache)) throw new ModuleError(module, `this attention decodes with a KVCache, not a ${cache.constructor.name}`);
  return cache;
}
