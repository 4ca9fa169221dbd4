// Vector building blocks for isa.cc: GCC vector types of QKV_W floats (16 = AVX-512, 8 = AVX2,
// 4 = SSE2/NEON), loads and stores, and exp/tanh/erf as the wasm kernels (asm/simd.ts) compute
// them, so every backend rounds alike. Everything here is static: each ISA's copy stays private
// to its object file (an inline function shared between them could be linked to the wrong ISA).
#pragma once
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace qkv { namespace QKV_ISA {

constexpr int W = QKV_W;
typedef float vf __attribute__((vector_size(W * 4)));
typedef int32_t vi __attribute__((vector_size(W * 4)));
typedef float vfu __attribute__((vector_size(W * 4), aligned(4)));

static inline vf load(const float* p) { return *(const vfu*)p; }
static inline void store(float* p, vf v) { *(vfu*)p = v; }
/** x in every lane: a broadcast (vbroadcastss from memory on x86, dup on NEON). `vf{} + x` would add
 * +0 first (turning -0 into +0), which costs an add and a register shuffle per splat: in GEMM's
 * inner loop that shuffle takes the port one of the two FMA units sits on. */
template <size_t... I> static inline vf splatLanes(float x, std::index_sequence<I...>) { return vf{((void)I, x)...}; }
static inline vf splat(float x) { return splatLanes(x, std::make_index_sequence<W>{}); }
static inline float hsum(vf v) { float s = 0; for (int i = 0; i < W; i++) s += v[i]; return s; }
static inline float hmax(vf v) { float m = v[0]; for (int i = 1; i < W; i++) m = v[i] > m ? v[i] : m; return m; }
static inline float fmaxs(float a, float b) { return b > a ? b : a; }
static inline long mins(long a, long b) { return a < b ? a : b; }
static inline long maxs(long a, long b) { return a > b ? a : b; }

// ---- TB×TB transposes in registers (AVX2's unpack / shuffle / permute2f128 pattern; SSE's and NEON's
// zip/unzip for 4): reading TB runs of TB floats and writing TB runs (GEMM's transposed operands, attention's Kᵀ)
#if QKV_W >= 8
constexpr int TB = 8;
#else
constexpr int TB = 4;
#endif
typedef float vt __attribute__((vector_size(TB * 4)));
typedef int32_t vti __attribute__((vector_size(TB * 4)));
typedef float vtu __attribute__((vector_size(TB * 4), aligned(4)));
static inline vt loadT(const float* p) { return *(const vtu*)p; }
static inline void storeT(float* p, vt v) { *(vtu*)p = v; }
template <size_t... I> static inline vt splatTLanes(float x, std::index_sequence<I...>) { return vt{((void)I, x)...}; }
static inline vt splatT(float x) { return splatTLanes(x, std::make_index_sequence<TB>{}); }

/** r[i][j] becomes r[j][i]. */
static inline void transposeT(vt r[TB]) {
#if QKV_W >= 8
  vt t[8], u[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = __builtin_shuffle(r[i], r[i + 1], vti{0, 8, 1, 9, 4, 12, 5, 13});      // unpacklo
    t[i + 1] = __builtin_shuffle(r[i], r[i + 1], vti{2, 10, 3, 11, 6, 14, 7, 15});  // unpackhi
  }
  for (int h = 0; h < 8; h += 4)
    for (int i = 0; i < 2; i++) {
      u[h + 2 * i] = __builtin_shuffle(t[h + i], t[h + i + 2], vti{0, 1, 8, 9, 4, 5, 12, 13});
      u[h + 2 * i + 1] = __builtin_shuffle(t[h + i], t[h + i + 2], vti{2, 3, 10, 11, 6, 7, 14, 15});
    }
  for (int i = 0; i < 4; i++) {
    r[i] = __builtin_shuffle(u[i], u[i + 4], vti{0, 1, 2, 3, 8, 9, 10, 11});
    r[i + 4] = __builtin_shuffle(u[i], u[i + 4], vti{4, 5, 6, 7, 12, 13, 14, 15});
  }
#else
  vt t0 = __builtin_shuffle(r[0], r[1], vti{0, 4, 1, 5}), t1 = __builtin_shuffle(r[0], r[1], vti{2, 6, 3, 7});
  vt t2 = __builtin_shuffle(r[2], r[3], vti{0, 4, 1, 5}), t3 = __builtin_shuffle(r[2], r[3], vti{2, 6, 3, 7});
  r[0] = __builtin_shuffle(t0, t2, vti{0, 1, 4, 5});
  r[1] = __builtin_shuffle(t0, t2, vti{2, 3, 6, 7});
  r[2] = __builtin_shuffle(t1, t3, vti{0, 1, 4, 5});
  r[3] = __builtin_shuffle(t1, t3, vti{2, 3, 6, 7});
#endif
}

/**
 * TB runs of TB floats (src + q·stride) loaded transposed: out[q] lane i = run i's float q. For 8, each
 * vector is loaded as two halves, run i's in the low 128 bits and run i+4's in the high (an insert
 * from memory), so only the in-lane 4×4 transposes remain: 16 shuffles instead of transposeT's 24.
 */
static inline void loadTransposedT(const float* src, long stride, vt out[TB]) {
#if QKV_W >= 8
  typedef float v4u __attribute__((vector_size(16), aligned(4)));
  vt t[8];  // t[i]: runs i | i+4, floats 0-3; t[i + 4]: the same runs' floats 4-7
#pragma GCC unroll 4
  for (int i = 0; i < 4; i++) {
    const v4u* lo = (const v4u*)(src + i * stride);
    const v4u* hi = (const v4u*)(src + (i + 4) * stride);
    t[i] = __builtin_shufflevector(lo[0], hi[0], 0, 1, 2, 3, 4, 5, 6, 7);
    t[i + 4] = __builtin_shufflevector(lo[1], hi[1], 0, 1, 2, 3, 4, 5, 6, 7);
  }
#pragma GCC unroll 2
  for (int h = 0; h < 8; h += 4) {
    const vt u0 = __builtin_shuffle(t[h], t[h + 1], vti{0, 8, 1, 9, 4, 12, 5, 13});       // unpacklo
    const vt u1 = __builtin_shuffle(t[h], t[h + 1], vti{2, 10, 3, 11, 6, 14, 7, 15});     // unpackhi
    const vt u2 = __builtin_shuffle(t[h + 2], t[h + 3], vti{0, 8, 1, 9, 4, 12, 5, 13});
    const vt u3 = __builtin_shuffle(t[h + 2], t[h + 3], vti{2, 10, 3, 11, 6, 14, 7, 15});
    out[h] = __builtin_shuffle(u0, u2, vti{0, 1, 8, 9, 4, 5, 12, 13});
    out[h + 1] = __builtin_shuffle(u0, u2, vti{2, 3, 10, 11, 6, 7, 14, 15});
    out[h + 2] = __builtin_shuffle(u1, u3, vti{0, 1, 8, 9, 4, 5, 12, 13});
    out[h + 3] = __builtin_shuffle(u1, u3, vti{2, 3, 10, 11, 6, 7, 14, 15});
  }
#else
#pragma GCC unroll 4
  for (int q = 0; q < TB; q++) out[q] = loadT(src + q * stride);
  transposeT(out);
#endif
}

static inline vf expv(vf x) {
  const vf hi = splat(88.72283935546875f), lo = splat(-104.0f), round = splat(12582912.0f);
  // below lo the result is 0 (the select at the end): compute those lanes on 0 rather than on lo,
  // whose e^lo is subnormal and costs a microcode assist per vector on x86 (a masked score is -inf)
  vf xc = hi < x ? hi : x;
  xc = xc < lo ? splat(0) : xc;
  vf t = xc * 1.44269504088896341f + round;
  vf n = t - round;
  vf r = xc - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  vf p = splat(1.9875691500e-4f);
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  vf y = (p * (r * r) + r) + 1.0f;
  vi ni = (vi)t - 0x4b400000;
  vi h = ni >> 1;
  y = y * (vf)((h + 127) << 23);
  y = y * (vf)((ni - h + 127) << 23);
  y = x > hi ? splat(INFINITY) : y;
  return x < lo ? splat(0) : y;
}

static inline vf absv(vf x) { return (vf)((vi)x & 0x7fffffff); }
static inline vf signv(vf x) { return (vf)((vi)x & (int32_t)0x80000000); }

static inline vf tanhv(vf x) {
  vf ax = absv(x);
  vf e = expv(ax + ax);
  vf big = (vf)((vi)(1.0f - 2.0f / (e + 1.0f)) | (vi)signv(x));
  vf z = x * x;
  vf p = splat(-5.70498872745e-3f);
  p = p * z + 2.06390887954e-2f;
  p = p * z + -5.37397155531e-2f;
  p = p * z + 1.33314422036e-1f;
  p = p * z + -3.33332819422e-1f;
  vf small = (p * z) * x + x;
  return ax >= 0.625f ? big : small;
}

/** Φ(x) given e = e^{-x²/2} (A&S 7.1.26 erf, as the reference). */
static inline vf phiWith(vf x, vf e) {
  vf az = absv(x) * 0.7071067811865476f;
  vf t = 1.0f / (0.3275911f * az + 1.0f);
  vf p = splat(1.061405429f);
  p = p * t + -1.453152027f;
  p = p * t + 1.421413741f;
  p = p * t + -0.284496736f;
  p = p * t + 0.254829592f;
  vf halfQ = (p * t) * (0.5f * e);
  return x < 0.0f ? halfQ : 1.0f - halfQ;
}

constexpr float SQRT_2_OVER_PI = 0.7978845608028654f;
constexpr float GELU_C = 0.044715f;

static inline vf geluTanhv(vf x) {
  vf x3 = x * x * x;
  vf m2u = (-2 * SQRT_2_OVER_PI) * (GELU_C * x3 + x);
  return x / (1.0f + expv(m2u));
}
static inline vf geluErfv(vf x) { return x * phiWith(x, expv(-0.5f * (x * x))); }
static inline vf geluTanhGradv(vf x, vf dy) {
  vf x2 = x * x;
  vf u = SQRT_2_OVER_PI * ((GELU_C * x2) * x + x);
  vf e = expv(-2.0f * u);
  vf s = 1.0f / (1.0f + e);
  vf sNeg = e * s;
  vf du2 = (2 * SQRT_2_OVER_PI) * ((3 * GELU_C) * x2 + 1.0f);
  vf d = ((x * s) * sNeg) * du2 + s;
  d = e == INFINITY ? splat(0) : d;
  return dy * d;
}
static inline vf geluErfGradv(vf x, vf dy) {
  vf e = expv(-0.5f * (x * x));
  vf pdf = e * 0.3989422804014327f;
  return dy * (x * pdf + phiWith(x, e));
}

/** Per-thread 64-byte-aligned scratch, grown on demand: slot 0 GEMM's packed panels, slot 1 attention's tiles, slot 2 strided rows,
 * slot 3 a k-split GEMV's slice sums (the planning thread's, written by every task of the product). */
static float* scratch(int slot, size_t floats) {
  static thread_local float* buf[4] = {nullptr, nullptr, nullptr, nullptr};
  static thread_local size_t have[4] = {0, 0, 0, 0};
  if (have[slot] < floats) {
    free(buf[slot]);
    buf[slot] = (float*)aligned_alloc(64, ((floats * 4 + 63) / 64) * 64);
    have[slot] = floats;
  }
  return buf[slot];
}

/** n floats from p into a zero-padded vector (n < W). */
static inline vf loadPart(const float* p, long n) { vf v = {}; for (long i = 0; i < n; i++) v[i] = p[i]; return v; }
static inline void storePart(float* p, vf v, long n) { for (long i = 0; i < n; i++) p[i] = v[i]; }

}}  // namespace qkv::QKV_ISA
