// Fused exact softmax attention (FlashAttention, Dao et al. 2022): the same values as
//   softmax(scale·Q Kᵀ + masks) V
// without ever forming the (L, S) weights. The kernels walk tiles of queries × keys with an
// online softmax and save only the output and one logsumexp per query; the gradient
// recomputes the weights tile by tile from Q, K and that logsumexp. Memory is O(L + S) per
// head instead of O(L·S), forward and backward.
//
// The masks it honours are the ones a kernel can test from indices alone:
//   - `causal`: query i (at key position i + S − L, so a cached past shifts it) sees keys j <= i + S − L;
//   - `window` w: it sees keys with |i + S − L − j| <= w (truncated attention);
//   - `keyPaddingMask` (B, S) int32, nonzero = padding: nobody sees key j of that sequence.
// An arbitrary (L, S) mask, a float (additive) mask or a graph adjacency needs the weights
// matrix: use nn.scaledDotProductAttention's naive path for those. A query that sees no key
// gets a zero output and zero gradients (PyTorch gives NaN there), as the naive path does.
// `dropout` p drops attention weights after the softmax (training), with Dropout's counter-based
// mask over the (B, H, L, S) weights (ops/dropout.ts): the kernels compute each weight's keep bit
// from the key and its index, so the result equals dropout(softmax(...), p) V with the same key
// and still nothing L×S is stored.
import { OpError, shapeStr } from '../core/errors.js';
import { defaultGenerator, dropoutThreshold, type Generator } from '../core/rng.js';
import { kernel } from '../kernels/registry.js';
import type { Backend, FlashAttentionArgs, FlashLayout, RowStrides } from '../kernels/contract.js';
import { record } from '../tensor/autograd.js';
import { tidy } from '../tensor/engine.js';
import { Tensor } from '../tensor/tensor.js';
import { checkDtype, checkTensor, contiguousTensor, f32, onHost, ownerOf } from './util.js';
import { select } from './views.js';

export interface FlashAttentionOptions {
  /** Query i sees keys j <= i + S − L only. Default false. */
  causal?: boolean;
  /** Truncated attention: query i sees keys with |i + S − L − j| <= window. Default none (null). */
  window?: number | null;
  /** (B, S) int32, nonzero = padding key (never attended to). */
  keyPaddingMask?: Tensor | null;
  /** Multiplies q·k; defaults to 1/sqrt(d). */
  scale?: number;
  /** Attention dropout's probability (0, the default: none); pass it only while training. */
  dropout?: number;
  /** Where the dropout mask's key comes from (default: the default generator). */
  generator?: Generator;
}

/**
 * Exact softmax attention of q (B, H, L, d), k (B, H, S, d), v (B, H, S, dv), all float32,
 * -> (B, H, L, dv), as one autograd node that saves q, k, v, the output and the (B, H, L)
 * logsumexp (nothing L×S).
 */
export function flashAttention(q: Tensor, k: Tensor, v: Tensor, options: FlashAttentionOptions = {}): Tensor {
  const op = 'flashAttention';
  const { keyPaddingMask = null } = options;
  checkInputs(op, q, k, v, keyPaddingMask);
  const [B, H, n, d] = q.shape as [number, number, number, number];
  const args = kernelArgs(op, B, H, n, k.shape[2]!, d, v.shape[3]!, options);
  const be = ownerOf(op, q, k, v, keyPaddingMask);
  if (be.stridedAttention && gapFree(q) && gapFree(k) && gapFree(v)) return separateStrided(op, q, k, v, args, be, keyPaddingMask);
  return tidy(() => {
    // the kernels read contiguous rows: copy views that are not (a KV cache's slice, transposes)
    const [qc, kc, vc] = [dense(q), dense(k), dense(v)];
    const mask = keyPaddingMask ? dense(keyPaddingMask) : null;
    const out = Tensor.empty([B, H, n, args.dv], 'float32', be);
    const lse = Tensor.empty([B, H, n], 'float32', be);
    // typed arrays are read after every allocation (a WebAssembly memory may grow and move)
    kernel('FlashAttention', be)(f32(qc), f32(kc), f32(vc), mask && i32(mask), args, f32(out), f32(lse));
    const saved = mask ? [qc, kc, vc, out, lse, mask] : [qc, kc, vc, out, lse];
    return record(op, [q, k, v], out, (g, [sq, sk, sv, so, sl, sm]) => {
      const gc = dense(g);
      const gbe = ownerOf(op, sq, g);
      const dq = Tensor.empty(sq!.shape, 'float32', gbe);
      const dk = Tensor.empty(sk!.shape, 'float32', gbe);
      const dvv = Tensor.empty(sv!.shape, 'float32', gbe);
      kernel('FlashAttentionGrad', gbe)(f32(sq!), f32(sk!), f32(sv!), sm ? i32(sm) : null, f32(so!), f32(sl!), f32(gc), args,
        f32(dq), f32(dk), f32(dvv));
      return [dq, dk, dvv];
    }, saved);
  });
}

/**
 * flashAttention of q, k, v packed in one tensor qkv (3, B, H, T, d): the heads of one fused
 * projection (GPT-2's c_attn) after a single permute. The kernels read the three parts where
 * they lie in one contiguous buffer, and the gradient is written into one (3, B, H, T, d)
 * buffer, so splitting the projection costs neither a copy of each of q, k, v forward nor three
 * zero-filled slice gradients summed backward. On a backend whose kernels take strided operands
 * (Backend.stridedAttention: native, ref) not even the permute is copied: qkv is read where the
 * projection wrote it and the output is written as (B, T, H, d) memory (see packedStrided).
 * Self-attention only (S = T). A device backend's buffers cannot be cut in place: there the
 * three parts go to flashAttention.
 */
export function flashAttentionPacked(qkv: Tensor, options: FlashAttentionOptions = {}): Tensor {
  const op = 'flashAttentionPacked';
  checkTensor(op, qkv, 'qkv');
  checkDtype(op, qkv, 'float32', 'qkv');
  if (qkv.rank !== 5 || qkv.shape[0] !== 3) throw new OpError(op, `qkv must be (3, B, H, T, d), got ${shapeStr(qkv.shape)}`);
  if (!onHost(qkv)) return tidy(() => flashAttention(select(qkv, 0, 0), select(qkv, 0, 1), select(qkv, 0, 2), options));
  const [, B, H, n, d] = qkv.shape as [number, number, number, number, number];
  const { keyPaddingMask = null } = options;
  if (keyPaddingMask) checkMask(op, keyPaddingMask, B, n, `q, k, v ${shapeStr([B, H, n, d])}`);
  const args = kernelArgs(op, B, H, n, n, d, d, options);
  const be = ownerOf(op, qkv, keyPaddingMask);
  if (be.stridedAttention && gapFree(qkv)) return packedStrided(op, qkv, args, be, keyPaddingMask);
  const part = B * H * n * d;
  const parts = (x: Float32Array) => [x.subarray(0, part), x.subarray(part, 2 * part), x.subarray(2 * part, 3 * part)] as const;
  return tidy(() => {
    const qc = dense(qkv); // one copy when qkv is the permuted view of a projection
    const mask = keyPaddingMask ? dense(keyPaddingMask) : null;
    const out = Tensor.empty([B, H, n, d], 'float32', be);
    const lse = Tensor.empty([B, H, n], 'float32', be);
    const [q, k, v] = parts(f32(qc)); // after every allocation (a WebAssembly memory may grow and move)
    kernel('FlashAttention', be)(q, k, v, mask && i32(mask), args, f32(out), f32(lse));
    const saved = mask ? [qc, out, lse, mask] : [qc, out, lse];
    return record(op, [qkv], out, (g, [sqkv, so, sl, sm]) => {
      const gc = dense(g);
      const gbe = ownerOf(op, sqkv, g);
      const dqkv = Tensor.empty(sqkv!.shape, 'float32', gbe);
      const [sq, sk, sv] = parts(f32(sqkv!));
      const [dq, dk, dv] = parts(f32(dqkv));
      kernel('FlashAttentionGrad', gbe)(sq, sk, sv, sm ? i32(sm) : null, f32(so!), f32(sl!), f32(gc), args, dq, dk, dv);
      return [dqkv];
    }, saved);
  });
}

/**
 * flashAttentionPacked on a backend whose kernels take strided operands: q, k, v are the three
 * (B, H, T, d) parts of qkv where they lie (the (B, T, 3, H, d) projection seen through a permute:
 * no copy), and the gradient is one buffer laid out as qkv, its parts dq, dk, dv.
 */
function packedStrided(op: string, qkv: Tensor, args: FlashAttentionArgs, be: Backend, keyPaddingMask: Tensor | null): Tensor {
  const parts = (x: Tensor) => [0, 1, 2].map((w) => x.makeView(x.shape.slice(1), x.strides.slice(1), x.offset + w * x.strides[0]!)) as Three;
  return stridedAttention(op, [qkv], ([x]) => parts(x!), ([x], on) => {
    const dqkv = like(x!, on);
    return { grads: [dqkv], parts: parts(dqkv) };
  }, args, be, keyPaddingMask);
}

/**
 * flashAttention on a backend whose kernels take strided operands: q, k, v read where they lie
 * (the heads of (B, T, H·d) projections seen through permutes: no copies), each gradient laid out
 * as its operand.
 */
function separateStrided(op: string, q: Tensor, k: Tensor, v: Tensor, args: FlashAttentionArgs, be: Backend, keyPaddingMask: Tensor | null): Tensor {
  return stridedAttention(op, [q, k, v], (xs) => xs.map((x) => x.makeView(x.shape, x.strides, x.offset)) as Three, (xs, on) => {
    const grads = xs.map((x) => like(x, on));
    return { grads, parts: grads.map((g) => g.makeView(g.shape, g.strides, g.offset)) as Three };
  }, args, be, keyPaddingMask);
}

type Three = [Tensor, Tensor, Tensor];

/**
 * The strided kernels on `inputs`: qkvOf gives the (B, H, ·, d) q, k, v views the kernels read,
 * gradsOf the inputs' gradients and the dq, dk, dv views into them (views made inside the tidy of
 * the forward or of the backward rule, which frees them).
 * The output is (B, L, H, dv) memory seen as (B, H, L, dv), so the caller's permute back to
 * (B, L, H·dv) is a view; a gradient of unit inner stride is read where it lies.
 */
function stridedAttention(op: string, inputs: Tensor[], qkvOf: (xs: Tensor[]) => Three,
  gradsOf: (xs: Tensor[], on: Backend) => { grads: Tensor[]; parts: Three }, args: FlashAttentionArgs, be: Backend, keyPaddingMask: Tensor | null): Tensor {
  const { bh, heads, n, dv } = args;
  const B = bh / heads;
  const rows = (x: Tensor): RowStrides => ({ batch: x.strides[0]!, head: x.strides[1]!, row: x.strides[2]! });
  const at = (x: Tensor) => (x.storage.data as Float32Array).subarray(x.offset); // after every allocation (a WebAssembly memory may grow and move)
  return tidy(() => {
    const mask = keyPaddingMask ? dense(keyPaddingMask) : null;
    const out = Tensor.empty([B, n, heads, dv], 'float32', be).makeView([B, heads, n, dv], [n * heads * dv, dv, heads * dv, 1], 0);
    const lse = Tensor.empty([B, heads, n], 'float32', be);
    const [q, k, v] = qkvOf(inputs);
    const layout: FlashLayout = { q: rows(q), k: rows(k), v: rows(v), out: rows(out), dOut: rows(out) };
    kernel('FlashAttention', be)(at(q), at(k), at(v), mask && i32(mask), { ...args, layout }, at(out), f32(lse));
    const saved = [...inputs, out, lse, ...(mask ? [mask] : [])];
    return record(op, inputs, out, (g, s) => {
      const xs = s.slice(0, inputs.length) as Tensor[];
      const [so, sl, sm] = s.slice(inputs.length);
      const gbe = ownerOf(op, xs[0], g);
      const gc = g.strides[3] === 1 ? g : dense(g);
      const [sq, sk, sv] = qkvOf(xs);
      const { grads, parts: [dq, dk, dvv] } = gradsOf(xs, gbe);
      kernel('FlashAttentionGrad', gbe)(at(sq), at(sk), at(sv), sm ? i32(sm) : null, at(so!), f32(sl!), at(gc),
        { ...args, layout: { ...layout, dOut: rows(gc) } }, at(dq), at(dk), at(dvv));
      if (gc !== g) gc.dispose();
      return grads;
    }, saved);
  });
}

/** A fresh tensor laid out as gap-free x (its shape and strides, offset 0). */
function like(x: Tensor, on: Backend): Tensor {
  return Tensor.empty([x.size], 'float32', on).makeView(x.shape, x.strides, 0);
}

/** x (offset aside) covers its memory exactly once, rows of unit stride: a permuted view of contiguous memory. */
function gapFree(x: Tensor): boolean {
  if (x.strides[x.rank - 1] !== 1) return false;
  const dims = x.shape.map((size, i) => ({ size, stride: x.strides[i]! })).filter((a) => a.size > 1).sort((a, b) => a.stride - b.stride);
  let expect = 1;
  for (const a of dims) {
    if (a.stride !== expect) return false;
    expect *= a.size;
  }
  return true;
}

/** The kernels' arguments, after checking the options. */
function kernelArgs(op: string, B: number, H: number, n: number, s: number, d: number, dv: number, options: FlashAttentionOptions): FlashAttentionArgs {
  const { causal = false } = options;
  const scale = options.scale ?? (d > 0 ? 1 / Math.sqrt(d) : 1);
  if (typeof causal !== 'boolean') throw new OpError(op, `causal must be a boolean, got ${String(causal)}`);
  const w = options.window ?? null;
  if (w !== null && (typeof w !== 'number' || !Number.isInteger(w) || w < 0)) {
    throw new OpError(op, `window must be a non-negative integer (or null for none), got ${String(w)}`);
  }
  const window = w ?? -1; // the kernels' "no window"
  if (typeof scale !== 'number' || !Number.isFinite(scale)) throw new OpError(op, `scale must be a finite number, got ${String(scale)}`);
  const p = options.dropout ?? 0;
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new OpError(op, `dropout must be in [0, 1], got ${String(options.dropout)}`);
  let dropout = null;
  if (p > 0) {
    const [key0, key1] = (options.generator ?? defaultGenerator).dropoutKey();
    dropout = { key0, key1, threshold: dropoutThreshold(p), scale: p === 1 ? 0 : 1 / (1 - p) };
  }
  return { bh: B * H, heads: H, n, s, d, dv, scale, causal, window, bh0: 0, bh1: B * H, dropout };
}

const dense = contiguousTensor;

function i32(x: Tensor): Int32Array {
  return x.buffer() as Int32Array;
}

function checkInputs(op: string, q: Tensor, k: Tensor, v: Tensor, mask: Tensor | null): void {
  for (const [name, x] of [['q', q], ['k', k], ['v', v]] as const) {
    checkTensor(op, x, name);
    checkDtype(op, x, 'float32', name);
  }
  const shapes = `q ${shapeStr(q.shape)}, k ${shapeStr(k.shape)}, v ${shapeStr(v.shape)}`;
  if (q.rank !== 4 || k.rank !== 4 || v.rank !== 4) throw new OpError(op, `${shapes}: each must be (B, H, N, d)`);
  const [B, H, , d] = q.shape;
  const [Bk, Hk, s, dk] = k.shape;
  if (Bk !== B || Hk !== H || dk !== d) throw new OpError(op, `${shapes}: q and k must agree on batch, heads and d`);
  if (v.shape[0] !== B || v.shape[1] !== H || v.shape[2] !== s) throw new OpError(op, `${shapes}: k and v must agree on batch, heads and length`);
  if (mask) checkMask(op, mask, B!, s!, `k ${shapeStr(k.shape)}`);
}

function checkMask(op: string, mask: Tensor, B: number, s: number, what: string): void {
  checkTensor(op, mask, 'keyPaddingMask');
  if (mask.dtype !== 'int32') {
    throw new OpError(op, `keyPaddingMask must be int32 (nonzero = padding), got ${mask.dtype}; a float mask is added to the scores and needs the weights matrix (nn.scaledDotProductAttention)`);
  }
  if (mask.rank !== 2 || mask.shape[0] !== B || mask.shape[1] !== s) {
    throw new OpError(op, `keyPaddingMask of shape ${shapeStr(mask.shape)} must be (B, S) = [${B}, ${s}] for ${what}`);
  }
}
