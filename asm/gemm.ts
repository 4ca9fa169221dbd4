// Batched GEMM, out[t] = op(A[t]) · op(B[t]), every transpose variant, as BLIS/GotoBLAS do it:
//   for each NC-wide column block of B            (jc)
//     for each KC-deep slice of k                 (pc)   pack B[pc.., jc..] into NR-wide panels
//       for each MC-tall row block of A           (ic)   pack A[ic.., pc..] into MR-tall panels
//         for each NR panel, for each MR panel           the MR×NR register micro-kernel
// Packing puts what the micro-kernel reads next to each other (A panel: MR values per k step,
// B panel: NR values per k step), zero-padded at the edges so the micro-kernel always runs a
// full tile; edge tiles go through a small buffer and only their valid part is written.
// op(A)(i, p) is at a[i*aRs + p*aCs], op(B)(p, j) at b[p*bRs + j*bCs] (element strides), so
// a transpose is a swap of the two strides. Accumulation is float32 (the reference uses float64).
import { madd, splat } from './simd';

// The micro-tile is MR=4 rows × NR=8 columns: 8 f32x4 accumulators, 2 B vectors and 1 broadcast
// A value live in 11 of the 16 vector registers x86-64 has (an 8×8 tile would spill there).
export const MR = 4;
export const NR = 8;
// Blocking: a KC×NR B panel (8 KiB) stays in L1 while the MR×KC A panels stream past it from
// the MC×KC A block (96 KiB, L2); the KC×NC packed B block (512 KiB) lives in L2/L3.
export const KC = 256;
export const MC = 96;
export const NC = 512;

const PACK_A_BYTES: usize = MC * KC * 4;
const PACK_B_BYTES: usize = KC * NC * 4;
const EDGE_BYTES: usize = MR * NR * 4;
export const SCRATCH_BYTES: usize = PACK_A_BYTES + PACK_B_BYTES + EDGE_BYTES;

/** Packs the mc×kc block of op(A) at (i0, p0) into MR-row panels: panel-major, then k, then the MR rows. */
function packA(a: usize, rs: i32, cs: i32, i0: i32, p0: i32, mc: i32, kc: i32, dst: usize): void {
  const rsB = <usize>rs << 2;
  const csB = <usize>cs << 2;
  for (let ir = 0; ir < mc; ir += MR) {
    const mr = min(MR, mc - ir);
    let src = a + <usize>(i0 + ir) * rsB + <usize>p0 * csB;
    if (mr == MR && rs == 1) {
      // op(A) column-major (A transposed): the MR values of one k step are adjacent
      for (let p = 0; p < kc; p++) {
        v128.store(dst, v128.load(src));
        src += csB;
        dst += 16;
      }
    } else if (mr == MR) {
      for (let p = 0; p < kc; p++) {
        store<f32>(dst, load<f32>(src));
        store<f32>(dst, load<f32>(src + rsB), 4);
        store<f32>(dst, load<f32>(src + 2 * rsB), 8);
        store<f32>(dst, load<f32>(src + 3 * rsB), 12);
        src += csB;
        dst += 16;
      }
    } else {
      for (let p = 0; p < kc; p++) {
        for (let r = 0; r < MR; r++) store<f32>(dst + (<usize>r << 2), r < mr ? load<f32>(src + <usize>r * rsB) : 0);
        src += csB;
        dst += 16;
      }
    }
  }
}

/** Packs the kc×nc block of op(B) at (p0, j0) into NR-column panels: panel-major, then k, then the NR columns. */
function packB(b: usize, rs: i32, cs: i32, p0: i32, j0: i32, kc: i32, nc: i32, dst: usize): void {
  const rsB = <usize>rs << 2;
  const csB = <usize>cs << 2;
  for (let jr = 0; jr < nc; jr += NR) {
    const nr = min(NR, nc - jr);
    let src = b + <usize>p0 * rsB + <usize>(j0 + jr) * csB;
    if (nr == NR && cs == 1) {
      // op(B) row-major: the NR values of one k step are adjacent
      for (let p = 0; p < kc; p++) {
        v128.store(dst, v128.load(src));
        v128.store(dst, v128.load(src, 16), 16);
        src += rsB;
        dst += 32;
      }
    } else if (nr == NR) {
      for (let p = 0; p < kc; p++) {
        for (let c = 0; c < NR; c++) store<f32>(dst + (<usize>c << 2), load<f32>(src + <usize>c * csB));
        src += rsB;
        dst += 32;
      }
    } else {
      for (let p = 0; p < kc; p++) {
        for (let c = 0; c < NR; c++) store<f32>(dst + (<usize>c << 2), c < nr ? load<f32>(src + <usize>c * csB) : 0);
        src += rsB;
        dst += 32;
      }
    }
  }
}

/** The MR×NR tile: C (+)= Σ_p A[:, p] B[p, :] over kc steps of packed panels; ldc in bytes. */
// @ts-ignore: decorator
@inline function micro(kc: i32, pa: usize, pb: usize, c: usize, ldc: usize, accumulate: bool): void {
  let c00 = splat(0), c01 = splat(0);
  let c10 = splat(0), c11 = splat(0);
  let c20 = splat(0), c21 = splat(0);
  let c30 = splat(0), c31 = splat(0);
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = madd(a, b0, c00); c01 = madd(a, b1, c01);
    a = v128.load32_splat(pa, 4);
    c10 = madd(a, b0, c10); c11 = madd(a, b1, c11);
    a = v128.load32_splat(pa, 8);
    c20 = madd(a, b0, c20); c21 = madd(a, b1, c21);
    a = v128.load32_splat(pa, 12);
    c30 = madd(a, b0, c30); c31 = madd(a, b1, c31);
    pa += 16;
    pb += 32;
  }
  if (accumulate) {
    c00 = f32x4.add(c00, v128.load(c)); c01 = f32x4.add(c01, v128.load(c, 16));
    c10 = f32x4.add(c10, v128.load(c + ldc)); c11 = f32x4.add(c11, v128.load(c + ldc, 16));
    c20 = f32x4.add(c20, v128.load(c + 2 * ldc)); c21 = f32x4.add(c21, v128.load(c + 2 * ldc, 16));
    c30 = f32x4.add(c30, v128.load(c + 3 * ldc)); c31 = f32x4.add(c31, v128.load(c + 3 * ldc, 16));
  }
  v128.store(c, c00); v128.store(c, c01, 16);
  v128.store(c + ldc, c10); v128.store(c + ldc, c11, 16);
  v128.store(c + 2 * ldc, c20); v128.store(c + 2 * ldc, c21, 16);
  v128.store(c + 3 * ldc, c30); v128.store(c + 3 * ldc, c31, 16);
}

function microFull(kc: i32, pa: usize, pb: usize, c: usize, ldc: usize): void { micro(kc, pa, pb, c, ldc, false); }
function microAcc(kc: i32, pa: usize, pb: usize, c: usize, ldc: usize): void { micro(kc, pa, pb, c, ldc, true); }

/** One kc slice of one packed B block against every row block of A. */
function sweep(a: usize, aRs: i32, aCs: i32, m: i32, pc: i32, kc: i32, pb: usize, nc: i32,
  c: usize, ldc: usize, jc: i32, accumulate: bool, pa: usize, edge: usize): void {
  for (let ic = 0; ic < m; ic += MC) {
    const mc = min(MC, m - ic);
    packA(a, aRs, aCs, ic, pc, mc, kc, pa);
    for (let jr = 0; jr < nc; jr += NR) {
      const nr = min(NR, nc - jr);
      const pbj = pb + <usize>jr * <usize>kc * 4;
      for (let ir = 0; ir < mc; ir += MR) {
        const mr = min(MR, mc - ir);
        const pai = pa + <usize>ir * <usize>kc * 4;
        const cp = c + <usize>(ic + ir) * ldc + (<usize>(jc + jr) << 2);
        if (mr == MR && nr == NR) {
          if (accumulate) microAcc(kc, pai, pbj, cp, ldc);
          else microFull(kc, pai, pbj, cp, ldc);
        } else {
          microFull(kc, pai, pbj, edge, NR * 4);
          for (let r = 0; r < mr; r++) {
            for (let q = 0; q < nr; q++) {
              const dst = cp + <usize>r * ldc + (<usize>q << 2);
              const v = load<f32>(edge + ((<usize>(r * NR + q)) << 2));
              store<f32>(dst, accumulate ? load<f32>(dst) + v : v);
            }
          }
        }
      }
    }
  }
}

/**
 * out[r] = Σ_c M(r, c) v[c] with M(r, c) = mat[r*rs + c*cs] and v contiguous: the m = 1 and
 * n = 1 products (decoding one token, a matrix times a vector), where packing would cost as
 * much as the product. Rows of M contiguous (cs = 1): one dot product per row; columns
 * contiguous (rs = 1): out accumulates one scaled column at a time. Returns false otherwise.
 */
function gemv(mat: usize, rs: i32, cs: i32, v: usize, out: usize, rows: i32, cols: i32): bool {
  if (cs == 1) {
    const rsB = <usize>rs << 2;
    for (let r = 0; r < rows; r++) {
      const row = mat + <usize>r * rsB;
      let s0 = splat(0), s1 = splat(0);
      let c = 0;
      for (; c + 8 <= cols; c += 8) {
        const o = <usize>c << 2;
        s0 = madd(v128.load(row + o), v128.load(v + o), s0);
        s1 = madd(v128.load(row + o, 16), v128.load(v + o, 16), s1);
      }
      s0 = f32x4.add(s0, s1);
      let s = (f32x4.extract_lane(s0, 0) + f32x4.extract_lane(s0, 1)) + (f32x4.extract_lane(s0, 2) + f32x4.extract_lane(s0, 3));
      for (; c < cols; c++) s += load<f32>(row + (<usize>c << 2)) * load<f32>(v + (<usize>c << 2));
      store<f32>(out + (<usize>r << 2), s);
    }
    return true;
  }
  if (rs == 1) {
    const csB = <usize>cs << 2;
    memory.fill(out, 0, <usize>rows << 2);
    for (let c = 0; c < cols; c++) {
      const col = mat + <usize>c * csB;
      const x = load<f32>(v + (<usize>c << 2));
      const xs = splat(x);
      let r = 0;
      for (; r + 4 <= rows; r += 4) {
        const o = <usize>r << 2;
        v128.store(out + o, madd(v128.load(col + o), xs, v128.load(out + o)));
      }
      for (; r < rows; r++) {
        const o = <usize>r << 2;
        store<f32>(out + o, load<f32>(out + o) + load<f32>(col + o) * x);
      }
    }
    return true;
  }
  return false;
}

/**
 * out[t] = op(A[t]) · op(B[t]) for t < batch; a, b, out are byte addresses; strides in elements:
 * out row r of matrix t starts at out + (t*cBatch + r*ldc)*4, so a thread can write its block of
 * rows or columns of a larger output. scratch: SCRATCH_BYTES that belong to the calling thread.
 */
export function gemmAt(a: usize, aRs: i32, aCs: i32, aBatch: i32, b: usize, bRs: i32, bCs: i32, bBatch: i32,
  out: usize, ldc: i32, cBatch: i32, batch: i32, m: i32, n: i32, k: i32, scratch: usize): void {
  if (m <= 0 || n <= 0 || batch <= 0) return;
  if (k <= 0) {
    for (let t = 0; t < batch; t++) {
      for (let r = 0; r < m; r++) memory.fill(out + ((<usize>t * <usize>cBatch + <usize>r * <usize>ldc) << 2), 0, <usize>n << 2);
    }
    return;
  }
  // B shared by every batch, A's and out's matrices one after another: one GEMM with batch*m rows.
  if (batch > 1 && bBatch == 0 && aCs == 1 && aBatch == m * aRs && cBatch == m * ldc) {
    m *= batch;
    batch = 1;
  }
  const pa = scratch;
  const pb = scratch + PACK_A_BYTES;
  const edge = pb + PACK_B_BYTES;
  const ldcB = <usize>ldc << 2;
  for (let t = 0; t < batch; t++) {
    const at = a + (<usize>t * <usize>aBatch << 2);
    const bt = b + (<usize>t * <usize>bBatch << 2);
    const ct = out + (<usize>t * <usize>cBatch << 2);
    // a 1×k row of op(A) (a k×1 column of op(B)) is contiguous when the whole matrix has one row
    // (column), whatever the transpose; not when it is a one-row band a thread got from a larger one
    if (m == 1 && aCs == 1 && gemv(bt, bCs, bRs, at, ct, n, k)) continue;
    if (n == 1 && bRs == 1 && ldc == 1 && gemv(at, aRs, aCs, bt, ct, m, k)) continue;
    for (let jc = 0; jc < n; jc += NC) {
      const nc = min(NC, n - jc);
      for (let pc = 0; pc < k; pc += KC) {
        const kc = min(KC, k - pc);
        packB(bt, bRs, bCs, pc, jc, kc, nc, pb);
        sweep(at, aRs, aCs, m, pc, kc, pb, nc, ct, ldcB, jc, pc > 0, pa, edge);
      }
    }
  }
}
