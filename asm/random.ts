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

/** out[i] = x[i] · (kept ? scale : 0) for elements [start, start + n) (x, out at element start); kept: (h >>> 8) >= threshold (at most 2^24). */
export function dropout(x: usize, out: usize, start: u32, n: i32, key0: u32, key1: u32, threshold: i32, scale: f32): void {
  const k0 = i32x4.splat(<i32>key0);
  const k1 = i32x4.splat(<i32>key1);
  const t = i32x4.splat(threshold);
  const s = f32x4.splat(scale);
  let idx = i32x4.add(i32x4.splat(<i32>start), i32x4(0, 1, 2, 3));
  const four = i32x4.splat(4);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const h = lowbias32x4(v128.xor(lowbias32x4(v128.xor(idx, k0)), k1));
    // h >>> 8 < 2^24 and threshold <= 2^24: a signed compare is exact
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.mul(v128.load(x + o), v128.and(i32x4.ge_s(i32x4.shr_u(h, 8), t), s)));
    idx = i32x4.add(idx, four);
  }
  for (; i < n; i++) {
    const h = lowbias32(lowbias32((start + <u32>i) ^ key0) ^ key1);
    const o = <usize>i << 2;
    store<f32>(out + o, load<f32>(x + o) * (<i32>(h >>> 8) >= threshold ? scale : 0));
  }
}
