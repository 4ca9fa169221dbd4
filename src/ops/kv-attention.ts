// One decoding step of softmax attention on a KV cache as one kernel call (KVAttentionStep): the
// fused projection's output for one new position, qkv (B, 1, 3·H·d) = [q | k | v], writes its k and
// v into the caches (B, H, capacity, d) at `pos` and attends with its q over positions 0..pos,
// giving (B, 1, H·d) with the heads side by side (what c_proj takes). The unfused path
// (split, heads, append, flashAttention, heads back together) is a score of ops per layer and
// copies the cached keys and values each step. No gradient: decoding only.
import { OpError, shapeStr } from '../core/errors.js';
import { kernel } from '../kernels/registry.js';
import { Tensor } from '../tensor/tensor.js';
import { tidy } from '../tensor/engine.js';
import { checkDtype, checkTensor, contiguousTensor, f32, isWhole, ownerOf } from './util.js';

/** Whether `x`'s backend has the fused step itself (a backend without it takes the unfused path: nothing falls back to another backend's kernel). */
export function hasKVAttentionStep(x: Tensor): boolean {
  return x.backend.kernels.KVAttentionStep !== undefined;
}

/**
 * qkv (B, 1, 3·heads·d) -> (B, 1, heads·d); kCache, vCache (B, heads, capacity, d) whole tensors,
 * written in place at position `pos` (the caches' filled length before this step). `scale`
 * defaults to 1/sqrt(d).
 */
export function kvAttentionStep(qkv: Tensor, kCache: Tensor, vCache: Tensor, pos: number, scale?: number): Tensor {
  const op = 'kvAttentionStep';
  for (const [name, x] of [['qkv', qkv], ['kCache', kCache], ['vCache', vCache]] as const) {
    checkTensor(op, x, name);
    checkDtype(op, x, 'float32', name);
  }
  const [B, H, capacity, d] = kCache.shape as [number, number, number, number];
  if (kCache.rank !== 4 || vCache.shape.join() !== kCache.shape.join() || qkv.rank !== 3 || qkv.shape[0] !== B || qkv.shape[1] !== 1 ||
    qkv.shape[2] !== 3 * H * d) {
    throw new OpError(op, `qkv ${shapeStr(qkv.shape)}, kCache ${shapeStr(kCache.shape)}, vCache ${shapeStr(vCache.shape)}: qkv must be (B, 1, 3·H·d) for caches (B, H, capacity, d)`);
  }
  if (!Number.isInteger(pos) || pos < 0 || pos >= capacity) throw new OpError(op, `position ${pos} is outside the caches' capacity ${capacity}`);
  if (!isWhole(kCache) || !isWhole(vCache)) throw new OpError(op, 'kCache and vCache must be whole contiguous tensors (they are written in place)');
  const s = scale ?? 1 / Math.sqrt(d);
  if (!Number.isFinite(s)) throw new OpError(op, `scale must be a finite number, got ${String(scale)}`);
  const be = ownerOf(op, qkv, kCache, vCache);
  return tidy(() => {
    const out = Tensor.empty([B, 1, H * d], 'float32', be);
    const x = contiguousTensor(qkv);
    // typed arrays are read after every allocation (a WebAssembly memory may grow and move)
    kernel('KVAttentionStep', be)!(f32(x), f32(kCache), f32(vCache), { batch: B, heads: H, d, capacity, pos, scale: s }, f32(out));
    kCache.bumpVersion();
    vCache.bumpVersion();
    return out;
  });
}
