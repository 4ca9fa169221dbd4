// One decoding step of softmax attention on a KV cache (KVStepArgs in contract.ts): the new
// position's k and v go into the caches at `pos`, then each head's one query attends to the
// cached positions 0..pos with FlashAttention's arithmetic (the same function, on that head's
// rows of the caches, which lie `capacity` rows apart), so a fused step and the unfused one
// (append, then flashAttention on the cache) agree.
import type { KVStepArgs } from '../contract.js';
import { flashAttention } from './flash-attention.js';

/** Throws a RangeError unless the arrays hold what args say (a kernel must never write outside them). */
export function checkKVStepArgs(name: string, qkv: Float32Array, kCache: Float32Array, vCache: Float32Array, a: KVStepArgs, out: Float32Array): void {
  const { batch, heads, d, capacity, pos } = a;
  const c = heads * d;
  if (!(pos >= 0 && pos < capacity) || qkv.length < batch * 3 * c || kCache.length < batch * heads * capacity * d ||
    vCache.length < batch * heads * capacity * d || out.length < batch * c) {
    throw new RangeError(`${name}: position ${pos} of capacity ${capacity}, or arrays too short for batch ${batch}, heads ${heads}, d ${d}`);
  }
}

export function kvAttentionStep(qkv: Float32Array, kCache: Float32Array, vCache: Float32Array, a: KVStepArgs, out: Float32Array): void {
  checkKVStepArgs('KVAttentionStep', qkv, kCache, vCache, a, out);
  const { batch, heads, d, capacity, pos, scale } = a;
  const c = heads * d;
  const s = pos + 1;
  const lse = new Float32Array(1);
  const args = { bh: 1, heads: 1, n: 1, s, d, dv: d, scale, causal: false, window: -1, bh0: 0, bh1: 1 };
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      const row = b * 3 * c + h * d; // this head's q in qkv; its k and v follow c and 2c later
      const base = (b * heads + h) * capacity * d;
      kCache.set(qkv.subarray(row + c, row + c + d), base + pos * d);
      vCache.set(qkv.subarray(row + 2 * c, row + 2 * c + d), base + pos * d);
      flashAttention(qkv.subarray(row, row + d), kCache.subarray(base, base + s * d), vCache.subarray(base, base + s * d), null, args,
        out.subarray(b * c + h * d, b * c + (h + 1) * d), lse);
    }
  }
}
