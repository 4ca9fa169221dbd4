// Dropout with a counter-based mask (src/kernels/ref/dropout.ts is the definition): element i's bits
// are lowbias32(lowbias32(i ^ key0) ^ key1), so any piece of the array, on any thread, is computed
// alone and equals the reference bit for bit: W indices a vector, in plain uint32 arithmetic.
#pragma once
#include "vec.h"

namespace qkv { namespace QKV_ISA {

typedef uint32_t vu __attribute__((vector_size(W * 4)));

/** Dropout's key, threshold and kept value (DropoutArgs of src/kernels/contract.ts). */
struct DropKey {
  uint32_t key0, key1, threshold;
  float scale;
};

/** One 32-bit word, or W of them (T = uint32_t or vu: the same operations lane by lane). */
template <typename T>
static inline T lowbias32(T x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}

template <size_t... I> static inline vu iotaLanes(std::index_sequence<I...>) { return vu{(uint32_t)I...}; }

/** The factor (scale if kept, else 0) of mask element i (taken mod 2^32, as JavaScript's ^ does). */
static inline float dropFactor(const DropKey& k, uint64_t i) {
  return (lowbias32(lowbias32((uint32_t)i ^ k.key0) ^ k.key1) >> 8) >= k.threshold ? k.scale : 0.0f;
}

/** The factors of mask elements i, i + 1, ..., i + W - 1. */
static inline vf dropFactors(const DropKey& k, uint64_t i) {
  const vu idx = iotaLanes(std::make_index_sequence<W>{}) + (uint32_t)i;
  const vu h = lowbias32(lowbias32(idx ^ k.key0) ^ k.key1);
  const vi keep = (vi)((h >> 8) >= k.threshold);  // all ones where kept
  return (vf)((vi)splat(k.scale) & keep);
}

/** out[i] = x[i] · (kept ? scale : 0) for elements [start, start + n) (x and out point at element start). */
static void dropout(const float* __restrict x, float* __restrict out, long start, long n, uint32_t key0, uint32_t key1, uint32_t threshold,
                    float scale) {
  const DropKey k{key0, key1, threshold, scale};
  long i = 0;
  for (; i + W <= n; i += W) store(out + i, load(x + i) * dropFactors(k, (uint64_t)(start + i)));
  for (; i < n; i++) out[i] = x[i] * dropFactor(k, (uint64_t)(start + i));
}

}}  // namespace qkv::QKV_ISA
