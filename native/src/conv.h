// 1-D convolution as GEMMs (PyTorch layout: x [B, Cin, L], w [Cout, Cin/groups, K], y [B, Cout,
// outLength]). The column matrix col [(b, t), (ci, k)] holds x[b, ci, t·stride + k·dilation -
// padLeft] (0 in the padding), so per group g, with yT [(b, t), co]:
//   forward      yT[:, g] = col[:, g] · w[g]ᵀ
//   grad-weight  dw[g] = dyT[:, g]ᵀ · col[:, g]
//   grad-input   dcol[:, g] = dyT[:, g] · w[g], then scattered back into dx (col2im)
// The GEMMs are the ISA's packed kernel (gemm.h); these are the plain moves around them, each
// over batch rows [b0, b1) so the pool can split them and the caller can cut the batch in chunks.
#pragma once
#include "kernels.h"

namespace qkv {

/** col rows (b, t) for b in [b0, b1), relative to b0: [(b - b0)·outLength + t, ci·K + k]. */
static void im2col(const ConvArgs& a, const float* x, long b0, long b1, float* col) {
  const long cols = a.cin * a.kernel;
  for (long b = b0; b < b1; b++) {
    for (long t = 0; t < a.outLength; t++) {
      float* row = col + ((b - b0) * a.outLength + t) * cols;
      for (long ci = 0; ci < a.cin; ci++) {
        const float* xr = x + (b * a.cin + ci) * a.length;
        long pos = t * a.stride - a.padLeft;
        for (long k = 0; k < a.kernel; k++, pos += a.dilation) {
          row[ci * a.kernel + k] = pos >= 0 && pos < a.length ? xr[pos] : 0.0f;
        }
      }
    }
  }
}

/** dx[b] = Σ of dcol's entries that read each input position, for b in [b0, b1) (dcol relative to b0). */
static void col2im(const ConvArgs& a, const float* dcol, long b0, long b1, float* dx) {
  const long cols = a.cin * a.kernel;
  for (long b = b0; b < b1; b++) {
    float* dxb = dx + b * a.cin * a.length;
    for (long i = 0; i < a.cin * a.length; i++) dxb[i] = 0.0f;
    for (long t = 0; t < a.outLength; t++) {
      const float* row = dcol + ((b - b0) * a.outLength + t) * cols;
      for (long ci = 0; ci < a.cin; ci++) {
        float* dxr = dxb + ci * a.length;
        long pos = t * a.stride - a.padLeft;
        for (long k = 0; k < a.kernel; k++, pos += a.dilation) {
          if (pos >= 0 && pos < a.length) dxr[pos] += row[ci * a.kernel + k];
        }
      }
    }
  }
}

/** y[b, co, t] = yT[(b - b0)·outLength + t, co] for b in [b0, b1). */
static void fromRows(const ConvArgs& a, const float* yT, long b0, long b1, float* y) {
  for (long b = b0; b < b1; b++)
    for (long co = 0; co < a.cout; co++) {
      float* yr = y + (b * a.cout + co) * a.outLength;
      const float* src = yT + (b - b0) * a.outLength * a.cout + co;
      for (long t = 0; t < a.outLength; t++) yr[t] = src[t * a.cout];
    }
}

/** dyT[(b - b0)·outLength + t, co] = dy[b, co, t] for b in [b0, b1). */
static void toRows(const ConvArgs& a, const float* dy, long b0, long b1, float* dyT) {
  for (long b = b0; b < b1; b++)
    for (long co = 0; co < a.cout; co++) {
      const float* dr = dy + (b * a.cout + co) * a.outLength;
      float* dst = dyT + (b - b0) * a.outLength * a.cout + co;
      for (long t = 0; t < a.outLength; t++) dst[t * a.cout] = dr[t];
    }
}

}  // namespace qkv
