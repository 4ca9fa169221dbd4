// 1-D convolution, PyTorch layout (x [B, Cin, L], w [Cout, Cin/groups, K], y [B, Cout, outLength]):
// forward, gradient of the input and of the weight, as the reference (src/kernels/ref/conv1d.ts)
// with float accumulators. Each call does one task: forward and grad-input one batch row, grad-
// weight one output channel (summed over the batch in order), so no two tasks write the same float.
#pragma once
#include "vec.h"

namespace qkv { namespace QKV_ISA {

/** The outputs t in [lo, hi) whose tap k reads inside the input (the rest read zero padding). */
static inline void convRange(const ConvArgs& a, long k, long& lo, long& hi) {
  long shift = k * a.dilation - a.padLeft;
  // t*stride + shift >= 0  and  t*stride + shift < length
  lo = shift >= 0 ? 0 : (-shift + a.stride - 1) / a.stride;
  long top = a.length - shift;  // t*stride < top
  hi = top <= 0 ? 0 : mins((top + a.stride - 1) / a.stride, a.outLength);
  if (hi < lo) hi = lo;
}

/** acc[t] += wv * x[t*stride + shift] for t in [lo, hi). */
static inline void axpyStrided(float* acc, const float* x, float wv, long stride, long shift, long lo, long hi) {
  if (stride == 1) {
    const float* xs = x + shift;
    for (long t = lo; t < hi; t++) acc[t] += wv * xs[t];
  } else {
    for (long t = lo; t < hi; t++) acc[t] += wv * x[t * stride + shift];
  }
}

/** y[b] for one batch row b. */
static void conv1dForward(const ConvArgs& a, const float* x, const float* w, float* y, long b) {
  long cinG = a.cin / a.groups, coutG = a.cout / a.groups;
  for (long co = 0; co < a.cout; co++) {
    long g = co / coutG;
    float* acc = y + (b * a.cout + co) * a.outLength;
    for (long t = 0; t < a.outLength; t++) acc[t] = 0;
    for (long cg = 0; cg < cinG; cg++) {
      const float* xr = x + (b * a.cin + g * cinG + cg) * a.length;
      const float* wr = w + (co * cinG + cg) * a.kernel;
      for (long k = 0; k < a.kernel; k++) {
        long lo, hi;
        convRange(a, k, lo, hi);
        axpyStrided(acc, xr, wr[k], a.stride, k * a.dilation - a.padLeft, lo, hi);
      }
    }
  }
}

/** dx[b] for one batch row b: every output position scatters back through every tap. */
static void conv1dGradInput(const ConvArgs& a, const float* dy, const float* w, float* dx, long b) {
  long cinG = a.cin / a.groups, coutG = a.cout / a.groups;
  float* dxb = dx + b * a.cin * a.length;
  for (long i = 0; i < a.cin * a.length; i++) dxb[i] = 0;
  for (long co = 0; co < a.cout; co++) {
    long g = co / coutG;
    const float* dyr = dy + (b * a.cout + co) * a.outLength;
    for (long cg = 0; cg < cinG; cg++) {
      float* dxr = dxb + (g * cinG + cg) * a.length;
      const float* wr = w + (co * cinG + cg) * a.kernel;
      for (long k = 0; k < a.kernel; k++) {
        long lo, hi;
        convRange(a, k, lo, hi);
        long shift = k * a.dilation - a.padLeft;
        float wv = wr[k];
        if (a.stride == 1) {
          float* d = dxr + shift;
          for (long t = lo; t < hi; t++) d[t] += wv * dyr[t];
        } else {
          for (long t = lo; t < hi; t++) dxr[t * a.stride + shift] += wv * dyr[t];
        }
      }
    }
  }
}

/** dw[co] (its Cin/groups × K taps) for one output channel co, summed over the batch in order. */
static void conv1dGradWeight(const ConvArgs& a, const float* dy, const float* x, float* dw, long co) {
  long cinG = a.cin / a.groups, coutG = a.cout / a.groups;
  long g = co / coutG;
  float* dwr = dw + co * cinG * a.kernel;
  for (long i = 0; i < cinG * a.kernel; i++) dwr[i] = 0;
  for (long b = 0; b < a.batch; b++) {
    const float* dyr = dy + (b * a.cout + co) * a.outLength;
    for (long cg = 0; cg < cinG; cg++) {
      const float* xr = x + (b * a.cin + g * cinG + cg) * a.length;
      for (long k = 0; k < a.kernel; k++) {
        long lo, hi;
        convRange(a, k, lo, hi);
        long shift = k * a.dilation - a.padLeft;
        float s = 0;
        if (a.stride == 1) {
          const float* xs = xr + shift;
          for (long t = lo; t < hi; t++) s += xs[t] * dyr[t];
        } else {
          for (long t = lo; t < hi; t++) s += xr[t * a.stride + shift] * dyr[t];
        }
        dwr[cg * a.kernel + k] += s;
      }
    }
  }
}

}}  // namespace qkv::QKV_ISA
