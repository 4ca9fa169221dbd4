// FlashAttention forward and backward on native (native/src/attention.h): one task per
// (batch·head) slice of [bh0, bh1), each with O(s·d) scratch of its thread; never an n×s buffer.
import type { KernelSignatures } from '../contract.js';
import { checkArgs } from '../ref/flash-attention.js';
import { ptr } from '../wasm/util.js';
import { enter, fall, type NativeContext } from './context.js';

export function attentionKernels(ctx: NativeContext): Pick<KernelSignatures, 'FlashAttention' | 'FlashAttentionGrad'> {
  const { addon, mem } = ctx;
  const wasmForward = fall(ctx, 'FlashAttention');
  const wasmBackward = fall(ctx, 'FlashAttentionGrad');
  return {
    FlashAttention: (q, k, v, keyPadding, a, out, lse) => {
      checkArgs('FlashAttention', a);
      if (!mem.holds(q, k, v, out, lse) || (keyPadding && !mem.holdsInt(keyPadding))) return wasmForward(q, k, v, keyPadding, a, out, lse);
      if (a.bh1 <= a.bh0) return;
      enter(ctx);
      addon.flash(ptr(q), ptr(k), ptr(v), keyPadding ? keyPadding.byteOffset : -1, ptr(out), ptr(lse), -1, -1, -1, -1,
        a.heads, a.n, a.s, a.d, a.dv, a.scale, a.causal ? 1 : 0, a.window, a.bh0, a.bh1, false);
    },
    FlashAttentionGrad: (q, k, v, keyPadding, out, lse, dOut, a, dq, dk, dv) => {
      checkArgs('FlashAttentionGrad', a);
      if (!mem.holds(q, k, v, out, lse, dOut, dq, dk, dv) || (keyPadding && !mem.holdsInt(keyPadding))) {
        return wasmBackward(q, k, v, keyPadding, out, lse, dOut, a, dq, dk, dv);
      }
      if (a.bh1 <= a.bh0) return;
      enter(ctx);
      addon.flash(ptr(q), ptr(k), ptr(v), keyPadding ? keyPadding.byteOffset : -1, ptr(out), ptr(lse), ptr(dOut), ptr(dq), ptr(dk), ptr(dv),
        a.heads, a.n, a.s, a.d, a.dv, a.scale, a.causal ? 1 : 0, a.window, a.bh0, a.bh1, true);
    },
  };
}
