// Fused exact softmax attention, FlashAttention-style (Dao et al. 2022; the loop order of
// FlashAttention-2): per batch×head slice, queries in blocks of QB = 4 rows and keys in blocks of
// kb = 16, 32 or 64 columns (the caller picks: narrow blocks let causal and window masks skip
// more of a short sequence, wide ones cost less bookkeeping on long ones); the scores of one
// block (4×kb) are made by a 4×8 register micro-kernel, turned
// into probabilities with a running max and sum (online softmax), and multiplied into the output
// at once, so no n×s matrix ever exists. The forward saves lse = m + log l per query; the backward
// recomputes each block's probabilities from it. Semantics: src/kernels/contract.ts (FlashAttention).
//
// Layouts: q [bh, n, d], k [bh, s, d], v [bh, s, dv], out/dOut [bh, n, dv], lse [bh, n], keyPadding
// int32 [B, s] (0 when absent). Kᵀ (and Vᵀ in the backward) of the slice are first written into
// the caller's scratch, d × sPad with zero columns up to a multiple of 8, so the score
// micro-kernel reads 8 consecutive keys per vector load. Scratch: flash_scratch_bytes().
import { accumulate4, expRow, LD, maskRow, NEG_INF, rowMax, scaleRow, tile4, transpose, update4T } from './attention-tiles';
import { dropFactors4, dropRow } from './random';
import { splat } from './simd';

const QB = 4;

// @ts-ignore: decorator
@inline function pad8(x: i32): i32 {
  return (x + 7) & ~7;
}

// @ts-ignore: decorator
@inline function align64(x: usize): usize {
  return (x + 63) & ~(<usize>63);
}

/** Scratch bytes one thread needs for slices of this shape (forward and backward). */
export function flash_scratch_bytes(n: i32, s: i32, d: i32, dv: i32): usize {
  const sp = <usize>pad8(s);
  return align64(<usize>d * sp * 4) + align64(<usize>dv * sp * 4) + 2 * align64(QB * LD * 4) + align64(<usize>QB * <usize>dv * 4)
    + align64(<usize>LD * <usize>d * 4) + align64(<usize>LD * <usize>dv * 4) + align64(<usize>n * 4) + 64;
}

/** Keys query i may see: [lo, hi] from the causal and window rules (lo > hi: none). */
// @ts-ignore: decorator
@inline function loOf(i: i32, shift: i32, window: i32): i32 {
  return window >= 0 ? max(0, i + shift - window) : 0;
}

// @ts-ignore: decorator
@inline function hiOf(i: i32, shift: i32, s: i32, causal: bool, window: i32): i32 {
  let hi = s - 1;
  if (causal) hi = min(hi, i + shift);
  if (window >= 0) hi = min(hi, i + shift + window);
  return hi;
}

/**
 * `drop`: 0, or the address of attention dropout's key block (key0, key1, threshold, scale; DropoutArgs):
 * weight (b, i, j) is then multiplied by mask element (b·n + i)·s + j after the softmax.
 */
export function flash_forward(q: usize, k: usize, v: usize, keyPadding: usize, heads: i32, n: i32, s: i32, d: i32, dv: i32,
  scale: f32, causal: i32, window: i32, kb: i32, bh0: i32, bh1: i32, out: usize, lse: usize, scratch: usize, drop: usize): void {
  const sp = pad8(s);
  const kt = align64(scratch);
  const t = kt + align64(<usize>d * <usize>sp * 4);
  const acc = t + align64(QB * LD * 4);
  const accB = <usize>dv << 2;
  const dB = <usize>d << 2;
  const shift = s - n;
  // per query row of the block: running max m, running sum l, visible keys lo..hi (this thread's scratch)
  const small = acc + align64(<usize>QB * accB) + align64(<usize>LD * <usize>d * 4) + align64(<usize>LD * <usize>dv * 4) + align64(<usize>n * 4);
  const m = small;
  const l = small + 16;
  const lo = small + 32;
  const hi = small + 48;
  for (let b = bh0; b < bh1; b++) {
    const qb = q + <usize>b * <usize>n * dB;
    const ob = out + <usize>b * <usize>n * accB;
    const vb = v + <usize>b * <usize>s * accB;
    const pad = keyPadding == 0 ? 0 : keyPadding + <usize>(b / heads) * <usize>s * 4;
    transpose(k + <usize>b * <usize>s * dB, s, d, kt, sp);
    for (let i0 = 0; i0 < n; i0 += QB) {
      const rows = min(QB, n - i0);
      let jlo = s;
      let jhi = -1;
      for (let r = 0; r < QB; r++) {
        const ro = <usize>r << 2;
        const rlo = loOf(i0 + r, shift, window);
        const rhi = r < rows ? hiOf(i0 + r, shift, s, causal != 0, window) : -1;
        store<i32>(lo + ro, rlo);
        store<i32>(hi + ro, rhi);
        if (rlo <= rhi) { jlo = min(jlo, rlo); jhi = max(jhi, rhi); }
        store<f32>(m + ro, NEG_INF);
        store<f32>(l + ro, 0);
      }
      memory.fill(acc, 0, <usize>QB * accB);
      for (let jb = jlo / kb * kb; jb <= jhi; jb += kb) {
        const cnt = min(kb, s - jb);
        const cols = pad8(cnt);
        tile4(qb + <usize>i0 * dB, dB, rows, kt + (<usize>jb << 2), <usize>sp << 2, d, cols, t);
        for (let r = 0; r < QB; r++) {
          const ro = <usize>r << 2;
          const row = t + <usize>r * LD * 4;
          const rlo = load<i32>(lo + ro);
          const rhi = load<i32>(hi + ro);
          if (rlo > rhi || jb > rhi || jb + cnt <= rlo) {
            memory.fill(row, 0, <usize>cols << 2); // this row sees nothing here
            continue;
          }
          maskRow(row, jb, cnt, cols, rlo, rhi, pad, scale);
          const mOld = load<f32>(m + ro);
          const mNew = max(mOld, rowMax(row, cols));
          if (mNew == NEG_INF) {
            memory.fill(row, 0, <usize>cols << 2);
            continue;
          }
          const corr = mOld == NEG_INF ? <f32>0 : Mathf.exp(mOld - mNew); // rescales what came before
          const sum = expRow(row, cols, mNew);
          // the sum normalises undropped weights; the output gets the dropped ones
          if (drop != 0) dropRow(row, cols, (<u32>b * <u32>n + <u32>(i0 + r)) * <u32>s + <u32>jb, drop);
          store<f32>(l + ro, load<f32>(l + ro) * corr + sum);
          if (corr != 1) scaleRow(acc + <usize>r * accB, dv, corr);
          store<f32>(m + ro, mNew);
        }
        accumulate4(t, rows, vb + <usize>jb * accB, cnt, dv, acc, accB);
      }
      for (let r = 0; r < rows; r++) {
        const ro = <usize>r << 2;
        const i = i0 + r;
        const orow = ob + <usize>i * accB;
        const lr = load<f32>(l + ro);
        const at = lse + ((<usize>b * <usize>n + <usize>i) << 2);
        if (lr == 0) {
          memory.fill(orow, 0, accB);
          store<f32>(at, NEG_INF);
        } else {
          memory.copy(orow, acc + <usize>r * accB, accB);
          scaleRow(orow, dv, 1 / lr);
          store<f32>(at, load<f32>(m + ro) + Mathf.log(lr));
        }
      }
    }
  }
}

export function flash_backward(q: usize, k: usize, v: usize, keyPadding: usize, out: usize, lse: usize, dOut: usize,
  heads: i32, n: i32, s: i32, d: i32, dv: i32, scale: f32, causal: i32, window: i32, kb: i32, bh0: i32, bh1: i32,
  dq: usize, dk: usize, dvOut: usize, scratch: usize, drop: usize): void {
  const sp = pad8(s);
  const kt = align64(scratch);
  const vt = kt + align64(<usize>d * <usize>sp * 4);
  const pt = vt + align64(<usize>dv * <usize>sp * 4);
  const dst = pt + align64(QB * LD * 4);
  const dkb = dst + align64(QB * LD * 4) + align64(<usize>QB * <usize>dv * 4);
  const dvb = dkb + align64(<usize>LD * <usize>d * 4);
  const dd = dvb + align64(<usize>LD * <usize>dv * 4);
  const dB = <usize>d << 2;
  const vB = <usize>dv << 2;
  const shift = s - n;
  const k0 = i32x4.splat(drop != 0 ? load<i32>(drop) : 0);
  const k1 = i32x4.splat(drop != 0 ? load<i32>(drop, 4) : 0);
  const dt = i32x4.splat(drop != 0 ? load<i32>(drop, 8) : 0);
  const ds = f32x4.splat(drop != 0 ? load<f32>(drop, 12) : 1);
  const four = i32x4.splat(4);
  for (let b = bh0; b < bh1; b++) {
    const qb = q + <usize>b * <usize>n * dB;
    const ks = k + <usize>b * <usize>s * dB;
    const dob = dOut + <usize>b * <usize>n * vB;
    const lseb = lse + <usize>b * <usize>n * 4;
    const dqb = dq + <usize>b * <usize>n * dB;
    const pad = keyPadding == 0 ? 0 : keyPadding + <usize>(b / heads) * <usize>s * 4;
    transpose(ks, s, d, kt, sp);
    transpose(v + <usize>b * <usize>s * vB, s, dv, vt, sp);
    memory.fill(dqb, 0, <usize>n * dB);
    // D_i = dOut_i · out_i (= Σ_j P_ij dP_ij)
    const ob = out + <usize>b * <usize>n * vB;
    for (let i = 0; i < n; i++) {
      let acc: f32 = 0;
      const o = ob + <usize>i * vB;
      const g = dob + <usize>i * vB;
      for (let c = 0; c < dv; c++) acc += load<f32>(o + (<usize>c << 2)) * load<f32>(g + (<usize>c << 2));
      store<f32>(dd + (<usize>i << 2), acc);
    }
    for (let jb = 0; jb < s; jb += kb) {
      const cnt = min(kb, s - jb);
      const cols = pad8(cnt);
      memory.fill(dkb, 0, <usize>cnt * dB);
      memory.fill(dvb, 0, <usize>cnt * vB);
      // queries that can see a key of this block: causal needs i + shift >= jb, a window |i + shift - j| <= w
      let ilo = 0;
      let ihi = n - 1;
      if (causal != 0) ilo = max(ilo, jb - shift);
      if (window >= 0) { ilo = max(ilo, jb - window - shift); ihi = min(ihi, jb + cnt - 1 + window - shift); }
      for (let i0 = ilo / QB * QB; i0 <= ihi; i0 += QB) {
        const rows = min(QB, n - i0);
        tile4(qb + <usize>i0 * dB, dB, rows, kt + (<usize>jb << 2), <usize>sp << 2, d, cols, pt);
        tile4(dob + <usize>i0 * vB, vB, rows, vt + (<usize>jb << 2), <usize>sp << 2, dv, cols, dst);
        let any = false;
        for (let r = 0; r < QB; r++) {
          const prow = pt + <usize>r * LD * 4;
          const drow = dst + <usize>r * LD * 4;
          const i = i0 + r;
          const lo = r < rows ? loOf(i, shift, window) : 1;
          const hi = r < rows ? hiOf(i, shift, s, causal != 0, window) : 0;
          const li = r < rows ? load<f32>(lseb + (<usize>i << 2)) : NEG_INF;
          if (li == NEG_INF || lo > hi || jb > hi || jb + cnt <= lo) {
            memory.fill(prow, 0, <usize>cols << 2);
            memory.fill(drow, 0, <usize>cols << 2);
            continue;
          }
          any = true;
          maskRow(prow, jb, cnt, cols, lo, hi, pad, scale);
          expRow(prow, cols, li); // P = exp(scale·s - lse), 0 where masked
          // dS = P ∘ (dP - D_i), times scale for dq and dk
          const di = splat(load<f32>(dd + (<usize>i << 2)));
          const sc = splat(scale);
          if (drop != 0) {
            // with dropout's factors z: dS = P (z dP - D), and P z for dV
            let idx = i32x4.add(i32x4.splat(<i32>((<u32>b * <u32>n + <u32>i) * <u32>s + <u32>jb)), i32x4(0, 1, 2, 3));
            for (let c = 0; c < cols; c += 4) {
              const o = <usize>c << 2;
              const z = dropFactors4(idx, k0, k1, dt, ds);
              const pr = v128.load(prow + o);
              v128.store(drow + o, f32x4.mul(f32x4.mul(pr, f32x4.sub(f32x4.mul(z, v128.load(drow + o)), di)), sc));
              v128.store(prow + o, f32x4.mul(pr, z));
              idx = i32x4.add(idx, four);
            }
            continue;
          }
          for (let c = 0; c < cols; c += 4) {
            const o = <usize>c << 2;
            v128.store(drow + o, f32x4.mul(f32x4.mul(v128.load(prow + o), f32x4.sub(v128.load(drow + o), di)), sc));
          }
        }
        if (!any) continue;
        update4T(pt, rows, dob + <usize>i0 * vB, vB, dv, cnt, dvb); // dV_j += Σ_r P_rj dOut_r
        update4T(dst, rows, qb + <usize>i0 * dB, dB, d, cnt, dkb); // dK_j += Σ_r dS_rj q_r
        accumulate4(dst, rows, ks + <usize>jb * dB, cnt, d, dqb + <usize>i0 * dB, dB); // dq_r += Σ_j dS_rj k_j
      }
      memory.copy(dk + (<usize>b * <usize>s + <usize>jb) * dB, dkb, <usize>cnt * dB);
      memory.copy(dvOut + (<usize>b * <usize>s + <usize>jb) * vB, dvb, <usize>cnt * vB);
    }
  }
}
