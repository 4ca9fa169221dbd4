// Max-pooling over each whole row of a [rows, cols] array, with the index of each maximum, and its
// gradient (a scatter of dy to those indices), as the wasm kernels (asm/reduce.ts max_pool,
// max_pool_grad) compute them: ties go to the first maximum, a NaN wins (the first one). Rows
// [r0, r1) only: addon.cc cuts the rows by the shape alone.
#pragma once
#include "vec.h"

namespace qkv { namespace QKV_ISA {

static void maxPool(const float* x, long r0, long r1, long cols, float* values, int32_t* indices) {
  for (long r = r0; r < r1; r++) {
    const float* xr = x + r * cols;
    float best = xr[0];
    int32_t at = 0;
    for (long c = 1; c < cols && best == best; c++) {
      float v = xr[c];
      if (v > best || v != v) { best = v; at = (int32_t)c; }
    }
    values[r] = best;
    indices[r] = at;
  }
}

/** dx[r, :] = 0 but dx[r, indices[r]] = dy[r]; an index outside the row leaves the row 0. */
static void maxPoolGrad(const float* dy, const int32_t* indices, long r0, long r1, long cols, float* dx) {
  std::memset(dx + r0 * cols, 0, (size_t)((r1 - r0) * cols) * 4);
  for (long r = r0; r < r1; r++) {
    int32_t at = indices[r];
    if (at >= 0 && at < cols) dx[r * cols + at] = dy[r];
  }
}

}}  // namespace qkv::QKV_ISA
