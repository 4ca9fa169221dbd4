// Cross-entropy (ignore index, label smoothing) and its gradient over rows, embedding Gather and
// ScatterAdd, and causal linear attention ("Transformers are RNNs") forward and backward, as the
// wasm kernels (asm/loss.ts, gather.ts, linear-attention.ts) compute them. Callers pass ranges
// (rows, ids, column strips, bh slices) that addon.cc cuts by the shape alone; each element is
// computed the same way in any range, so the thread count never changes a result.
#pragma once
#include "vec.h"

namespace qkv { namespace QKV_ISA {

/** Per-row loss -Σ q log softmax(x), q = (1-ε)·onehot(t) + ε/C (0 on ignored rows), lse saved; rows [r0, r1). */
static void crossEntropy(const float* x, const int32_t* targets, long r0, long r1, long classes, int ignoreIndex,
                         double smoothing, float* loss, float* lse) {
  for (long r = r0; r < r1; r++) {
    const float* xr = x + r * classes;
    vf mv = splat(-INFINITY);
    long c = 0;
    for (; c + W <= classes; c += W) { vf v = load(xr + c); mv = v > mv ? v : mv; }
    float m = hmax(mv);
    for (; c < classes; c++) m = fmaxs(m, xr[c]);
    vf ev = {}, xv = {};
    for (c = 0; c + W <= classes; c += W) {
      vf v = load(xr + c);
      ev += expv(v - m);
      xv += v;
    }
    float s = hsum(ev), sumLogits = hsum(xv);
    for (; c < classes; c++) {
      s += expv(splat(xr[c] - m))[0];
      sumLogits += xr[c];
    }
    double l = (double)m + std::log((double)s);
    lse[r] = (float)l;
    int t = targets[r];
    if (t == ignoreIndex) { loss[r] = 0; continue; }
    double nll = l - (double)xr[t];
    double smooth = l - (double)sumLogits / (double)classes;
    loss[r] = (float)((1 - smoothing) * nll + smoothing * smooth);
  }
}

/** dlogits = dloss_r (softmax(x) - q) for rows [r0, r1); 0 on ignored rows. */
static void crossEntropyGrad(const float* x, const int32_t* targets, const float* lse, const float* dloss, long r0, long r1,
                             long classes, int ignoreIndex, double smoothing, float* dx) {
  const float qOff = (float)(smoothing / (double)classes);
  const float qHit = (float)((1 - smoothing) + smoothing / (double)classes);
  for (long r = r0; r < r1; r++) {
    const float* xr = x + r * classes;
    float* dr = dx + r * classes;
    int t = targets[r];
    if (t == ignoreIndex) {
      std::memset(dr, 0, (size_t)classes * 4);
      continue;
    }
    float g = dloss[r], l = lse[r];
    long c = 0;
    for (; c + W <= classes; c += W) store(dr + c, g * (expv(load(xr + c) - l) - qOff));
    if (c < classes) storePart(dr + c, g * (expv(loadPart(xr + c, classes - c) - l) - qOff), classes - c);
    dr[t] = g * (expv(splat(xr[t] - l))[0] - qHit);
  }
}

/** out[i, :] = table[ids[i], :] for i in [i0, i1) (32-bit elements). */
static void gather(const float* table, long cols, const int32_t* ids, long i0, long i1, float* out) {
  for (long i = i0; i < i1; i++) std::memcpy(out + i * cols, table + (long)ids[i] * cols, (size_t)cols * 4);
}

/** out[ids[i], c0:c1] += src[i, c0:c1] for every i in order (so repeated ids add up as in the reference). */
static void scatterAdd(const float* src, long cols, const int32_t* ids, long count, long c0, long c1, float* out) {
  for (long i = 0; i < count; i++) {
    float* o = out + (long)ids[i] * cols;
    const float* s = src + i * cols;
    long c = c0;
    for (; c + W <= c1; c += W) store(o + c, load(o + c) + load(s + c));
    for (; c < c1; c++) o[c] += s[c];
  }
}

static inline float dot(const float* a, const float* b, long n) {
  vf acc = {};
  long i = 0;
  for (; i + W <= n; i += W) acc += load(a + i) * load(b + i);
  float s = hsum(acc);
  for (; i < n; i++) s += a[i] * b[i];
  return s;
}

/** y += alpha·x over n floats. */
static inline void axpy(float* y, float alpha, const float* x, long n) {
  long i = 0;
  for (; i + W <= n; i += W) store(y + i, load(y + i) + alpha * load(x + i));
  for (; i < n; i++) y[i] += alpha * x[i];
}

/** y = Σ_a w[a]·M[a, :] over dk rows of a dk×dv matrix. */
static inline void combine(float* y, const float* w, const float* M, long dk, long dv) {
  std::memset(y, 0, (size_t)dv * 4);
  for (long a = 0; a < dk; a++) axpy(y, w[a], M + a * dv, dv);
}

/** Forward for slice h: S += φk vᵀ, z += φk, den = φq·z + eps, out = φqᵀ S / den (float32 states, as wasm). */
static void linearForward(const LinearArgs& a, long h) {
  const long n = a.n, dk = a.dkDim, dv = a.dvDim;
  float* S = scratch(1, (size_t)(dk * dv + dk));
  float* z = S + dk * dv;
  std::memset(S, 0, (size_t)(dk * dv + dk) * 4);
  for (long i = 0; i < n; i++) {
    const long r = h * n + i;
    const float *qi = a.q + r * dk, *ki = a.k + r * dk, *vi = a.v + r * dv;
    for (long c = 0; c < dk; c++) z[c] += ki[c];
    float d = a.eps + dot(qi, z, dk);
    for (long c = 0; c < dk; c++) axpy(S + c * dv, ki[c], vi, dv);
    float* o = a.outW + r * dv;
    combine(o, qi, S, dk, dv);
    for (long b = 0; b < dv; b++) o[b] = o[b] / d;
    a.denW[r] = d;
  }
}

/** Backward for slice h: the forward sweep for dφq, the reverse one for dφk and dv (skipped when null). */
static void linearBackward(const LinearArgs& a, long h) {
  const long n = a.n, dk = a.dkDim, dv = a.dvDim;
  float* S = scratch(1, (size_t)(dk * dv + dk + dv));
  float* z = S + dk * dv;
  float* gn = z + dk;
  // gn = dOut/den for row r; returns gd = -(dOut·out)/den
  auto rowGrads = [&](long r) {
    float d = a.den[r];
    const float* g = a.dOut + r * dv;
    for (long b = 0; b < dv; b++) gn[b] = g[b] / d;
    return -dot(g, a.out + r * dv, dv) / d;
  };
  if (a.dq) {
    std::memset(S, 0, (size_t)(dk * dv + dk) * 4);
    for (long i = 0; i < n; i++) {
      const long r = h * n + i;
      const float *ki = a.k + r * dk, *vi = a.v + r * dv;
      for (long c = 0; c < dk; c++) {
        z[c] += ki[c];
        axpy(S + c * dv, ki[c], vi, dv);
      }
      float gd = rowGrads(r);
      for (long c = 0; c < dk; c++) a.dq[r * dk + c] = gd * z[c] + dot(S + c * dv, gn, dv);
    }
  }
  if (a.dk || a.dv) {
    std::memset(S, 0, (size_t)(dk * dv + dk) * 4);
    for (long i = n - 1; i >= 0; i--) {
      const long r = h * n + i;
      const float* qi = a.q + r * dk;
      float gd = rowGrads(r);
      for (long c = 0; c < dk; c++) {
        z[c] += gd * qi[c];
        axpy(S + c * dv, qi[c], gn, dv);
      }
      if (a.dk)
        for (long c = 0; c < dk; c++) a.dk[r * dk + c] = z[c] + dot(S + c * dv, a.v + r * dv, dv);
      if (a.dv) combine(a.dv + r * dv, a.k + r * dk, S, dk, dv);
    }
  }
}

}}  // namespace qkv::QKV_ISA
