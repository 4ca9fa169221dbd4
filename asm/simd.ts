// SIMD building blocks shared by the kernels: multiply-add (fused in the relaxed-SIMD build)
// and float32x4 exp, tanh and erf. Each matches the reference kernels to a few float32 ulps.

/** a*b + c: one relaxed fused multiply-add when the build enables relaxed-simd, else mul then add. */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

// @ts-ignore: decorator
@inline export function splat(x: f32): v128 {
  return f32x4.splat(x);
}

/** Sum of the four lanes. */
// @ts-ignore: decorator
@inline export function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/** Largest of the four lanes (NaN if any lane is NaN, like Math.max). */
// @ts-ignore: decorator
@inline export function hmax(v: v128): f32 {
  const m = f32x4.max(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  return max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1));
}

const SIGN: v128 = i32x4(0x80000000, 0x80000000, 0x80000000, 0x80000000);

// @ts-ignore: decorator
@inline export function signOf(x: v128): v128 {
  return v128.and(x, SIGN);
}

// exp: x = n ln2 + r with |r| <= ln2/2 (Cody-Waite, two-part ln2), e^r by Cephes' expf
// polynomial, then 2^n applied in two halves so that results in float32's subnormal range are
// right too. Above ln(FLT_MAX): +Infinity; below -104: exactly 0 (so exp(-Infinity) = 0, which
// softmax relies on for masked positions); NaN stays NaN (pmin/pmax return their first operand
// when a comparison is false). n is rounded to nearest-even by adding 1.5·2^23, whose float
// bits then hold n as an integer (cheaper than f32x4.nearest + i32x4.trunc_sat).
const EXP_HI: f32 = 88.72283935546875;
const EXP_LO: f32 = -104.0;
const ROUND: f32 = 12582912.0; // 1.5 * 2^23

// @ts-ignore: decorator
@inline export function expv(x: v128): v128 {
  // lanes below EXP_LO end as 0 (the last select): they compute on 0, not on EXP_LO, whose
  // subnormal e^EXP_LO costs a microcode assist per vector on x86 (a masked score is -Infinity)
  const below = f32x4.lt(x, splat(EXP_LO));
  const xc = v128.bitselect(splat(0), f32x4.pmin(x, splat(EXP_HI)), below);
  const t = madd(xc, splat(1.44269504088896341), splat(ROUND));
  const n = f32x4.sub(t, splat(ROUND));
  let r = f32x4.sub(xc, f32x4.mul(n, splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, splat(-2.12194440e-4)));
  let p = splat(1.9875691500e-4);
  p = madd(p, r, splat(1.3981999507e-3));
  p = madd(p, r, splat(8.3334519073e-3));
  p = madd(p, r, splat(4.1665795894e-2));
  p = madd(p, r, splat(1.6666665459e-1));
  p = madd(p, r, splat(5.0000001201e-1));
  let y = f32x4.add(madd(p, f32x4.mul(r, r), r), splat(1));
  const ni = i32x4.sub(t, i32x4.splat(0x4b400000)); // the bits of 1.5·2^23
  const h = i32x4.shr_s(ni, 1);
  const bias = i32x4.splat(127);
  y = f32x4.mul(y, i32x4.shl(i32x4.add(h, bias), 23));
  y = f32x4.mul(y, i32x4.shl(i32x4.add(i32x4.sub(ni, h), bias), 23));
  y = v128.bitselect(splat(Infinity), y, f32x4.gt(x, splat(EXP_HI)));
  return v128.bitselect(splat(0), y, below);
}

// tanh as Cephes' tanhf: an odd polynomial below |x| = 0.625, 1 - 2/(e^{2|x|} + 1) above.
// @ts-ignore: decorator
@inline export function tanhv(x: v128): v128 {
  const ax = f32x4.abs(x);
  const e = expv(f32x4.add(ax, ax));
  const big = v128.or(f32x4.sub(splat(1), f32x4.div(splat(2), f32x4.add(e, splat(1)))), signOf(x));
  const z = f32x4.mul(x, x);
  let p = splat(-5.70498872745e-3);
  p = madd(p, z, splat(2.06390887954e-2));
  p = madd(p, z, splat(-5.37397155531e-2));
  p = madd(p, z, splat(1.33314422036e-1));
  p = madd(p, z, splat(-3.33332819422e-1));
  const small = madd(f32x4.mul(p, z), x, x);
  return v128.bitselect(big, small, f32x4.ge(ax, splat(0.625)));
}

// Φ(x) = (1 + erf(x/√2)) / 2 with erf by Abramowitz & Stegun 7.1.26, the reference's formula
// (absolute error < 1.5e-7): erf(|z|) = 1 - q with q = poly(t) e^{-z²}, so Φ = q/2 below 0 and
// 1 - q/2 above, written that way so the left tail keeps its relative accuracy (1 + erf would cancel);
// z = x/√2, so e^{-z²} = e^{-x²/2}.
// @ts-ignore: decorator
@inline export function phiv(x: v128): v128 {
  return phiWith(x, expv(f32x4.mul(splat(-0.5), f32x4.mul(x, x))));
}

/** Φ(x) given e = e^{-x²/2} (the GELU gradient has it already, for φ(x)). */
// @ts-ignore: decorator
@inline function phiWith(x: v128, e: v128): v128 {
  const az = f32x4.mul(f32x4.abs(x), splat(0.7071067811865476));
  const t = f32x4.div(splat(1), madd(splat(0.3275911), az, splat(1)));
  let p = splat(1.061405429);
  p = madd(p, t, splat(-1.453152027));
  p = madd(p, t, splat(1.421413741));
  p = madd(p, t, splat(-0.284496736));
  p = madd(p, t, splat(0.254829592));
  const halfQ = f32x4.mul(f32x4.mul(p, t), f32x4.mul(splat(0.5), e));
  return v128.bitselect(halfQ, f32x4.sub(splat(1), halfQ), f32x4.lt(x, splat(0)));
}

const SQRT_2_OVER_PI: f32 = 0.7978845608028654;
const GELU_C: f32 = 0.044715;

// GELU, tanh form: x (1 + tanh u)/2 = x σ(2u) = x / (1 + e^{-2u}), u = √(2/π) (x + 0.044715 x³);
// the σ form keeps the left tail's relative accuracy (1 + tanh u would cancel).
// @ts-ignore: decorator
@inline export function geluTanhv(x: v128): v128 {
  const x3 = f32x4.mul(f32x4.mul(x, x), x);
  const m2u = f32x4.mul(splat(-2 * SQRT_2_OVER_PI), madd(splat(GELU_C), x3, x));
  return f32x4.div(x, f32x4.add(splat(1), expv(m2u)));
}

// @ts-ignore: decorator
@inline export function geluErfv(x: v128): v128 {
  return f32x4.mul(x, phiv(x));
}

/** dx = dy * d gelu/dx, tanh form: σ(2u) + x σ(2u) σ(-2u) · 2 du/dx, with σ(2u) = 1/(1+e), σ(-2u) = e/(1+e), e = e^{-2u}. */
// @ts-ignore: decorator
@inline export function geluTanhGradv(x: v128, dy: v128): v128 {
  const x2 = f32x4.mul(x, x);
  const u = f32x4.mul(splat(SQRT_2_OVER_PI), madd(f32x4.mul(splat(GELU_C), x2), x, x));
  const e = expv(f32x4.mul(splat(-2), u));
  const s = f32x4.div(splat(1), f32x4.add(splat(1), e));
  const sNeg = f32x4.mul(e, s); // σ(-2u); e = inf gives NaN here, handled below
  const du2 = f32x4.mul(splat(2 * SQRT_2_OVER_PI), madd(splat(3 * GELU_C), x2, splat(1)));
  let d = madd(f32x4.mul(f32x4.mul(x, s), sNeg), du2, s);
  // far left (e overflowed): the derivative is 0, as the reference's 0.5(1 + tanh u) + ... gives
  d = v128.bitselect(splat(0), d, f32x4.eq(e, splat(Infinity)));
  return f32x4.mul(dy, d);
}

/** dx = dy * (Φ(x) + x φ(x)), erf form; one exponential, e^{-x²/2}, serves φ and Φ. */
// @ts-ignore: decorator
@inline export function geluErfGradv(x: v128, dy: v128): v128 {
  const e = expv(f32x4.mul(splat(-0.5), f32x4.mul(x, x)));
  const pdf = f32x4.mul(e, splat(0.3989422804014327));
  return f32x4.mul(dy, madd(x, pdf, phiWith(x, e)));
}
