// Binary elementwise maps over any broadcast or strided layout (up to 4 dims after the caller
// merged what it could): out (contiguous) = a op b, a and b read through element strides (0 where
// broadcast), as the reference kernel's index tables. float32 operands run in float (for + - * /
// a correctly rounded float op equals the reference's double op rounded to float); an int32
// operand sends the row through double, as the reference computes. Comparisons may write int32.
#pragma once
#include "vec.h"

namespace qkv { namespace QKV_ISA {

template <int OP, typename T> static inline auto sop(T a, T b) {
  if constexpr (OP == S_ADD) return a + b;
  else if constexpr (OP == S_SUB) return a - b;
  else if constexpr (OP == S_MUL) return a * b;
  else if constexpr (OP == S_DIV) return a / b;
  else if constexpr (OP == S_MAX) return (a != a || b != b) ? a + b : (b > a ? b : a);
  else if constexpr (OP == S_MIN) return (a != a || b != b) ? a + b : (b < a ? b : a);
  else if constexpr (OP == S_EQ) return (T)(a == b);
  else if constexpr (OP == S_NE) return (T)(a != b);
  else if constexpr (OP == S_LT) return (T)(a < b);
  else if constexpr (OP == S_LE) return (T)(a <= b);
  else if constexpr (OP == S_GT) return (T)(a > b);
  else return (T)(a >= b);
}

/** out[j] = a[j*sa] op b[j*sb], j < n; the common strides get their own loop so they vectorize. */
template <int OP, typename T> static void stridedRow(const T* a, long sa, const T* b, long sb, T* out, long n) {
  if (sa == 1 && sb == 1) for (long j = 0; j < n; j++) out[j] = sop<OP, T>(a[j], b[j]);
  else if (sa == 1 && sb == 0) { T s = b[0]; for (long j = 0; j < n; j++) out[j] = sop<OP, T>(a[j], s); }
  else if (sa == 0 && sb == 1) { T s = a[0]; for (long j = 0; j < n; j++) out[j] = sop<OP, T>(s, b[j]); }
  else for (long j = 0; j < n; j++) out[j] = sop<OP, T>(a[j * sa], b[j * sb]);
}

/** Rows of this many elements at most are converted at a time (the scratch per thread). */
constexpr long STRIDED_CHUNK = 2048;

static inline void toDouble(const void* p, bool isInt, long s, long n, double* dst) {
  if (isInt) { const int32_t* q = (const int32_t*)p; for (long j = 0; j < n; j++) dst[j] = q[j * s]; }
  else { const float* q = (const float*)p; for (long j = 0; j < n; j++) dst[j] = q[j * s]; }
}

/** Rows [r0, r1) of the [n0·n1·n2, n3] output. */
template <int OP> static void stridedRows(const StridedArgs& g, long r0, long r1) {
  const long n1 = g.n[1], n2 = g.n[2], n3 = g.n[3];
  const bool mixed = g.aInt || g.bInt;
  double* tmp = mixed || g.outInt ? (double*)scratch(2, 6 * STRIDED_CHUNK) : nullptr;
  for (long r = r0; r < r1; r++) {
    long i2 = r % n2, i1 = (r / n2) % n1, i0 = r / (n1 * n2);
    long ao = i0 * g.sa[0] + i1 * g.sa[1] + i2 * g.sa[2];
    long bo = i0 * g.sb[0] + i1 * g.sb[1] + i2 * g.sb[2];
    for (long j0 = 0; j0 < n3; j0 += STRIDED_CHUNK) {
      long n = mins(STRIDED_CHUNK, n3 - j0);
      long ai = ao + j0 * g.sa[3], bi = bo + j0 * g.sb[3], oi = r * n3 + j0;
      if (!mixed && !g.outInt) {
        stridedRow<OP, float>((const float*)g.a + ai, g.sa[3], (const float*)g.b + bi, g.sb[3], (float*)g.out + oi, n);
      } else if (!mixed) {
        // float operands, int32 out (a comparison): compute in float, store 0/1
        float* o = (float*)tmp;
        stridedRow<OP, float>((const float*)g.a + ai, g.sa[3], (const float*)g.b + bi, g.sb[3], o, n);
        int32_t* out = (int32_t*)g.out + oi;
        for (long j = 0; j < n; j++) out[j] = (int32_t)o[j];
      } else {
        double *da = tmp, *db = tmp + STRIDED_CHUNK, *o = tmp + 2 * STRIDED_CHUNK;
        toDouble((const int32_t*)g.a + ai, g.aInt, g.sa[3], g.sa[3] ? n : 1, da);
        toDouble((const int32_t*)g.b + bi, g.bInt, g.sb[3], g.sb[3] ? n : 1, db);
        stridedRow<OP, double>(da, g.sa[3] ? 1 : 0, db, g.sb[3] ? 1 : 0, o, n);
        if (g.outInt) { int32_t* out = (int32_t*)g.out + oi; for (long j = 0; j < n; j++) out[j] = (int32_t)o[j]; }
        else { float* out = (float*)g.out + oi; for (long j = 0; j < n; j++) out[j] = (float)o[j]; }
      }
    }
  }
}

static void binaryStrided(const StridedArgs& g, long r0, long r1) {
  switch (g.op) {
    case S_ADD: return stridedRows<S_ADD>(g, r0, r1);
    case S_SUB: return stridedRows<S_SUB>(g, r0, r1);
    case S_MUL: return stridedRows<S_MUL>(g, r0, r1);
    case S_DIV: return stridedRows<S_DIV>(g, r0, r1);
    case S_MAX: return stridedRows<S_MAX>(g, r0, r1);
    case S_MIN: return stridedRows<S_MIN>(g, r0, r1);
    case S_EQ: return stridedRows<S_EQ>(g, r0, r1);
    case S_NE: return stridedRows<S_NE>(g, r0, r1);
    case S_LT: return stridedRows<S_LT>(g, r0, r1);
    case S_LE: return stridedRows<S_LE>(g, r0, r1);
    case S_GT: return stridedRows<S_GT>(g, r0, r1);
    default: return stridedRows<S_GE>(g, r0, r1);
  }
}

/** Rows [r0, r1) of where(cond, a, b): 32-bit words copied, so int32 and float32 values alike. */
static void whereStrided(const WhereArgs& g, long r0, long r1) {
  const long n1 = g.n[1], n2 = g.n[2], n3 = g.n[3];
  const uint32_t *a = (const uint32_t*)g.a, *b = (const uint32_t*)g.b;
  uint32_t* out = (uint32_t*)g.out;
  for (long r = r0; r < r1; r++) {
    long i2 = r % n2, i1 = (r / n2) % n1, i0 = r / (n1 * n2);
    long co = i0 * g.sc[0] + i1 * g.sc[1] + i2 * g.sc[2];
    long ao = i0 * g.sa[0] + i1 * g.sa[1] + i2 * g.sa[2];
    long bo = i0 * g.sb[0] + i1 * g.sb[1] + i2 * g.sb[2];
    uint32_t* o = out + r * n3;
    for (long j = 0; j < n3; j++) {
      long ci = co + j * g.sc[3];
      // a float condition is true when nonzero, -0 included as zero and NaN as true (the reference's !== 0)
      bool c = g.condFloat ? ((const float*)g.cond)[ci] != 0.0f : ((const int32_t*)g.cond)[ci] != 0;
      o[j] = c ? a[ao + j * g.sa[3]] : b[bo + j * g.sb[3]];
    }
  }
}

}}  // namespace qkv::QKV_ISA
