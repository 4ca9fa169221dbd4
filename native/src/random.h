// Dropout with a counter-based mask (src/kernels/ref/dropout.ts is the definition): element i's bits
// are lowbias32(lowbias32(i ^ key0) ^ key1), so any piece of the array, on any thread, is computed
// alone and equals the reference bit for bit. Plain uint32 arithmetic that the compiler vectorizes.
#pragma once
#include "vec.h"

namespace qkv { namespace QKV_ISA {

static inline uint32_t lowbias32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}

/** out[i] = x[i] · (kept ? scale : 0) for elements [start, start + n) (x and out point at element start). */
static void dropout(const float* __restrict x, float* __restrict out, long start, long n, uint32_t key0, uint32_t key1, uint32_t threshold,
                    float scale) {
  const uint32_t base = (uint32_t)start;  // the index is taken mod 2^32, as JavaScript's ^ does
  for (long i = 0; i < n; i++) {
    const uint32_t h = lowbias32(lowbias32((base + (uint32_t)i) ^ key0) ^ key1);
    out[i] = x[i] * ((h >> 8) >= threshold ? scale : 0.0f);
  }
}

}}  // namespace qkv::QKV_ISA
