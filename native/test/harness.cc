// A stand-alone check of one ISA's kernel table (built with isa.cc for that ISA, no Node): each
// kernel family on seeded inputs against a float64 reference computed here, so it runs wherever
// the kernels compile, on any CPU or under emulation (scripts/test-native-arm64.mjs runs the
// generic table, NEON on ARM64, under qemu-aarch64 where the machine is x86). Tasks run in turn on
// this thread (the task grid is the addon's, so results are the addon's on any thread count).
// Prints one line per family and exits non-zero on the first failure.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>
#include "../src/kernels.h"

#ifndef QKV_HARNESS_ISA
#define QKV_HARNESS_ISA generic
#endif

using namespace qkv;
using Vec = std::vector<float>;

static uint64_t state = 12345;
static float uniform(float lo = -1, float hi = 1) {
  state = state * 6364136223846793005ULL + 1442695040888963407ULL;
  return lo + (hi - lo) * (float)((state >> 40) / 16777216.0);
}
static Vec rand(size_t n, float lo = -1, float hi = 1) { Vec v(n); for (auto& x : v) x = uniform(lo, hi); return v; }

static int failures = 0;
/** err = max |got - want| / (1 + scale); fails above tol. */
static void check(const char* what, double err, double tol) {
  bool ok = err <= tol && !std::isnan(err);
  std::printf("%s %-44s max error %.3g (tolerance %.1g)\n", ok ? "ok  " : "FAIL", what, err, tol);
  if (!ok) failures++;
}

static void gemm(const KernelTable* K) {
  // m, n, k, transA, transB
  const int shapes[][5] = {{1, 1, 1, 0, 0}, {5, 7, 3, 1, 0}, {13, 33, 300, 0, 1}, {97, 70, 257, 1, 1}, {200, 9, 40, 0, 0}, {3, 600, 17, 0, 1}, {1, 512, 256, 0, 0}, {1, 300, 130, 0, 1}, {1, 70, 300, 0, 1},  // m = 1: the GEMV path
    {64, 48, 260, 0, 1}, {45, 100, 264, 0, 0}, {30, 8, 70, 0, 1}, {50, 16, 300, 1, 0}, {77, 5, 33, 1, 1}};  // transposes in TB blocks, narrow tiles
  double worst = 0;
  for (auto& s : shapes) {
    int m = s[0], n = s[1], k = s[2];
    bool ta = s[3], tb = s[4];
    Vec a = rand((size_t)m * k), b = rand((size_t)k * n), c((size_t)m * n, NAN);
    GemmArgs g{a.data(), ta ? 1L : k, ta ? (long)m : 1L, 0, b.data(), tb ? 1L : n, tb ? (long)k : 1L, 0, c.data(), n, 0, 1, m, n, k};
    GemmPlan p = K->gemmPlan(g);
    for (int t = 0; t < p.tasks; t++) K->gemmTask(p, t);
    for (int i = 0; i < m; i++)
      for (int j = 0; j < n; j++) {
        double want = 0, mag = 0;
        for (int q = 0; q < k; q++) {
          double x = a[ta ? (size_t)q * m + i : (size_t)i * k + q] * (double)b[tb ? (size_t)j * k + q : (size_t)q * n + j];
          want += x;
          mag += std::fabs(x);
        }
        worst = std::fmax(worst, std::fabs(c[(size_t)i * n + j] - want) / (1 + mag));
      }
  }
  check("GEMM (every transpose, odd and tiling-crossing, GEMV)", worst, 1e-6);
}

static void rows(const KernelTable* K) {
  const long R = 7, C = 37;
  Vec x = rand(R * C, -4, 4), y(R * C), l(R * C);
  K->softmax(x.data(), y.data(), 0, R, C, 0);
  K->softmax(x.data(), l.data(), 0, R, C, 1);
  double es = 0, el = 0;
  for (long r = 0; r < R; r++) {
    double m = -INFINITY, s = 0;
    for (long c = 0; c < C; c++) m = std::fmax(m, x[r * C + c]);
    for (long c = 0; c < C; c++) s += std::exp(x[r * C + c] - m);
    for (long c = 0; c < C; c++) {
      double ls = x[r * C + c] - m - std::log(s);
      es = std::fmax(es, std::fabs(y[r * C + c] - std::exp(ls)));
      el = std::fmax(el, std::fabs(l[r * C + c] - ls) / (1 + std::fabs(ls)));
    }
  }
  check("softmax", es, 1e-6);
  check("log-softmax", el, 1e-6);
  Vec gamma = rand(C), beta = rand(C), out(R * C), mean(R), rstd(R);
  K->layerNorm(x.data(), gamma.data(), beta.data(), 0, R, C, 1e-5f, out.data(), mean.data(), rstd.data());
  double en = 0;
  for (long r = 0; r < R; r++) {
    double mu = 0, var = 0;
    for (long c = 0; c < C; c++) mu += x[r * C + c];
    mu /= C;
    for (long c = 0; c < C; c++) var += (x[r * C + c] - mu) * (x[r * C + c] - mu);
    double rs = 1 / std::sqrt(var / C + 1e-5);
    for (long c = 0; c < C; c++) en = std::fmax(en, std::fabs(out[r * C + c] - ((x[r * C + c] - mu) * rs * gamma[c] + beta[c])));
  }
  check("layerNorm", en, 1e-5);
}

static void unary(const KernelTable* K) {
  const long n = 1003;
  Vec x = rand(n, -6, 6), y(n);
  const char* names[] = {"exp", "tanh", "gelu (tanh form)", "gelu (erf form)"};
  for (int op = 0; op < 4; op++) {
    K->unary(op, x.data(), y.data(), n);
    double e = 0;
    for (long i = 0; i < n; i++) {
      double v = x[i], want = op == 0 ? std::exp(v) : op == 1 ? std::tanh(v)
        : op == 2 ? 0.5 * v * (1 + std::tanh(0.7978845608028654 * (v + 0.044715 * v * v * v))) : 0.5 * v * (1 + std::erf(v / std::sqrt(2.0)));
      e = std::fmax(e, std::fabs(y[i] - want) / (1 + std::fabs(want)));
    }
    char what[64];
    std::snprintf(what, sizeof what, "unary %s", names[op]);
    check(what, e, op == 3 ? 2e-6 : 1e-6);  // erf: Abramowitz-Stegun 7.1.26, as the reference
  }
}

static void losses(const KernelTable* K) {
  const long R = 9, C = 301;
  Vec x = rand(R * C, -5, 5), loss(R), lse(R);
  std::vector<int32_t> t(R);
  for (long r = 0; r < R; r++) t[r] = r % 4 == 3 ? -100 : (int32_t)((r * 97) % C);
  K->crossEntropy(x.data(), t.data(), 0, R, C, -100, 0.1, loss.data(), lse.data());
  double e = 0;
  for (long r = 0; r < R; r++) {
    double m = -INFINITY, s = 0, sum = 0;
    for (long c = 0; c < C; c++) { m = std::fmax(m, x[r * C + c]); sum += x[r * C + c]; }
    for (long c = 0; c < C; c++) s += std::exp(x[r * C + c] - m);
    double l = m + std::log(s);
    double want = t[r] == -100 ? 0 : 0.9 * (l - x[r * C + t[r]]) + 0.1 * (l - sum / C);
    e = std::fmax(e, std::fmax(std::fabs(loss[r] - want), std::fabs(lse[r] - l)) / (1 + std::fabs(l)));
  }
  check("cross-entropy (ignore index, smoothing 0.1)", e, 1e-6);
  // scatter-add: every strip adds the ids' rows in order, so the sums are the sequential loop's
  const long n = 300, cols = 150, tableRows = 7;
  Vec src = rand(n * cols), out = rand(tableRows * cols), want = out;
  std::vector<int32_t> ids(n);
  for (long i = 0; i < n; i++) ids[i] = (int32_t)((i * 5) % tableRows);
  for (long c0 = 0; c0 < cols; c0 += 64) K->scatterAdd(src.data(), cols, ids.data(), n, c0, c0 + 64 < cols ? c0 + 64 : cols, out.data());
  for (long i = 0; i < n; i++)
    for (long c = 0; c < cols; c++) want[ids[i] * cols + c] += src[i * cols + c];
  check("scatter-add (bit-equal to the sequential loop)", std::memcmp(out.data(), want.data(), out.size() * 4) ? 1 : 0, 0);
}

static void attention(const KernelTable* K) {
  const int bh = 2, n = 37, d = 16, dv = 12;
  Vec q = rand(bh * n * d), k = rand(bh * n * d), v = rand(bh * n * dv), out(bh * n * dv), lse(bh * n);
  FlashArgs a{};
  a.q = q.data(); a.k = k.data(); a.v = v.data(); a.pad = nullptr; a.out = out.data(); a.lse = lse.data();
  a.heads = 1; a.n = n; a.s = n; a.d = d; a.dv_ = dv; a.scale = 1 / std::sqrt((float)d); a.causal = 1; a.window = -1;
  a.denseLayout();
  for (int h = 0; h < bh; h++) K->flashForward(a, h);
  double e = 0;
  for (int h = 0; h < bh; h++)
    for (int i = 0; i < n; i++) {
      std::vector<double> w(i + 1);
      double m = -INFINITY, s = 0;
      for (int j = 0; j <= i; j++) {
        double dot = 0;
        for (int p = 0; p < d; p++) dot += q[(h * n + i) * d + p] * (double)k[(h * n + j) * d + p];
        w[j] = dot * a.scale;
        m = std::fmax(m, w[j]);
      }
      for (int j = 0; j <= i; j++) s += (w[j] = std::exp(w[j] - m));
      for (int c = 0; c < dv; c++) {
        double o = 0;
        for (int j = 0; j <= i; j++) o += w[j] / s * v[(h * n + j) * dv + c];
        e = std::fmax(e, std::fabs(out[(h * n + i) * dv + c] - o));
      }
    }
  check("FlashAttention forward (causal)", e, 1e-6);
  // causal linear attention: out_i = φq_i·S_i / (φq_i·z_i + eps)
  Vec pq = rand(bh * n * d, 0.1f, 2), pk = rand(bh * n * d, 0.1f, 2), lo(bh * n * dv), den(bh * n);
  LinearArgs la{};
  la.q = pq.data(); la.k = pk.data(); la.v = v.data(); la.outW = lo.data(); la.denW = den.data();
  la.n = n; la.dkDim = d; la.dvDim = dv; la.eps = 1e-6f;
  for (int h = 0; h < bh; h++) K->linearForward(la, h);
  double el = 0;
  for (int h = 0; h < bh; h++)
    for (int i = 0; i < n; i++) {
      double dn = 1e-6;
      std::vector<double> num(dv, 0);
      for (int j = 0; j <= i; j++) {
        double qk = 0;
        for (int p = 0; p < d; p++) qk += pq[(h * n + i) * d + p] * (double)pk[(h * n + j) * d + p];
        dn += qk;
        for (int c = 0; c < dv; c++) num[c] += qk * v[(h * n + j) * dv + c];
      }
      for (int c = 0; c < dv; c++) el = std::fmax(el, std::fabs(lo[(h * n + i) * dv + c] - num[c] / dn));
    }
  check("causal linear attention forward", el, 1e-5);
}

int main() {
  const KernelTable* K = QKV_HARNESS_ISA::table();
  std::printf("kernel table: %s\n", K->name);
  gemm(K);
  rows(K);
  unary(K);
  losses(K);
  attention(K);
  std::printf(failures ? "%d check(s) failed\n" : "all checks passed\n", failures);
  return failures ? 1 : 0;
}
