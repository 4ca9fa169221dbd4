// A stand-alone timer of one ISA's GEMV (no Node): the products of a GPT-2 small decoding step
// (12 layers' c_attn, attn c_proj, c_fc, mlp c_proj stored [in, out]: GEMV on B; the tied
// 50257×768 wte as lm_head: GEMV on Bᵀ) through the kernel table's gemmPlan/gemmTask on the
// addon's pool, each weight read once a step as in decoding (~500 MB, more than the caches), and
// a plain sum over the same weights on the same threads (contiguous halves): the read bandwidth
// the GEMV is held to. Median GB/s per kind over `steps` steps. Built by scripts/gemm-bench.mjs:
//   BENCH=gemv node scripts/gemm-bench.mjs avx512 2 [steps]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>
#include <sys/mman.h>
#include "bench-common.h"

/** n floats on transparent huge pages, as the addon's heap (adviseHugePages): a weight's TLB misses as in a model step. */
static float* floats(size_t n, unsigned seed) {
  const size_t huge = 2u << 20, bytes = (n * 4 + huge - 1) / huge * huge;
  float* p = (float*)aligned_alloc(huge, bytes);
  madvise(p, bytes, MADV_HUGEPAGE);
  for (size_t i = 0; i < n; i++) p[i] = (float)(((i + seed) * 104729) % 1000) / 1000.0f - 0.5f;
  return p;
}

/** One weight of the step: k × n, stored [k, n] (B) or [n, k] (Bᵀ). */
struct Weight {
  const char* kind;
  int k, n;
  bool transposed;
  float* w;
};

static float sumRange(const float* p, size_t n) {
  // 8 independent vector chains: the adds never wait on each other, only on memory
  typedef float v16 __attribute__((vector_size(64)));
  typedef float v16u __attribute__((vector_size(64), aligned(4)));
  v16 s[8] = {};
  size_t i = 0;
  for (; i + 128 <= n; i += 128)
    for (int u = 0; u < 8; u++) s[u] += *(const v16u*)(p + i + 16 * u);
  float t = 0;
  for (; i < n; i++) t += p[i];
  for (int u = 0; u < 8; u++)
    for (int l = 0; l < 16; l++) t += s[u][l];
  return t;
}

int main(int argc, char** argv) {
  const KernelTable* K = QKV_BENCH_ISA::table();
  const int threads = argc > 1 ? std::atoi(argv[1]) : 1;
  const int steps = argc > 2 ? std::atoi(argv[2]) : 9;
  Pool pool(threads);
  const int d = 768, layers = 12, vocab = 50257;
  std::vector<Weight> ws;
  for (int l = 0; l < layers; l++) {
    ws.push_back({"c_attn 768x2304", d, 3 * d, false, nullptr});
    ws.push_back({"attn.c_proj 768x768", d, d, false, nullptr});
    ws.push_back({"c_fc 768x3072", d, 4 * d, false, nullptr});
    ws.push_back({"mlp.c_proj 3072x768", 4 * d, d, false, nullptr});
  }
  ws.push_back({"lm_head 768x50257 (Bt)", d, vocab, true, nullptr});
  double bytes = 0;
  for (size_t i = 0; i < ws.size(); i++) {
    ws[i].w = floats((size_t)ws[i].k * ws[i].n, (unsigned)i);
    bytes += 4.0 * ws[i].k * ws[i].n;
  }
  float* x = floats(4 * d, 7);
  float* y = floats(vocab, 9);
  const char* kinds[] = {"c_attn 768x2304", "attn.c_proj 768x768", "c_fc 768x3072", "mlp.c_proj 3072x768", "lm_head 768x50257 (Bt)"};
  constexpr int NK = 5;
  auto kindOf = [&](const char* s) { for (int i = 0; i < NK; i++) if (!std::strcmp(kinds[i], s)) return i; return 0; };
  std::vector<std::vector<double>> gemvMs(NK), sumMs(NK);
  std::vector<double> stepMs, sumStepMs;
  volatile float sink = 0;
  for (int s = 0; s < steps + 1; s++) {
    std::vector<double> g(NK), q(NK);
    auto t0 = Clock::now();
    for (const Weight& w : ws) {
      GemmArgs a{x, (long)w.k, 1, 0, w.w, w.transposed ? 1L : (long)w.n, w.transposed ? (long)w.k : 1L, 0, y, (long)w.n, 0, 1, 1, w.n, w.k};
      a.threads = threads;
      a.busy = pool.busy();
      GemmPlan p = K->gemmPlan(a);
      auto t1 = Clock::now();
      pool.run(p.tasks, [&](int t) { K->gemmTask(p, t); });
      g[kindOf(w.kind)] += msSince(t1);
    }
    double step = msSince(t0);
    t0 = Clock::now();
    for (const Weight& w : ws) {
      const size_t n = (size_t)w.k * w.n, half = (n / threads + 63) / 64 * 64;
      float part[64] = {};
      auto t1 = Clock::now();
      pool.run(threads, [&](int t) {
        const size_t s0 = std::min(n, t * half), s1 = std::min(n, s0 + half);
        part[t] = sumRange(w.w + s0, s1 - s0);
      });
      q[kindOf(w.kind)] += msSince(t1);
      sink = sink + part[0];
    }
    double sumStep = msSince(t0);
    if (s == 0) continue;  // warm-up
    stepMs.push_back(step);
    sumStepMs.push_back(sumStep);
    for (int i = 0; i < NK; i++) gemvMs[i].push_back(g[i]), sumMs[i].push_back(q[i]);
  }
  // HOT=cols: each kind's first weight cut to `cols` columns (in the caches) and timed alone: the kernel's arithmetic bound
  if (const char* hot = std::getenv("HOT")) {
    const int cols = std::atoi(hot);
    for (int i = 0; i < NK; i++) {
      const Weight* w = nullptr;
      for (const Weight& u : ws) if (kindOf(u.kind) == i) { w = &u; break; }
      GemmArgs a{x, (long)w->k, 1, 0, w->w, w->transposed ? 1L : (long)w->n, w->transposed ? (long)w->k : 1L, 0, y, (long)w->n, 0, 1, 1, cols, w->k};
      a.threads = threads;
      GemmPlan p = K->gemmPlan(a);
      std::vector<double> runs;
      for (int r = 0; r < 200; r++) {
        auto t1 = Clock::now();
        pool.run(p.tasks, [&](int t) { K->gemmTask(p, t); });
        runs.push_back(msSince(t1));
      }
      std::sort(runs.begin(), runs.end());
      const double kb = 4.0 * w->k * cols;
      std::printf("  hot %-24s %6.2f MB  %7.3f ms %6.1f GB/s\n", kinds[i], kb / 1e6, runs[100], kb / (runs[100] * 1e6));
    }
  }
  auto median = [](std::vector<double> v) { std::sort(v.begin(), v.end()); return v[v.size() / 2]; };
  std::printf("%s, %d threads, %d steps (median): a step's weights %.0f MB\n", K->name, threads, steps, bytes / 1e6);
  for (int i = 0; i < NK; i++) {
    double kb = 0;
    for (const Weight& w : ws) if (kindOf(w.kind) == i) kb += 4.0 * w.k * w.n;
    const double gm = median(gemvMs[i]), sm = median(sumMs[i]);
    std::printf("  %-24s %7.1f MB  gemv %7.2f ms %5.1f GB/s   sum %7.2f ms %5.1f GB/s   gemv/sum %.2f\n", kinds[i], kb / 1e6, gm,
                kb / (gm * 1e6), sm, kb / (sm * 1e6), sm / gm);
  }
  const double gm = median(stepMs), sm = median(sumStepMs);
  std::printf("  %-24s %7.1f MB  gemv %7.2f ms %5.1f GB/s   sum %7.2f ms %5.1f GB/s   gemv/sum %.2f\n", "step", bytes / 1e6, gm,
              bytes / (gm * 1e6), sm, bytes / (sm * 1e6), sm / gm);
  return 0;
}
