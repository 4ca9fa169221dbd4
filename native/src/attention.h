// FlashAttention forward and backward for one (batch·head) slice: queries in blocks of BQ,
// scores for a block against the visible key range computed from Kᵀ (d × s, so the key axis is
// the vector axis: no horizontal sums), exact softmax per query row from one O(s) score row,
// then P·V; the backward recomputes P from the saved logsumexp. Memory: O(s·(d + dv)) scratch
// per thread, never n×s. A slice runs start to end on one thread, so threads never change a result.
// Attention dropout multiplies each weight row by its mask factors (random.h) after the softmax.
#pragma once
#include "random.h"
#include "vec.h"

namespace qkv { namespace QKV_ISA {

constexpr int BQ = 8;

/**
 * Vectors of keys (scores) or of output columns (P·V) a block product keeps in registers at once:
 * two where there are 32 vector registers (AVX-512: 2·BQ accumulators), so each broadcast q (or
 * P) value serves two multiply-adds; one elsewhere. Each element's sum runs in the same order.
 */
constexpr int JV = W >= 16 ? 2 : 1;

template <int R, int V> static inline void blockScoresAt(const float* qb, int d, const float* Kt, long sp, long j, float* S) {
  vf acc[R][V];
#pragma GCC unroll 8
  for (int r = 0; r < R; r++)
    for (int v = 0; v < V; v++) acc[r][v] = vf{};
  for (int p = 0; p < d; p++) {
    vf kv[V];
    for (int v = 0; v < V; v++) kv[v] = *(const vf*)(Kt + p * sp + j + v * W);
#pragma GCC unroll 8
    for (int r = 0; r < R; r++) {
      const float qv = qb[r * d + p];
      for (int v = 0; v < V; v++) acc[r][v] += qv * kv[v];
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; r++)
    for (int v = 0; v < V; v++) *(vf*)(S + r * sp + j + v * W) = acc[r][v];
}

/**
 * S[r][j] = Σ_p qb[r][p] · Kt[p][j] for r < R, j in [j0, j1) (multiples of W); rows of S are sp
 * long. R = BQ, or 1 for a single query (a decoding step: no padding rows; each row's sums are
 * the same either way).
 */
template <int R = BQ> static void blockScores(const float* qb, int d, const float* Kt, long sp, long j0, long j1, float* S) {
  long j = j0;
  for (; j + JV * W <= j1; j += JV * W) blockScoresAt<R, JV>(qb, d, Kt, sp, j, S);
  for (; j < j1; j += W) blockScoresAt<R, 1>(qb, d, Kt, sp, j, S);
}

/** xt[p][j] = x[j][p] for j < s (rows of x ldx apart), zero for s <= j < sp. */
static void transpose(const float* x, long ldx, long s, int d, long sp, float* xt) {
  // TB rows × TB columns at a time through registers (a gather of single floats per lane cost more
  // than the block products it feeds at T = 64, d = 32); the columns past d's last TB one by one
  long j = 0;
  for (; j + TB <= s; j += TB) {
    int p = 0;
    for (; p + TB <= d; p += TB) {
      vt t[TB];
      loadTransposedT(x + j * ldx + p, ldx, t);  // t[c] = column p + c of rows [j, j + TB)
#pragma GCC unroll 8
      for (int c = 0; c < TB; c++) storeT(xt + (p + c) * sp + j, t[c]);
    }
    for (; p < d; p++)
      for (int l = 0; l < TB; l++) xt[p * sp + j + l] = x[(j + l) * ldx + p];
  }
  for (; j < s; j++)
    for (int p = 0; p < d; p++) xt[p * sp + j] = x[j * ldx + p];
  for (int p = 0; p < d; p++)
    for (j = s; j < sp; j++) xt[p * sp + j] = 0;
}

struct Range { long lo, hi; };

/** Keys query i may see before padding: [lo, hi). */
static inline Range visibleRange(const FlashArgs& a, long i) {
  long pos = i + (a.s - a.n);
  long lo = 0, hi = a.s;
  if (a.causal) hi = mins(hi, pos + 1);
  if (a.window >= 0) { lo = maxs(lo, pos - a.window); hi = mins(hi, pos + a.window + 1); }
  if (hi < lo) hi = lo;
  return {lo, hi};
}

/** Sets S[r][j] = -inf outside what query i0 + r sees (block range [j0, j1)); returns each row's [lo, hi). */
static void maskBlock(const FlashArgs& a, const int32_t* pad, long i0, int rows, long sp, long j0, long j1, float* S, Range* rr) {
  for (int r = 0; r < rows; r++) {
    Range v = visibleRange(a, i0 + r);
    rr[r] = v;
    float* Sr = S + r * sp;
    // only the masked keys are touched: the ones left and right of [lo, hi), then padding inside it
    for (long j = j0; j < mins(j1, v.lo); j++) Sr[j] = -INFINITY;
    for (long j = maxs(j0, v.hi); j < j1; j++) Sr[j] = -INFINITY;
    if (pad)
      for (long j = maxs(j0, v.lo); j < mins(j1, v.hi); j++)
        if (pad[j] != 0) Sr[j] = -INFINITY;
  }
}

/** The key block [j0, j1) (multiples of W, j1 <= sp) the queries [i0, i0 + rows) need. */
static inline Range blockRange(const FlashArgs& a, long i0, int rows, long sp) {
  Range f = visibleRange(a, i0), l = visibleRange(a, i0 + rows - 1);
  long lo = mins(f.lo, l.lo), hi = maxs(f.hi, l.hi);
  lo = (lo / W) * W;
  hi = mins(sp, ((hi + W - 1) / W) * W);
  if (hi < lo) hi = lo;
  return {lo, hi};
}

template <int R, int V> static inline void blockPVAt(const float* P, long sp, const float* x, long ldx, long lo, long hi, int c, float* o, long ldo, int rows, const float* scale) {
  vf acc[R][V];
#pragma GCC unroll 8
  for (int r = 0; r < R; r++)
    for (int v = 0; v < V; v++) acc[r][v] = vf{};
  for (long j = lo; j < hi; j++) {
    vf xv[V];
    for (int v = 0; v < V; v++) xv[v] = load(x + j * ldx + c + v * W);
#pragma GCC unroll 8
    for (int r = 0; r < R; r++) {
      const float pv = P[r * sp + j];
      for (int v = 0; v < V; v++) acc[r][v] += pv * xv[v];
    }
  }
  for (int r = 0; r < rows; r++)
    for (int v = 0; v < V; v++) store(o + r * ldo + c + v * W, acc[r][v] * scale[r]);
}

/** o[r][c] = scale[r] · Σ_{j in [lo, hi)} P[r][j] · x[j][c] for r < rows, c < cols (x rows ldx apart, o rows ldo); rows past `rows` of P are ignored. */
template <int R = BQ>
static void blockPV(const float* P, long sp, const float* x, int cols, long ldx, long lo, long hi, float* o, long ldo, int rows, const float* scale) {
  int c = 0;
  for (; c + JV * W <= cols; c += JV * W) blockPVAt<R, JV>(P, sp, x, ldx, lo, hi, c, o, ldo, rows, scale);
  for (; c + W <= cols; c += W) blockPVAt<R, 1>(P, sp, x, ldx, lo, hi, c, o, ldo, rows, scale);
  for (; c < cols; c++) {
    float acc[R] = {0};
    for (long j = lo; j < hi; j++)
      for (int r = 0; r < R; r++) acc[r] += P[r * sp + j] * x[j * ldx + c];
    for (int r = 0; r < rows; r++) o[r * ldo + c] = acc[r] * scale[r];
  }
}

/** Row r's mask element index at key 0: (bh·n + i0 + r)·s. */
static inline uint64_t dropBase(const FlashArgs& a, int bh, long i) { return ((uint64_t)bh * a.n + i) * a.s; }

static void flashForward(const FlashArgs& a, int bh) {
  const int d = a.d, dv = a.dv_;
  const long n = a.n, s = a.s, sp = ((s + W - 1) / W) * W;
  const long b = bh / a.heads, h = bh % a.heads;
  const float* q = a.q + b * a.qB + h * a.qH;
  const float* k = a.k + b * a.kB + h * a.kH;
  const float* v = a.v + b * a.vB + h * a.vH;
  float* out = a.out + b * a.oB + h * a.oH;
  float* lse = a.lse + (long)bh * n;
  const int32_t* pad = a.pad ? a.pad + b * s : nullptr;
  float* Kt = scratch(1, (size_t)d * sp + (size_t)BQ * sp + (size_t)BQ * d + (size_t)BQ * W);
  float* S = Kt + (size_t)d * sp;
  float* qb = S + (size_t)BQ * sp;
  transpose(k, a.kT, s, d, sp, Kt);
  const DropKey dk{a.dropKey0, a.dropKey1, a.dropThreshold, a.dropScale};
  Range rr[BQ];
  for (long i0 = 0; i0 < n; i0 += BQ) {
    int rows = (int)mins(BQ, n - i0);
    for (int r = 0; r < rows; r++)
      for (int p = 0; p < d; p++) qb[r * d + p] = q[(i0 + r) * a.qT + p] * a.scale;
    for (int r = rows; r < BQ; r++)
      for (int p = 0; p < d; p++) qb[r * d + p] = 0;
    Range br = blockRange(a, i0, rows, sp);
    if (n == 1) blockScores<1>(qb, d, Kt, sp, br.lo, br.hi, S);  // a decoding step's one query
    else blockScores(qb, d, Kt, sp, br.lo, br.hi, S);
    maskBlock(a, pad, i0, rows, sp, br.lo, br.hi, S, rr);
    float inv[BQ] = {0};
    for (int r = 0; r < rows; r++) {
      float* Sr = S + r * sp;
      float m = maxRow(Sr + br.lo, br.hi - br.lo);
      if (m == -INFINITY) {
        // sees no key: output 0 (its P row is zeroed so the block product below adds nothing)
        for (long j = br.lo; j < br.hi; j += W) *(vf*)(Sr + j) = vf{};
        lse[i0 + r] = -INFINITY;
        continue;
      }
      vf acc = {};
      for (long j = br.lo; j < br.hi; j += W) {
        vf e = expv(*(vf*)(Sr + j) - m);
        *(vf*)(Sr + j) = e;
        acc += e;
      }
      float sum = hsum(acc);
      lse[i0 + r] = m + logf(sum);
      inv[r] = 1.0f / sum;
      if (a.dropout) {
        // the weights normalise undropped; the mask then zeroes and scales them (keys past s are 0 already)
        const uint64_t base = dropBase(a, bh, i0 + r);
        for (long j = br.lo; j < br.hi; j += W) *(vf*)(Sr + j) *= dropFactors(dk, base + j);
      }
    }
    // out rows = P · V over the block's keys, V rows loaded once for all BQ queries
    long hi = mins(br.hi, s);
    if (n == 1) blockPV<1>(S, sp, v, dv, a.vT, br.lo, hi, out + i0 * a.oT, a.oT, rows, inv);
    else blockPV(S, sp, v, dv, a.vT, br.lo, hi, out + i0 * a.oT, a.oT, rows, inv);
  }
}

/**
 * g[j][c] += Σ_{r < rows} coef[r][j] · x[r][c] for the keys j in [lo, hi) (coef rows sp long, x and
 * g rows `cols` long): JB keys × up to CV vectors of columns stay in registers while the x rows
 * stream past, so each x row is loaded once per JB keys and each g row read and written once per
 * block (the sum runs over r in order, as one key at a time would).
 */
static void blockKeyGrads(const float* coef, long sp, const float* x, int cols, long ldx, int rows, long lo, long hi, float* g, long ldg) {
  constexpr int JB = 4, CV = 4;
  long j = lo;
  for (; j + JB <= hi; j += JB) {
    int c = 0;
    for (; c + CV * W <= cols; c += CV * W) {
      vf acc[JB][CV];
#pragma GCC unroll 4
      for (int jj = 0; jj < JB; jj++)
#pragma GCC unroll 4
        for (int v = 0; v < CV; v++) acc[jj][v] = load(g + (j + jj) * ldg + c + v * W);
      for (int r = 0; r < rows; r++) {
        vf xv[CV];
#pragma GCC unroll 4
        for (int v = 0; v < CV; v++) xv[v] = load(x + r * ldx + c + v * W);
#pragma GCC unroll 4
        for (int jj = 0; jj < JB; jj++) {
          const float s = coef[r * sp + j + jj];
#pragma GCC unroll 4
          for (int v = 0; v < CV; v++) acc[jj][v] += s * xv[v];
        }
      }
#pragma GCC unroll 4
      for (int jj = 0; jj < JB; jj++)
#pragma GCC unroll 4
        for (int v = 0; v < CV; v++) store(g + (j + jj) * ldg + c + v * W, acc[jj][v]);
    }
    for (; c + W <= cols; c += W) {
      vf acc[JB];
      for (int jj = 0; jj < JB; jj++) acc[jj] = load(g + (j + jj) * ldg + c);
      for (int r = 0; r < rows; r++) {
        vf xv = load(x + r * ldx + c);
        for (int jj = 0; jj < JB; jj++) acc[jj] += coef[r * sp + j + jj] * xv;
      }
      for (int jj = 0; jj < JB; jj++) store(g + (j + jj) * ldg + c, acc[jj]);
    }
    for (; c < cols; c++)
      for (int jj = 0; jj < JB; jj++) {
        float acc = g[(j + jj) * ldg + c];
        for (int r = 0; r < rows; r++) acc += coef[r * sp + j + jj] * x[r * ldx + c];
        g[(j + jj) * ldg + c] = acc;
      }
  }
  for (; j < hi; j++) {
    int c = 0;
    for (; c + W <= cols; c += W) {
      vf acc = load(g + j * ldg + c);
      for (int r = 0; r < rows; r++) acc += coef[r * sp + j] * load(x + r * ldx + c);
      store(g + j * ldg + c, acc);
    }
    for (; c < cols; c++) {
      float acc = g[j * ldg + c];
      for (int r = 0; r < rows; r++) acc += coef[r * sp + j] * x[r * ldx + c];
      g[j * ldg + c] = acc;
    }
  }
}

static void flashBackward(const FlashArgs& a, int bh) {
  const int d = a.d, dv = a.dv_;
  const long n = a.n, s = a.s, sp = ((s + W - 1) / W) * W;
  const long b = bh / a.heads, h = bh % a.heads;
  const float* q = a.q + b * a.qB + h * a.qH;
  const float* k = a.k + b * a.kB + h * a.kH;
  const float* v = a.v + b * a.vB + h * a.vH;
  const float* out = a.out + b * a.oB + h * a.oH;
  const float* lse = a.lse + (long)bh * n;
  const float* dOut = a.dOut + b * a.gB + h * a.gH;
  float* dq = a.dq + b * a.qB + h * a.qH;  // the gradients lie as their operands
  float* dk = a.dk + b * a.kB + h * a.kH;
  float* dvv = a.dv + b * a.vB + h * a.vH;
  const int32_t* pad = a.pad ? a.pad + b * s : nullptr;
  float* Kt = scratch(1, (size_t)(d + dv) * sp + (size_t)2 * BQ * sp + (size_t)BQ * (d + dv) + (size_t)BQ);
  float* Vt = Kt + (size_t)d * sp;
  float* P = Vt + (size_t)dv * sp;
  float* dP = P + (size_t)BQ * sp;
  float* qb = dP + (size_t)BQ * sp;
  float* ob = qb + (size_t)BQ * d;
  float* D = ob + (size_t)BQ * dv;
  transpose(k, a.kT, s, d, sp, Kt);
  transpose(v, a.vT, s, dv, sp, Vt);
  for (long j = 0; j < s; j++) {
    std::memset(dk + j * a.kT, 0, sizeof(float) * d);
    std::memset(dvv + j * a.vT, 0, sizeof(float) * dv);
  }
  const DropKey key{a.dropKey0, a.dropKey1, a.dropThreshold, a.dropScale};
  Range rr[BQ];
  for (long i0 = 0; i0 < n; i0 += BQ) {
    int rows = (int)mins(BQ, n - i0);
    for (int r = 0; r < rows; r++) {
      for (int p = 0; p < d; p++) qb[r * d + p] = q[(i0 + r) * a.qT + p] * a.scale;
      float dd = 0;
      for (int c = 0; c < dv; c++) {
        float g = dOut[(i0 + r) * a.gT + c];
        ob[r * dv + c] = g;
        dd += g * out[(i0 + r) * a.oT + c];
      }
      D[r] = dd;
    }
    for (int r = rows; r < BQ; r++) {
      for (int p = 0; p < d; p++) qb[r * d + p] = 0;
      for (int c = 0; c < dv; c++) ob[r * dv + c] = 0;
      D[r] = 0;
    }
    Range br = blockRange(a, i0, rows, sp);
    blockScores(qb, d, Kt, sp, br.lo, br.hi, P);
    maskBlock(a, pad, i0, rows, sp, br.lo, br.hi, P, rr);
    blockScores(ob, dv, Vt, sp, br.lo, br.hi, dP);
    // P = exp(S - lse), dS = P (dP - D) (into dP), with the softmax scale folded in; with dropout's
    // factors z: P z (for dv) and dS = P (z dP - D)
    for (int r = 0; r < rows; r++) {
      float l = lse[i0 + r];
      float* Pr = P + r * sp;
      float* dSr = dP + r * sp;
      if (l == -INFINITY) {
        for (long j = br.lo; j < br.hi; j += W) { *(vf*)(Pr + j) = vf{}; *(vf*)(dSr + j) = vf{}; }
        continue;
      }
      if (a.dropout) {
        const uint64_t base = dropBase(a, bh, i0 + r);
        for (long j = br.lo; j < br.hi; j += W) {
          vf p = expv(*(vf*)(Pr + j) - l);
          vf z = dropFactors(key, base + j);
          *(vf*)(Pr + j) = p * z;
          *(vf*)(dSr + j) = p * (z * *(vf*)(dSr + j) - D[r]) * a.scale;
        }
        continue;
      }
      for (long j = br.lo; j < br.hi; j += W) {
        vf p = expv(*(vf*)(Pr + j) - l);
        *(vf*)(Pr + j) = p;
        *(vf*)(dSr + j) = p * (*(vf*)(dSr + j) - D[r]) * a.scale;
      }
    }
    // dq_i = Σ_j dS_ij k_j (rows of dS past `rows` are zero)
    const float ones[BQ] = {1, 1, 1, 1, 1, 1, 1, 1};
    long hi = mins(br.hi, s);
    blockPV(dP, sp, k, d, a.kT, br.lo, hi, dq + i0 * a.qT, a.qT, rows, ones);
    // dk_j += Σ_i dS_ij q_i (q unscaled), dv_j += Σ_i P_ij dOut_i (rows of dS and P past `rows` are zero)
    blockKeyGrads(dP, sp, q + i0 * a.qT, d, a.qT, rows, br.lo, hi, dk, a.kT);
    blockKeyGrads(P, sp, ob, dv, dv, rows, br.lo, hi, dvv, a.vT);
  }
}

}}  // namespace qkv::QKV_ISA
