// Dropout with a counter-based mask (src/kernels/ref/dropout.ts is the definition): element i's bits are
// lowbias32(lowbias32(i ^ key0) ^ key1), four indices a vector; i32x4.mul wraps as Math.imul does.

// @ts-ignore: decorator
@inline function lowbias32x4(v: v128): v128 {
  let x = v128.xor(v, i32x4.shr_u(v, 16));
  x = i32x4.mul(x, i32x4.splat(0x7feb352d));
  x = v128.xor(x, i32x4.shr_u(x, 15));
  x = i32x4.mul(x, i32x4.splat(<i32>0x846ca68b));
  return v128.xor(x, i32x4.shr_u(x, 16));
}

// @ts-ignore: decorator
@inline function lowbias32(v: u32): u32 {
  let x = v ^ (v >>> 16);
  x *= 0x7feb352d;
  x ^= x >>> 15;
  x *= 0x846ca68b;
  return x ^ (x >>> 16);
}

/**
 * The factors (scale where kept, else 0) of mask elements idx (four u32 indices); k0, k1, t, s are the
 * key words, the threshold (at most 2^24) and the scale, splatted. h >>> 8 < 2^24: a signed compare is exact.
 */
// @ts-ignore: decorator
@inline export function dropFactors4(idx: v128, k0: v128, k1: v128, t: v128, s: v128): v128 {
  const h = lowbias32x4(v128.xor(lowbias32x4(v128.xor(idx, k0)), k1));
  return v128.and(i32x4.ge_s(i32x4.shr_u(h, 8), t), s);
}

/** The factor of mask element i alone. */
// @ts-ignore: decorator
@inline export function dropFactor(i: u32, key0: u32, key1: u32, threshold: i32, scale: f32): f32 {
  return <i32>(lowbias32(lowbias32(i ^ key0) ^ key1) >>> 8) >= threshold ? scale : 0;
}

/**
 * row[c] *= factor of mask element base + c for c < cols (a multiple of 4). `drop` points at the
 * key block the JS side wrote: key0, key1, threshold (u32) and scale (f32).
 */
export function dropRow(row: usize, cols: i32, base: u32, drop: usize): void {
  const k0 = i32x4.splat(load<i32>(drop));
  const k1 = i32x4.splat(load<i32>(drop, 4));
  const t = i32x4.splat(load<i32>(drop, 8));
  const s = f32x4.splat(load<f32>(drop, 12));
  let idx = i32x4.add(i32x4.splat(<i32>base), i32x4(0, 1, 2, 3));
  const four = i32x4.splat(4);
  for (let c = 0; c < cols; c += 4) {
    const o = <usize>c << 2;
    v128.store(row + o, f32x4.mul(v128.load(row + o), dropFactors4(idx, k0, k1, t, s)));
    idx = i32x4.add(idx, four);
  }
}

/** out[i] = x[i] · (kept ? scale : 0) for elements [start, start + n) (x, out at element start). */
export function dropout(x: usize, out: usize, start: u32, n: i32, key0: u32, key1: u32, threshold: i32, scale: f32): void {
  const k0 = i32x4.splat(<i32>key0);
  const k1 = i32x4.splat(<i32>key1);
  const t = i32x4.splat(threshold);
  const s = f32x4.splat(scale);
  let idx = i32x4.add(i32x4.splat(<i32>start), i32x4(0, 1, 2, 3));
  const four = i32x4.splat(4);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.mul(v128.load(x + o), dropFactors4(idx, k0, k1, t, s)));
    idx = i32x4.add(idx, four);
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, load<f32>(x + o) * dropFactor(start + <u32>i, key0, key1, threshold, scale));
  }
}
