// Fused exact softmax attention, FlashAttention-style (Dao et al., 2022; FlashAttention-2's
// loop order in the backward pass). Over contiguous per-head arrays q [bh, n, d], k [bh, s, d],
// v [bh, s, dv], the forward pass computes
//   out_i = Σ_j p_ij v_j,   p_ij = exp(scale·q_i·k_j − lse_i),   lse_i = log Σ_j exp(scale·q_i·k_j)
// over the keys j that query i may see, one tile of BR queries × BC keys at a time with an
// online softmax (a running max m_i and sum l_i per query, the accumulator rescaled by
// exp(m_old − m_new) when the max grows), and saves lse_i = m_i + log l_i. The n×s matrix of
// scores is never formed: scratch is a few tiles, so memory is O(n + s) per head.
//
// The backward pass recomputes p tile by tile from q, k and the saved lse:
//   D_i = dOut_i·out_i,  dv_j = Σ_i p_ij dOut_i,  dp_ij = dOut_i·v_j,  ds_ij = p_ij (dp_ij − D_i),
//   dq_i = scale Σ_j ds_ij k_j,  dk_j = scale Σ_i ds_ij q_i.
// It runs two sweeps so that every sum is accumulated in a float64 tile and written once:
// keys outer / queries inner for dk and dv, then queries outer / keys inner for dq (p is
// recomputed twice; this is the oracle, where precision beats speed).
//
// Visibility (see FlashAttentionArgs): query i sits at key position pos = i + (s − n); key j is
// hidden when `causal` and j > pos, when window >= 0 and |pos − j| > window, or when
// keyPadding[(b / heads)·s + j] != 0. Tiles that causal/window hide entirely are skipped. Key
// tiles are aligned at multiples of BC whatever the query tiling, so each query's result is
// the same whether it is computed alone (a KV-cache decoding step) or with the others.
// A query that sees no key gets out = 0, lse = −Infinity and zero gradients.
//
// Attention dropout (args.dropout): z_ij = Dropout's mask element (b·n + i)·s + j (0 or 1/(1−p)),
// out_i = Σ_j p_ij z_ij v_j (lse stays the undropped softmax's), and in the backward
// dv_j = Σ_i p_ij z_ij dOut_i, ds_ij = p_ij (z_ij dp_ij − D_i); D_i = dOut_i·out_i still equals
// Σ_j p_ij z_ij dp_ij, so nothing else changes.
import type { DropoutArgs, FlashAttentionArgs, FlashLayout, RowStrides } from '../contract.js';
import { dropoutBits } from './dropout.js';

/** Queries per tile. */
export const FLASH_BR = 16;
/** Keys per tile. */
export const FLASH_BC = 32;

/** Keys [lo, hi) that query position `pos` may see by causal/window (padding aside). */
function keyRange(pos: number, s: number, causal: boolean, window: number): [number, number] {
  let lo = 0;
  let hi = s;
  if (causal) hi = Math.min(hi, pos + 1);
  if (window >= 0) {
    lo = Math.max(lo, pos - window);
    hi = Math.min(hi, pos + window + 1);
  }
  lo = Math.min(lo, s);
  return [lo, Math.max(lo, hi)];
}

/** Queries [lo, hi) (indices, not positions) that may see some key in [j0, j1) by causal/window. */
function queryRange(j0: number, j1: number, n: number, shift: number, causal: boolean, window: number): [number, number] {
  let lo = 0;
  let hi = n;
  if (causal) lo = Math.max(lo, j0 - shift); // pos >= j for some j in the tile: pos >= j0
  if (window >= 0) {
    lo = Math.max(lo, j0 - window - shift); // pos >= j0 - window
    hi = Math.min(hi, j1 - 1 + window - shift + 1); // pos <= j1 - 1 + window
  }
  lo = Math.min(lo, n);
  return [lo, Math.max(lo, hi)];
}

/** A visibility test for one (bh) slice: does query position `pos` see key j? */
function visibility(args: FlashAttentionArgs, keyPadding: Int32Array | null, b: number): (pos: number, j: number) => boolean {
  const { causal, window, heads, s } = args;
  const padBase = keyPadding ? Math.floor(b / heads) * s : 0;
  return (pos, j) => !((causal && j > pos) || (window >= 0 && Math.abs(pos - j) > window) || (keyPadding !== null && keyPadding[padBase + j] !== 0));
}

/** z(b, i, j): the dropout factor of weight (b, i, j), 1 without dropout. */
function dropoutFactor(dropout: DropoutArgs | null | undefined, n: number, s: number): (b: number, i: number, j: number) => number {
  if (!dropout) return () => 1;
  const { key0, key1, threshold } = dropout;
  const scale = Math.fround(dropout.scale);
  return (b, i, j) => (dropoutBits(key0, key1, ((b * n + i) * s + j) >>> 0) >>> 8 >= threshold ? scale : 0);
}

/** The operands' strides: args.layout, or each operand contiguous per head ([bh, rows, d]). */
export function flashLayout(a: FlashAttentionArgs): FlashLayout {
  if (a.layout) return a.layout;
  const per = (rows: number, d: number): RowStrides => ({ batch: a.heads * rows * d, head: rows * d, row: d });
  return { q: per(a.n, a.d), k: per(a.s, a.d), v: per(a.s, a.dv), out: per(a.n, a.dv), dOut: per(a.n, a.dv) };
}

/** Where slice bh's rows start in an operand of strides r. */
const sliceBase = (r: RowStrides, bh: number, heads: number): number => Math.floor(bh / heads) * r.batch + (bh % heads) * r.head;

/** Throws a RangeError unless 0 <= bh0 <= bh1 <= bh (a kernel must never write outside its slices). */
export function checkArgs(name: string, a: FlashAttentionArgs): void {
  if (!(a.bh0 >= 0 && a.bh0 <= a.bh1 && a.bh1 <= a.bh)) throw new RangeError(`${name}: slice range [${a.bh0}, ${a.bh1}) is not inside [0, ${a.bh})`);
}

/** out = softmax(scale·q kᵀ + masks) v and lse per query, for slices bh0 <= b < bh1. */
export function flashAttention(q: Float32Array, k: Float32Array, v: Float32Array, keyPadding: Int32Array | null,
  args: FlashAttentionArgs, out: Float32Array, lse: Float32Array): void {
  checkArgs('FlashAttention', args);
  const { n, s, d, dv, scale, causal, window, bh0, bh1 } = args;
  const shift = s - n;
  const m = new Float64Array(FLASH_BR); // running max of each query's scores
  const l = new Float64Array(FLASH_BR); // running sum of exp(score - m)
  const acc = new Float64Array(FLASH_BR * dv); // running Σ exp(score - m) v_j
  const sc = new Float64Array(FLASH_BC); // one query's scores in the current key tile
  const z = dropoutFactor(args.dropout, n, s);
  const L = flashLayout(args);
  const [qT, kT, vT, oT] = [L.q.row, L.k.row, L.v.row, L.out.row];
  for (let b = bh0; b < bh1; b++) {
    const sees = visibility(args, keyPadding, b);
    const qb = sliceBase(L.q, b, args.heads);
    const kb = sliceBase(L.k, b, args.heads);
    const vb = sliceBase(L.v, b, args.heads);
    const ob = sliceBase(L.out, b, args.heads);
    for (let i0 = 0; i0 < n; i0 += FLASH_BR) {
      const i1 = Math.min(n, i0 + FLASH_BR);
      m.fill(-Infinity);
      l.fill(0);
      acc.fill(0);
      // the keys this query tile may see: from the first query's lowest to the last one's highest
      const jlo = keyRange(i0 + shift, s, causal, window)[0];
      const jhi = keyRange(i1 - 1 + shift, s, causal, window)[1];
      for (let j0 = Math.floor(jlo / FLASH_BC) * FLASH_BC; j0 < jhi; j0 += FLASH_BC) {
        const j1 = Math.min(s, j0 + FLASH_BC);
        for (let i = i0; i < i1; i++) {
          const r = i - i0;
          const pos = i + shift;
          // scores of query i against the tile, -Infinity where hidden
          let tileMax = -Infinity;
          for (let j = j0; j < j1; j++) {
            let x = -Infinity;
            if (sees(pos, j)) {
              let dot = 0;
              for (let c = 0; c < d; c++) dot += q[qb + i * qT + c]! * k[kb + j * kT + c]!;
              x = scale * dot;
              if (x > tileMax) tileMax = x;
            }
            sc[j - j0] = x;
          }
          if (tileMax === -Infinity) continue; // nothing visible here: the row's state is unchanged
          const mNew = Math.max(m[r]!, tileMax);
          const rescale = Math.exp(m[r]! - mNew); // 0 on the first visible tile (m = -Infinity)
          let sum = 0;
          const a = r * dv;
          for (let c = 0; c < dv; c++) acc[a + c]! *= rescale;
          for (let j = j0; j < j1; j++) {
            const x = sc[j - j0]!;
            if (x === -Infinity) continue;
            const p = Math.exp(x - mNew);
            sum += p;
            const pz = p * z(b, i, j);
            const vj = vb + j * vT;
            for (let c = 0; c < dv; c++) acc[a + c]! += pz * v[vj + c]!;
          }
          l[r] = l[r]! * rescale + sum;
          m[r] = mNew;
        }
      }
      for (let i = i0; i < i1; i++) {
        const r = i - i0;
        const o = ob + i * oT;
        if (l[r] === 0) {
          for (let c = 0; c < dv; c++) out[o + c] = 0;
          lse[b * n + i] = -Infinity;
        } else {
          const inv = 1 / l[r]!;
          for (let c = 0; c < dv; c++) out[o + c] = acc[r * dv + c]! * inv;
          lse[b * n + i] = m[r]! + Math.log(l[r]!);
        }
      }
    }
  }
}

/** dq, dk, dv (overwritten) for slices bh0 <= b < bh1, recomputing p from q, k and lse. */
export function flashAttentionGrad(q: Float32Array, k: Float32Array, v: Float32Array, keyPadding: Int32Array | null,
  out: Float32Array, lse: Float32Array, dOut: Float32Array, args: FlashAttentionArgs,
  dq: Float32Array, dk: Float32Array, dv: Float32Array): void {
  checkArgs('FlashAttentionGrad', args);
  const { n, s, d, dv: dvDim, scale, causal, window, bh0, bh1 } = args;
  const shift = s - n;
  const D = new Float64Array(FLASH_BR); // D_i = dOut_i·out_i of the current query tile
  const dkAcc = new Float64Array(FLASH_BC * d);
  const dvAcc = new Float64Array(FLASH_BC * dvDim);
  const dqAcc = new Float64Array(FLASH_BR * d);
  const z = dropoutFactor(args.dropout, n, s);
  const L = flashLayout(args);
  const [qT, kT, vT, oT, gT] = [L.q.row, L.k.row, L.v.row, L.out.row, L.dOut.row];

  for (let b = bh0; b < bh1; b++) {
    const sees = visibility(args, keyPadding, b);
    const qb = sliceBase(L.q, b, args.heads); // dq lies as q, dk as k, dv as v
    const kb = sliceBase(L.k, b, args.heads);
    const vb = sliceBase(L.v, b, args.heads);
    const ob = sliceBase(L.out, b, args.heads);
    const gb = sliceBase(L.dOut, b, args.heads);
    // p_ij, or 0 when hidden (or when query i sees nothing: lse = -Infinity)
    const prob = (i: number, j: number, li: number): number => {
      if (li === -Infinity || !sees(i + shift, j)) return 0;
      let dot = 0;
      for (let c = 0; c < d; c++) dot += q[qb + i * qT + c]! * k[kb + j * kT + c]!;
      return Math.exp(scale * dot - li);
    };
    const dotDoutV = (i: number, j: number): number => {
      let dp = 0;
      for (let c = 0; c < dvDim; c++) dp += dOut[gb + i * gT + c]! * v[vb + j * vT + c]!;
      return dp;
    };
    const loadD = (i0: number, i1: number): void => {
      for (let i = i0; i < i1; i++) {
        let x = 0;
        for (let c = 0; c < dvDim; c++) x += dOut[gb + i * gT + c]! * out[ob + i * oT + c]!;
        D[i - i0] = x;
      }
    };

    // sweep 1, keys outer: dk_j and dv_j summed over the query tiles that see key tile j
    for (let j0 = 0; j0 < s; j0 += FLASH_BC) {
      const j1 = Math.min(s, j0 + FLASH_BC);
      dkAcc.fill(0);
      dvAcc.fill(0);
      const [ilo, ihi] = queryRange(j0, j1, n, shift, causal, window);
      for (let i0 = Math.floor(ilo / FLASH_BR) * FLASH_BR; i0 < ihi; i0 += FLASH_BR) {
        const i1 = Math.min(n, i0 + FLASH_BR);
        loadD(i0, i1);
        for (let i = i0; i < i1; i++) {
          const li = lse[b * n + i]!;
          if (li === -Infinity) continue;
          const go = gb + i * gT;
          for (let j = j0; j < j1; j++) {
            const p = prob(i, j, li);
            if (p === 0) continue;
            const zij = z(b, i, j);
            const a = (j - j0) * dvDim;
            for (let c = 0; c < dvDim; c++) dvAcc[a + c]! += p * zij * dOut[go + c]!;
            const ds = p * (zij * dotDoutV(i, j) - D[i - i0]!);
            const e = (j - j0) * d;
            for (let c = 0; c < d; c++) dkAcc[e + c]! += ds * q[qb + i * qT + c]!;
          }
        }
      }
      for (let j = j0; j < j1; j++) {
        for (let c = 0; c < d; c++) dk[kb + j * kT + c] = scale * dkAcc[(j - j0) * d + c]!;
        for (let c = 0; c < dvDim; c++) dv[vb + j * vT + c] = dvAcc[(j - j0) * dvDim + c]!;
      }
    }

    // sweep 2, queries outer: dq_i summed over the key tiles query tile i sees
    for (let i0 = 0; i0 < n; i0 += FLASH_BR) {
      const i1 = Math.min(n, i0 + FLASH_BR);
      dqAcc.fill(0);
      loadD(i0, i1);
      const jlo = keyRange(i0 + shift, s, causal, window)[0];
      const jhi = keyRange(i1 - 1 + shift, s, causal, window)[1];
      for (let j0 = Math.floor(jlo / FLASH_BC) * FLASH_BC; j0 < jhi; j0 += FLASH_BC) {
        const j1 = Math.min(s, j0 + FLASH_BC);
        for (let i = i0; i < i1; i++) {
          const li = lse[b * n + i]!;
          if (li === -Infinity) continue;
          const a = (i - i0) * d;
          for (let j = j0; j < j1; j++) {
            const p = prob(i, j, li);
            if (p === 0) continue;
            const ds = p * (z(b, i, j) * dotDoutV(i, j) - D[i - i0]!);
            for (let c = 0; c < d; c++) dqAcc[a + c]! += ds * k[kb + j * kT + c]!;
          }
        }
      }
      for (let i = i0; i < i1; i++) {
        for (let c = 0; c < d; c++) dq[qb + i * qT + c] = scale * dqAcc[(i - i0) * d + c]!;
      }
    }
  }
}
