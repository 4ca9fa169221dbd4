// Strided copies of 32-bit elements (float32 or int32, never a cast) over up to 8 axes: a permuted
// view made contiguous (attention's heads split and joined), a slice written into a larger array;
// and fills of a 32-bit pattern (zeroed gradients, an embedding's scatter-add target).
// The work is rows of the last axis; a piece of rows is one pool task, so the result is the same
// on any thread count (a copy has nothing to round). Not ISA code: a row with unit strides is a
// memcpy, any other a plain loop the compiler vectorizes where it can.
#pragma once
#include <cstdint>
#include <cstring>

namespace qkv {

constexpr int COPY_MAX_RANK = 8;

struct CopyArgs {
  const uint32_t* src;
  uint32_t* dst;
  int rank;
  long n[COPY_MAX_RANK], ss[COPY_MAX_RANK], sd[COPY_MAX_RANK];
};

/** Rows [r0, r1) of the index space [n0·…·n(rank-2)] × n(rank-1), the last axis a row. */
static void copyRows(const CopyArgs& g, long r0, long r1) {
  const int last = g.rank - 1;
  long idx[COPY_MAX_RANK] = {0};
  long so = 0, dof = 0, rest = r0;
  for (int i = last - 1; i >= 0; i--) {
    idx[i] = rest % g.n[i];
    rest /= g.n[i];
    so += idx[i] * g.ss[i];
    dof += idx[i] * g.sd[i];
  }
  const long len = g.n[last], s1 = g.ss[last], d1 = g.sd[last];
  for (long r = r0; r < r1; r++) {
    const uint32_t* s = g.src + so;
    uint32_t* d = g.dst + dof;
    if (s1 == 1 && d1 == 1) std::memcpy(d, s, (size_t)len * 4);
    else if (d1 == 1) for (long j = 0; j < len; j++) d[j] = s[j * s1];
    else for (long j = 0; j < len; j++) d[j * d1] = s[j * s1];
    // the next row: an odometer over the outer axes
    for (int i = last - 1; i >= 0; i--) {
      so += g.ss[i];
      dof += g.sd[i];
      if (++idx[i] < g.n[i]) break;
      so -= g.ss[i] * g.n[i];
      dof -= g.sd[i] * g.n[i];
      idx[i] = 0;
    }
  }
}

/** out[i] = word for i in [0, n): a float32 or int32 value as its 32 bits. */
static void fillWords(uint32_t* out, long n, uint32_t word) {
  if (word == 0) {
    std::memset(out, 0, (size_t)n * 4);
    return;
  }
  for (long i = 0; i < n; i++) out[i] = word;
}

}  // namespace qkv
