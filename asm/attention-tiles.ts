// The building blocks of the FlashAttention kernels (attention.ts): a transpose into the
// scratch, the 4-row score micro-kernel, the two rank-4 updates, and the row operations of the
// online softmax. Tiles are 4 rows of LD floats.
import { expv, madd, splat } from './simd';

/** Row length of the score tiles (floats): the widest key block. */
export const LD = 64;
export const NEG_INF: f32 = -Infinity;

/** dst[c, r] = src[r, c] for r < rows, c < cols (src rows `cols` apart); dst rows ldd floats apart, columns rows..ldd zeroed. */
export function transpose(src: usize, rows: i32, cols: i32, dst: usize, ldd: i32): void {
  const lddB = <usize>ldd << 2;
  for (let c = 0; c < cols; c++) {
    const row = dst + <usize>c * lddB;
    for (let r = rows; r < ldd; r++) store<f32>(row + (<usize>r << 2), 0);
  }
  const colsB = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const s = src + <usize>r * colsB;
    const d = dst + (<usize>r << 2);
    for (let c = 0; c < cols; c++) store<f32>(d + <usize>c * lddB, load<f32>(s + (<usize>c << 2)));
  }
}

/**
 * t[r, c] = Σ_p a[r, p] bt[p, c] for r < 4, c < cols (a multiple of 8): a's rows lda bytes apart
 * (rows beyond `rows` repeat row 0: computed, never used), bt's rows ldb bytes apart; t rows LD apart.
 */
export function tile4(a: usize, lda: usize, rows: i32, bt: usize, ldb: usize, depth: i32, cols: i32, t: usize): void {
  const a1 = rows > 1 ? a + lda : a;
  const a2 = rows > 2 ? a + 2 * lda : a;
  const a3 = rows > 3 ? a + 3 * lda : a;
  for (let c = 0; c < cols; c += 8) {
    let c00 = splat(0), c01 = splat(0), c10 = splat(0), c11 = splat(0);
    let c20 = splat(0), c21 = splat(0), c30 = splat(0), c31 = splat(0);
    let pb = bt + (<usize>c << 2);
    for (let p = 0; p < depth; p++) {
      const b0 = v128.load(pb);
      const b1 = v128.load(pb, 16);
      const o = <usize>p << 2;
      let x = v128.load32_splat(a + o);
      c00 = madd(x, b0, c00); c01 = madd(x, b1, c01);
      x = v128.load32_splat(a1 + o);
      c10 = madd(x, b0, c10); c11 = madd(x, b1, c11);
      x = v128.load32_splat(a2 + o);
      c20 = madd(x, b0, c20); c21 = madd(x, b1, c21);
      x = v128.load32_splat(a3 + o);
      c30 = madd(x, b0, c30); c31 = madd(x, b1, c31);
      pb += ldb;
    }
    const dst = t + (<usize>c << 2);
    v128.store(dst, c00); v128.store(dst, c01, 16);
    v128.store(dst + LD * 4, c10); v128.store(dst + LD * 4, c11, 16);
    v128.store(dst + 2 * LD * 4, c20); v128.store(dst + 2 * LD * 4, c21, 16);
    v128.store(dst + 3 * LD * 4, c30); v128.store(dst + 3 * LD * 4, c31, 16);
  }
}

/**
 * o[r, :] += Σ_{j < cnt} p[r, j] b[j, :] for the 4 rows of o (rows ldo bytes apart) from a
 * 4×LD tile p and cnt rows of b (width w, contiguous). Rows of o beyond `rows` are not touched.
 */
export function accumulate4(p: usize, rows: i32, b: usize, cnt: i32, w: i32, o: usize, ldo: usize): void {
  const wB = <usize>w << 2;
  let c = 0;
  if (rows == 4) {
    for (; c + 8 <= w; c += 8) {
      const oc = o + (<usize>c << 2);
      let c00 = v128.load(oc), c01 = v128.load(oc, 16);
      let c10 = v128.load(oc + ldo), c11 = v128.load(oc + ldo, 16);
      let c20 = v128.load(oc + 2 * ldo), c21 = v128.load(oc + 2 * ldo, 16);
      let c30 = v128.load(oc + 3 * ldo), c31 = v128.load(oc + 3 * ldo, 16);
      let pb = b + (<usize>c << 2);
      for (let j = 0; j < cnt; j++) {
        const b0 = v128.load(pb);
        const b1 = v128.load(pb, 16);
        const pj = p + (<usize>j << 2);
        let x = v128.load32_splat(pj);
        c00 = madd(x, b0, c00); c01 = madd(x, b1, c01);
        x = v128.load32_splat(pj, LD * 4);
        c10 = madd(x, b0, c10); c11 = madd(x, b1, c11);
        x = v128.load32_splat(pj, 2 * LD * 4);
        c20 = madd(x, b0, c20); c21 = madd(x, b1, c21);
        x = v128.load32_splat(pj, 3 * LD * 4);
        c30 = madd(x, b0, c30); c31 = madd(x, b1, c31);
        pb += wB;
      }
      v128.store(oc, c00); v128.store(oc, c01, 16);
      v128.store(oc + ldo, c10); v128.store(oc + ldo, c11, 16);
      v128.store(oc + 2 * ldo, c20); v128.store(oc + 2 * ldo, c21, 16);
      v128.store(oc + 3 * ldo, c30); v128.store(oc + 3 * ldo, c31, 16);
    }
  }
  // the columns left (and every column when fewer than 4 rows): one row at a time
  for (let r = 0; r < rows; r++) {
    const orow = o + <usize>r * ldo;
    const prow = p + <usize>r * LD * 4;
    for (let j = 0; j < cnt; j++) {
      const x = load<f32>(prow + (<usize>j << 2));
      if (x == 0) continue;
      const brow = b + <usize>j * wB;
      let cc = c;
      const xs = splat(x);
      for (; cc + 4 <= w; cc += 4) {
        const o4 = orow + (<usize>cc << 2);
        v128.store(o4, madd(xs, v128.load(brow + (<usize>cc << 2)), v128.load(o4)));
      }
      for (; cc < w; cc++) {
        const o1 = orow + (<usize>cc << 2);
        store<f32>(o1, load<f32>(o1) + x * load<f32>(brow + (<usize>cc << 2)));
      }
    }
  }
}

/** b[j, :] += Σ_{r < rows} p[r, j] a[r, :] for j < cnt: the transposed rank-4 update (dV += Pᵀ dO, dK += dSᵀ Q). */
export function update4T(p: usize, rows: i32, a: usize, lda: usize, w: i32, cnt: i32, b: usize): void {
  const wB = <usize>w << 2;
  for (let j = 0; j < cnt; j++) {
    const brow = b + <usize>j * wB;
    const pj = p + (<usize>j << 2);
    const x0 = load<f32>(pj);
    const x1 = rows > 1 ? load<f32>(pj, LD * 4) : 0;
    const x2 = rows > 2 ? load<f32>(pj, 2 * LD * 4) : 0;
    const x3 = rows > 3 ? load<f32>(pj, 3 * LD * 4) : 0;
    if (x0 == 0 && x1 == 0 && x2 == 0 && x3 == 0) continue;
    const s0 = splat(x0), s1 = splat(x1), s2 = splat(x2), s3 = splat(x3);
    const a1 = rows > 1 ? a + lda : a;
    const a2 = rows > 2 ? a + 2 * lda : a;
    const a3 = rows > 3 ? a + 3 * lda : a;
    let c = 0;
    for (; c + 4 <= w; c += 4) {
      const o = <usize>c << 2;
      let acc = v128.load(brow + o);
      acc = madd(s0, v128.load(a + o), acc);
      acc = madd(s1, v128.load(a1 + o), acc);
      acc = madd(s2, v128.load(a2 + o), acc);
      acc = madd(s3, v128.load(a3 + o), acc);
      v128.store(brow + o, acc);
    }
    for (; c < w; c++) {
      const o = <usize>c << 2;
      store<f32>(brow + o, load<f32>(brow + o) + x0 * load<f32>(a + o) + x1 * load<f32>(a1 + o) + x2 * load<f32>(a2 + o) + x3 * load<f32>(a3 + o));
    }
  }
}

/**
 * Writes scale·t[r, c] where key jb + c is visible to the row (lo..hi and not padding), -Infinity
 * elsewhere and in the padding columns cnt..cols: scale everything with vectors, then hide.
 */
export function maskRow(row: usize, jb: i32, cnt: i32, cols: i32, lo: i32, hi: i32, pad: usize, scale: f32): void {
  const sc = splat(scale);
  for (let c = 0; c < cols; c += 4) v128.store(row + (<usize>c << 2), f32x4.mul(v128.load(row + (<usize>c << 2)), sc));
  // hide the keys before lo and after hi (causal, window), padding keys, and the columns past cnt
  const first = min(cnt, max(0, lo - jb));
  const last = max(first, min(cnt, hi - jb + 1));
  for (let c = 0; c < first; c++) store<f32>(row + (<usize>c << 2), NEG_INF);
  for (let c = last; c < cols; c++) store<f32>(row + (<usize>c << 2), NEG_INF);
  if (pad != 0) {
    for (let c = first; c < last; c++) if (load<i32>(pad + (<usize>(jb + c) << 2)) != 0) store<f32>(row + (<usize>c << 2), NEG_INF);
  }
}

/** Max of row[0..cols) (cols a multiple of 4). */
export function rowMax(row: usize, cols: i32): f32 {
  let m = splat(NEG_INF);
  for (let c = 0; c < cols; c += 4) m = f32x4.pmax(m, v128.load(row + (<usize>c << 2)));
  return max(max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
}

/** row[c] = exp(row[c] - shift) in place; returns the sum. */
export function expRow(row: usize, cols: i32, shift: f32): f32 {
  const sh = splat(shift);
  let acc = splat(0);
  for (let c = 0; c < cols; c += 4) {
    const e = expv(f32x4.sub(v128.load(row + (<usize>c << 2)), sh));
    v128.store(row + (<usize>c << 2), e);
    acc = f32x4.add(acc, e);
  }
  return (f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1)) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
}

/** row[0..w) *= x. */
export function scaleRow(row: usize, w: i32, x: f32): void {
  const xs = splat(x);
  let c = 0;
  for (; c + 4 <= w; c += 4) v128.store(row + (<usize>c << 2), f32x4.mul(v128.load(row + (<usize>c << 2)), xs));
  for (; c < w; c++) store<f32>(row + (<usize>c << 2), load<f32>(row + (<usize>c << 2)) * x);
}
