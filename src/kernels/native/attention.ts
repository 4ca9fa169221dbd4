// FlashAttention forward and backward on native (native/src/attention.h): one task per
// (batch·head) slice of [bh0, bh1), each with O(s·d) scratch of its thread; never an n×s buffer.
// KVAttentionStep (a decoding step on a KV cache) runs the same forward on each head's cache rows.
import type { FlashAttentionArgs, KernelSignatures } from '../contract.js';
import { checkArgs, flashAttention, flashAttentionGrad } from '../ref/flash-attention.js';
import { checkKVStepArgs, kvAttentionStep } from '../ref/kv-attention.js';
import { ptr } from '../wasm/util.js';
import { enter, fall, type NativeContext } from './context.js';

/**
 * Below this many query-key-dimension products (n·s·d over the slices) the call stays on wasm:
 * a decoding step (one query over the cache) costs less there than the Node-API crossing and the
 * pool's wake-up.
 */
const MIN_WORK = 1 << 16;

/** The addon's trailing arguments: dropout's four (or none), then the layout's 15 strides (or none). */
function tail(a: FlashAttentionArgs): (number | undefined)[] {
  const drop = a.dropout ? [a.dropout.key0, a.dropout.key1, a.dropout.threshold, a.dropout.scale] : [undefined, undefined, undefined, undefined];
  const L = a.layout;
  if (!L) return a.dropout ? drop : [];
  return [...drop, ...[L.q, L.k, L.v, L.out, L.dOut].flatMap((r) => [r.batch, r.head, r.row])];
}

export function attentionKernels(ctx: NativeContext): Pick<KernelSignatures, 'FlashAttention' | 'FlashAttentionGrad' | 'KVAttentionStep'> {
  const { addon, mem } = ctx;
  const small = (a: { n: number; s: number; d: number; bh0: number; bh1: number }) => !ctx.tiny && a.n * a.s * a.d * (a.bh1 - a.bh0) < MIN_WORK;
  const wasmForward = fall(ctx, 'FlashAttention');
  const wasmBackward = fall(ctx, 'FlashAttentionGrad');
  return {
    KVAttentionStep: (qkv, kCache, vCache, a, out) => {
      checkKVStepArgs('KVAttentionStep', qkv, kCache, vCache, a, out);
      if (!mem.holds(qkv, kCache, vCache, out)) return kvAttentionStep(qkv, kCache, vCache, a, out);
      enter(ctx);
      addon.kvStep(ptr(qkv), ptr(kCache), ptr(vCache), ptr(out), a.batch, a.heads, a.d, a.capacity, a.pos, a.scale);
    },
    FlashAttention: (q, k, v, keyPadding, a, out, lse) => {
      checkArgs('FlashAttention', a);
      // a strided layout stays here (wasm's kernel takes none); memory outside the heap goes to the reference's
      if (!mem.holds(q, k, v, out, lse) || (keyPadding && !mem.holdsInt(keyPadding))) {
        return (a.layout ? flashAttention : wasmForward)(q, k, v, keyPadding, a, out, lse);
      }
      if (small(a) && !a.layout) return wasmForward(q, k, v, keyPadding, a, out, lse);
      if (a.bh1 <= a.bh0) return;
      enter(ctx);
      addon.flash(ptr(q), ptr(k), ptr(v), keyPadding ? keyPadding.byteOffset : -1, ptr(out), ptr(lse), -1, -1, -1, -1,
        a.heads, a.n, a.s, a.d, a.dv, a.scale, a.causal ? 1 : 0, a.window, a.bh0, a.bh1, false, ...tail(a));
    },
    FlashAttentionGrad: (q, k, v, keyPadding, out, lse, dOut, a, dq, dk, dv) => {
      checkArgs('FlashAttentionGrad', a);
      if (!mem.holds(q, k, v, out, lse, dOut, dq, dk, dv) || (keyPadding && !mem.holdsInt(keyPadding))) {
        return (a.layout ? flashAttentionGrad : wasmBackward)(q, k, v, keyPadding, out, lse, dOut, a, dq, dk, dv);
      }
      if (small(a) && !a.layout) return wasmBackward(q, k, v, keyPadding, out, lse, dOut, a, dq, dk, dv);
      if (a.bh1 <= a.bh0) return;
      enter(ctx);
      addon.flash(ptr(q), ptr(k), ptr(v), keyPadding ? keyPadding.byteOffset : -1, ptr(out), ptr(lse), ptr(dOut), ptr(dq), ptr(dk), ptr(dv),
        a.heads, a.n, a.s, a.d, a.dv, a.scale, a.causal ? 1 : 0, a.window, a.bh0, a.bh1, true, ...tail(a));
    },
  };
}
