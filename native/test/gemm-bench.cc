// A stand-alone timer of one ISA's GEMM (no Node): the kernel table's gemmPlan/gemmTask on the addon's
// pool, GFLOP/s per shape (median of reps), and the FMA probe's peak on the same threads, for tuning
// the blocking and the micro-tiles quickly. Built by scripts/gemm-bench.mjs, e.g.
//   node scripts/gemm-bench.mjs avx2 2 1024,1024,1024 512,768,3072,0,1
// Shapes are m,n,k[,transA,transB] (transposed operands stored as Aᵀ / Bᵀ).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>
#if defined(__linux__)
#include <sys/mman.h>
#endif
#include "bench-common.h"

/** Floats on 64 bytes, as the engine's heap places every tensor (a std::vector's 16-byte-aligned floats
 * split most vector loads and stores across two cache lines: 4-12% slower products, measured), here on
 * 2 MiB so they can take huge pages. */
struct Floats {
  float* p;
  size_t n;
  explicit Floats(size_t count) : p((float*)aligned_alloc(HUGE, (count * 4 + HUGE - 1) / HUGE * HUGE)), n(count) {
#if defined(__linux__)
    // on huge pages where the system gives them, as the engine asks for its heap (addon.cc adviseHugePages)
    if (!std::getenv("QKV_HUGEPAGES") || std::atoi(std::getenv("QKV_HUGEPAGES"))) madvise(p, (count * 4 + HUGE - 1) / HUGE * HUGE, MADV_HUGEPAGE);
#endif
  }
  static constexpr size_t HUGE = 2 << 20;
  ~Floats() { free(p); }
  Floats(const Floats&) = delete;
  float* data() { return p; }
  size_t size() const { return n; }
  float& operator[](size_t i) { return p[i]; }
};

int main(int argc, char** argv) {
  const KernelTable* K = QKV_BENCH_ISA::table();
  const int threads = argc > 1 ? std::atoi(argv[1]) : 1;
  const int reps = std::getenv("REPS") ? std::atoi(std::getenv("REPS")) : 15;
  Pool pool(threads);
  // peak: the FMA probe, one task per thread and round
  {
    long iters = 1 << 24;
    auto t0 = Clock::now();
    pool.run(threads * 4, [&](int) { K->fmaPeak(iters); });
    double el = msSince(t0);
    std::printf("%s, %d threads: FMA probe %.1f GFLOP/s\n", K->name, threads, threads * 4 * K->fmaPeak(1) * iters / (el * 1e6));
  }
  for (int i = 2; i < argc; i++) {
    int m = 0, n = 0, k = 0, ta = 0, tb = 0;
    std::sscanf(argv[i], "%d,%d,%d,%d,%d", &m, &n, &k, &ta, &tb);
    Floats a((size_t)m * k), b((size_t)k * n), c((size_t)m * n);
    for (size_t j = 0; j < a.size(); j++) a[j] = (float)((j * 7919) % 1000) / 1000.0f - 0.5f;
    for (size_t j = 0; j < b.size(); j++) b[j] = (float)((j * 104729) % 1000) / 1000.0f - 0.5f;
    GemmArgs g{a.data(), ta ? 1L : k, ta ? (long)m : 1L, 0, b.data(), tb ? 1L : n, tb ? (long)k : 1L, 0, c.data(), n, 0, 1, m, n, k};
    g.threads = threads;
    GemmPlan p = K->gemmPlan(g);
    std::vector<double> runs;
    for (int r = 0; r < reps + 2; r++) {
      auto t0 = Clock::now();
      pool.run(p.tasks, [&](int t) { K->gemmTask(p, t); });
      if (r >= 2) runs.push_back(msSince(t0));
    }
    std::sort(runs.begin(), runs.end());
    double ms = runs[runs.size() / 2];
    std::printf("%5d x %5d x %5d %s%s: %8.3f ms %7.1f GFLOP/s (best %.1f)  grid %d x %d = %d tasks of %d x %d%s\n", m, n, k, ta ? "T" : "N",
                tb ? "T" : "N", ms, 2.0 * m * n * k / (ms * 1e6), 2.0 * m * n * k / (runs[0] * 1e6), p.mBlocks, p.nBlocks, p.tasks, p.mc, p.nc,
                p.gemv ? " (gemv)" : p.narrow ? " (narrow)" : "");
  }
  return 0;
}
