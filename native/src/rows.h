// Elementwise maps (exp, tanh, GELU and its gradient, relu, + - * / with scalar and bias-row
// forms), AdamW, and row kernels (layerNorm, softmax, log-softmax and their gradients).
// Callers pass ranges, so the pool can split them; each element is computed the same way in any range.
#pragma once
#include "vec.h"

namespace qkv { namespace QKV_ISA {

template <int OP> static inline vf unaryv(vf x) {
  if (OP == U_EXP) return expv(x);
  if (OP == U_TANH) return tanhv(x);
  if (OP == U_GELU_TANH) return geluTanhv(x);
  if (OP == U_GELU_ERF) return geluErfv(x);
  return x > 0.0f ? x : splat(0);  // relu as the reference's x > 0 ? x : 0 (NaN and -0 give +0)
}

template <int OP> static void unaryLoop(const float* x, float* out, long n) {
  long i = 0;
  for (; i + W <= n; i += W) store(out + i, unaryv<OP>(load(x + i)));
  if (i < n) storePart(out + i, unaryv<OP>(loadPart(x + i, n - i)), n - i);
}

static void unary(int op, const float* x, float* out, long n) {
  switch (op) {
    case U_EXP: return unaryLoop<U_EXP>(x, out, n);
    case U_TANH: return unaryLoop<U_TANH>(x, out, n);
    case U_GELU_TANH: return unaryLoop<U_GELU_TANH>(x, out, n);
    case U_GELU_ERF: return unaryLoop<U_GELU_ERF>(x, out, n);
    default: return unaryLoop<U_RELU>(x, out, n);
  }
}

static void geluGrad(const float* x, const float* dy, float* out, long n, int approximate) {
  long i = 0;
  if (approximate) {
    for (; i + W <= n; i += W) store(out + i, geluTanhGradv(load(x + i), load(dy + i)));
    if (i < n) storePart(out + i, geluTanhGradv(loadPart(x + i, n - i), loadPart(dy + i, n - i)), n - i);
  } else {
    for (; i + W <= n; i += W) store(out + i, geluErfGradv(load(x + i), load(dy + i)));
    if (i < n) storePart(out + i, geluErfGradv(loadPart(x + i, n - i), loadPart(dy + i, n - i)), n - i);
  }
}

template <int OP> static inline vf binv(vf a, vf b) {
  if (OP == B_ADD) return a + b;
  if (OP == B_SUB) return a - b;
  if (OP == B_MUL) return a * b;
  return a / b;
}
template <int OP> static inline float bins(float a, float b) {
  if (OP == B_ADD) return a + b;
  if (OP == B_SUB) return a - b;
  if (OP == B_MUL) return a * b;
  return a / b;
}

/** out[i] = a[i] op b[i] with a or b a scalar (form VS/SV) or a row of `inner` repeating (VR/RV); i in [0, n). */
template <int OP> static void binaryLoop(int form, const float* a, const float* b, float* out, long n, long inner) {
  if (form == F_VV) {
    long i = 0;
    for (; i + W <= n; i += W) store(out + i, binv<OP>(load(a + i), load(b + i)));
    for (; i < n; i++) out[i] = bins<OP>(a[i], b[i]);
  } else if (form == F_VS || form == F_SV) {
    const float* v = form == F_VS ? a : b;
    float s = form == F_VS ? b[0] : a[0];
    vf sv = splat(s);
    long i = 0;
    if (form == F_VS) {
      for (; i + W <= n; i += W) store(out + i, binv<OP>(load(v + i), sv));
      for (; i < n; i++) out[i] = bins<OP>(v[i], s);
    } else {
      for (; i + W <= n; i += W) store(out + i, binv<OP>(sv, load(v + i)));
      for (; i < n; i++) out[i] = bins<OP>(s, v[i]);
    }
  } else {
    // a row repeated: n is a multiple of inner
    bool rowRight = form == F_VR;
    const float* v = rowRight ? a : b;
    const float* row = rowRight ? b : a;
    for (long base = 0; base < n; base += inner) {
      long j = 0;
      for (; j + W <= inner; j += W) {
        vf x = load(v + base + j), r = load(row + j);
        store(out + base + j, rowRight ? binv<OP>(x, r) : binv<OP>(r, x));
      }
      for (; j < inner; j++) out[base + j] = rowRight ? bins<OP>(v[base + j], row[j]) : bins<OP>(row[j], v[base + j]);
    }
  }
}

static void binary(int op, int form, const float* a, const float* b, float* out, long n, long inner) {
  switch (op) {
    case B_ADD: return binaryLoop<B_ADD>(form, a, b, out, n, inner);
    case B_SUB: return binaryLoop<B_SUB>(form, a, b, out, n, inner);
    case B_MUL: return binaryLoop<B_MUL>(form, a, b, out, n, inner);
    default: return binaryLoop<B_DIV>(form, a, b, out, n, inner);
  }
}

static void adamw(float* __restrict p, const float* __restrict g, float* __restrict m, float* __restrict v, long n,
                  float b1, float b1c, float b2, float b2c, float decay, float stepSize, float sqrtC2, float eps) {
  // the wasm kernel's formula: p = p*decay - stepSize*m / (sqrt(v)/sqrtC2 + eps)
  float invC2 = 1.0f / sqrtC2;
  for (long i = 0; i < n; i++) {
    float gi = g[i];
    float mi = b1 * m[i] + b1c * gi;
    float vi = b2 * v[i] + (b2c * gi) * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i] * decay - (stepSize * mi) / (__builtin_sqrtf(vi) * invC2 + eps);
  }
}

static inline float sumRow(const float* x, long n) {
  vf acc = {};
  long i = 0;
  for (; i + W <= n; i += W) acc += load(x + i);
  float s = hsum(acc);
  for (; i < n; i++) s += x[i];
  return s;
}

static void layerNorm(const float* x, const float* gamma, const float* beta, long r0, long r1, long cols, float eps,
                      float* y, float* mean, float* rstd) {
  for (long r = r0; r < r1; r++) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    float mu = sumRow(xr, cols) / cols;
    vf acc = {};
    long c = 0;
    for (; c + W <= cols; c += W) { vf d = load(xr + c) - mu; acc += d * d; }
    float var = hsum(acc);
    for (; c < cols; c++) { float d = xr[c] - mu; var += d * d; }
    float rs = 1.0f / __builtin_sqrtf(var / cols + eps);
    mean[r] = mu;
    rstd[r] = rs;
    for (c = 0; c + W <= cols; c += W) {
      vf xh = (load(xr + c) - mu) * rs;
      store(yr + c, (gamma ? xh * load(gamma + c) : xh) + (beta ? load(beta + c) : vf{}));
    }
    for (; c < cols; c++) {
      float xh = (xr[c] - mu) * rs;
      yr[c] = xh * (gamma ? gamma[c] : 1.0f) + (beta ? beta[c] : 0.0f);
    }
  }
}

/** dx only; dgamma/dbeta are column sums, which addon.cc does in one pass (so they do not depend on the split). */
static void layerNormGrad(const float* x, const float* gamma, const float* mean, const float* rstd, const float* dy,
                          long r0, long r1, long cols, float* dx) {
  for (long r = r0; r < r1; r++) {
    const float* xr = x + r * cols;
    const float* dyr = dy + r * cols;
    float mu = mean[r], rs = rstd[r];
    vf sg = {}, sgx = {};
    long c = 0;
    for (; c + W <= cols; c += W) {
      vf xh = (load(xr + c) - mu) * rs;
      vf gv = gamma ? load(dyr + c) * load(gamma + c) : load(dyr + c);
      sg += gv;
      sgx += gv * xh;
    }
    float s1 = hsum(sg), s2 = hsum(sgx);
    for (; c < cols; c++) {
      float xh = (xr[c] - mu) * rs;
      float gv = dyr[c] * (gamma ? gamma[c] : 1.0f);
      s1 += gv;
      s2 += gv * xh;
    }
    s1 /= cols;
    s2 /= cols;
    float* dxr = dx + r * cols;
    for (c = 0; c + W <= cols; c += W) {
      vf xh = (load(xr + c) - mu) * rs;
      vf gv = gamma ? load(dyr + c) * load(gamma + c) : load(dyr + c);
      store(dxr + c, rs * (gv - s1 - xh * s2));
    }
    for (; c < cols; c++) {
      float xh = (xr[c] - mu) * rs;
      float gv = dyr[c] * (gamma ? gamma[c] : 1.0f);
      dxr[c] = rs * (gv - s1 - xh * s2);
    }
  }
}

/**
 * dgamma[c] += Σ_r dy[r][c] · x̂[r][c] and dbeta[c] += Σ_r dy[r][c] for the columns [c0, c1) (at most
 * LN_PARAM_COLS of them): each column summed down the rows in order, so any split by columns gives the same sums.
 */
static void layerNormParamGrads(const float* x, const float* mean, const float* rstd, const float* dy, long rows, long cols,
                                long c0, long c1, float* dgamma, float* dbeta) {
  constexpr int V = LN_PARAM_COLS / W;
  vf sg[V] = {}, sb[V] = {};
  const long n = c1 - c0;
  if (n == LN_PARAM_COLS) {
    for (long r = 0; r < rows; r++) {
      const float *xr = x + r * cols + c0, *dr = dy + r * cols + c0;
      const float mu = mean[r], rs = rstd[r];
#pragma GCC unroll 4
      for (int v = 0; v < V; v++) {
        vf d = load(dr + v * W);
        sg[v] += d * ((load(xr + v * W) - mu) * rs);
        sb[v] += d;
      }
    }
  } else {
    for (long r = 0; r < rows; r++)
      for (int v = 0; v < V && v * W < n; v++) {
        long m = n - v * W < W ? n - v * W : W;
        vf d = loadPart(dy + r * cols + c0 + v * W, m);
        sg[v] += d * ((loadPart(x + r * cols + c0 + v * W, m) - mean[r]) * rstd[r]);
        sb[v] += d;
      }
  }
  for (int v = 0; v < V && v * W < n; v++) {
    long m = n - v * W < W ? n - v * W : W;
    float* g = dgamma ? dgamma + c0 + v * W : nullptr;
    float* b = dbeta ? dbeta + c0 + v * W : nullptr;
    if (g) storePart(g, loadPart(g, m) + sg[v], m);
    if (b) storePart(b, loadPart(b, m) + sb[v], m);
  }
}

static inline float maxRow(const float* x, long n) {
  vf acc = splat(-INFINITY);
  long i = 0;
  for (; i + W <= n; i += W) { vf v = load(x + i); acc = v > acc ? v : acc; }
  float m = hmax(acc);
  for (; i < n; i++) m = fmaxs(m, x[i]);
  return m;
}

/** softmax (log = 0) or log-softmax (log = 1) of rows [r0, r1); an all -Infinity row gives zeros (softmax). */
static void softmax(const float* x, float* out, long r0, long r1, long cols, int log) {
  for (long r = r0; r < r1; r++) {
    const float* xr = x + r * cols;
    float* o = out + r * cols;
    float m = maxRow(xr, cols);
    if (m == -INFINITY && !log) {
      for (long c = 0; c < cols; c++) o[c] = 0;
      continue;
    }
    vf acc = {};
    long c = 0;
    for (; c + W <= cols; c += W) {
      vf e = expv(load(xr + c) - m);
      if (!log) store(o + c, e);
      acc += e;
    }
    if (c < cols) {
      vf e = expv(loadPart(xr + c, cols - c) - m);
      for (long l = cols - c; l < W; l++) e[l] = 0;
      if (!log) storePart(o + c, e, cols - c);
      acc += e;
    }
    float s = hsum(acc);
    if (log) {
      // (x - max) - log s: x - (max + log s) would round the sum to the size of x
      float ls = logf(s);
      for (c = 0; c < cols; c++) o[c] = (xr[c] - m) - ls;
    } else {
      float inv = 1.0f / s;
      for (c = 0; c < cols; c++) o[c] *= inv;
    }
  }
}

static void softmaxGrad(const float* y, const float* dy, float* dx, long r0, long r1, long cols, int log) {
  for (long r = r0; r < r1; r++) {
    const float* yr = y + r * cols;
    const float* dr = dy + r * cols;
    float* o = dx + r * cols;
    if (log) {
      float s = sumRow(dr, cols);
      long c = 0;
      for (; c + W <= cols; c += W) store(o + c, load(dr + c) - expv(load(yr + c)) * s);
      if (c < cols) storePart(o + c, loadPart(dr + c, cols - c) - expv(loadPart(yr + c, cols - c)) * s, cols - c);
    } else {
      vf acc = {};
      long c = 0;
      for (; c + W <= cols; c += W) acc += load(dr + c) * load(yr + c);
      float dot = hsum(acc);
      for (; c < cols; c++) dot += dr[c] * yr[c];
      for (c = 0; c < cols; c++) o[c] = yr[c] * (dr[c] - dot);
    }
  }
}

}}  // namespace qkv::QKV_ISA
