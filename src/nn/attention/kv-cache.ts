// A key/value cache for step-by-step decoding with softmax attention: the keys and values of
// the positions already generated are kept, so each new token computes only its own q, k, v.
// Storage grows by doubling; attention reads a view of the filled part (no copy per step).
// step() is decoding's fast path: one position's fused q, k, v appended and attended in one
// kernel call (ops/kv-attention.ts) on a backend that has it.
import { OpError, shapeStr } from '../../core/errors.js';
import { zeros } from '../../ops/creation.js';
import { indexSelect } from '../../ops/embedding.js';
import { assign } from '../../ops/inplace.js';
import { hasKVAttentionStep, kvAttentionStep } from '../../ops/kv-attention.js';
import { slice } from '../../ops/views.js';
import { isGradEnabled, keep, noGrad } from '../../tensor/engine.js';
import type { Tensor } from '../../tensor/tensor.js';

export class KVCache {
  private k: Tensor | null = null; // (B, H, capacity, dk)
  private v: Tensor | null = null; // (B, H, capacity, dv)
  /** Positions cached so far. */
  length = 0;

  /** Appends k, v (B, H, T, d) of new positions; returns views of all cached keys and values. */
  append(k: Tensor, v: Tensor): { k: Tensor; v: Tensor } {
    const T = k.shape[2]!;
    if (this.k && (k.shape[0] !== this.k.shape[0] || k.shape[1] !== this.k.shape[1] || k.shape[3] !== this.k.shape[3])) {
      throw new OpError('KVCache', `keys of shape ${shapeStr(k.shape)} do not match the cache ${shapeStr(this.k.shape)}`);
    }
    noGrad(() => {
      const need = this.length + T;
      if (!this.k || need > this.k.shape[2]!) this.grow(k.shape[0]!, k.shape[1]!, k.shape[3]!, v.shape[3]!, Math.max(need, 2 * (this.k?.shape[2] ?? 16)));
      for (const [store, x] of [[this.k!, k], [this.v!, v]] as const) {
        const dst = slice(store, 2, this.length, need);
        assign(dst, x);
        dst.dispose();
      }
      this.length = need;
    });
    return { k: slice(this.k!, 2, 0, this.length), v: slice(this.v!, 2, 0, this.length) };
  }

  /**
   * Decoding's fast path: qkv (B, 1, 3·heads·d), one new position's q, k, v side by side (a fused
   * projection such as GPT's c_attn), is appended and attended in one kernel call -> (B, 1, heads·d),
   * the heads side by side. Null (nothing appended) where that does not apply: gradients on, a
   * backend without the fused kernel, or keys and values of another size than queries.
   */
  step(qkv: Tensor, heads: number): Tensor | null {
    const [B, T, C3] = qkv.shape as [number, number, number];
    const d = C3 / 3 / heads;
    if (qkv.rank !== 3 || T !== 1 || !Number.isInteger(d) || isGradEnabled() || !hasKVAttentionStep(qkv)) return null;
    if (this.k && (this.k.shape[0] !== B || this.k.shape[1] !== heads || this.k.shape[3] !== d || this.v!.shape[3] !== d)) {
      throw new OpError('KVCache', `one position of shape ${shapeStr([B, heads, 1, d])} does not match the cache ${shapeStr(this.k.shape)}`);
    }
    if (!this.k || this.length + 1 > this.k.shape[2]!) noGrad(() => this.grow(B, heads, d, d, Math.max(this.length + 1, 2 * (this.k?.shape[2] ?? 16))));
    const out = kvAttentionStep(qkv, this.k!, this.v!, this.length);
    this.length++;
    return out;
  }

  private grow(B: number, H: number, dk: number, dv: number, capacity: number): void {
    const nk = keep(zeros([B, H, capacity, dk]));
    const nv = keep(zeros([B, H, capacity, dv]));
    if (this.k && this.v && this.length) {
      for (const [dst, src] of [[nk, this.k], [nv, this.v]] as const) {
        const d = slice(dst, 2, 0, this.length);
        const s = slice(src, 2, 0, this.length);
        assign(d, s);
        d.dispose();
        s.dispose();
      }
    }
    this.k?.dispose();
    this.v?.dispose();
    this.k = nk;
    this.v = nv;
  }

  /**
   * Beam search: sequence i of the cache continues the old sequence index[i] (hypotheses that
   * fork share their past). The batch becomes index.length.
   */
  reorder(index: ArrayLike<number>): void {
    if (!this.k || !this.v) return;
    noGrad(() => {
      const k = keep(indexSelect(this.k!, index));
      const v = keep(indexSelect(this.v!, index));
      this.k!.dispose();
      this.v!.dispose();
      [this.k, this.v] = [k, v];
    });
  }

  /** Bytes held by the cache. */
  get bytes(): number {
    return (this.k?.size ?? 0) * 4 + (this.v?.size ?? 0) * 4;
  }

  dispose(): void {
    this.k?.dispose();
    this.v?.dispose();
    this.k = this.v = null;
    this.length = 0;
  }
}
