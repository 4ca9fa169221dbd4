// The Node-API face of the native kernels: the engine hands over its heap (the bytes of the
// WebAssembly.Memory) once, and again after it grows; every kernel call then passes byte
// offsets into it and sizes, so nothing is copied. Picks the ISA's kernel table by cpuid at
// load (QKV_NATIVE_ISA=avx512|avx2|generic forces one) and splits calls into tasks for the pool;
// the task grid never depends on the thread count, so neither do the results.
#include <napi.h>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <algorithm>
#include <chrono>
#include <vector>
#if defined(__linux__)
#include <sys/mman.h>
#include <cstdio>
#endif
#include "conv.h"
#include "copy.h"
#include "kernels.h"
#include "pool.h"

namespace qkv {

static char* heap = nullptr;
static size_t heapBytes = 0;
static const KernelTable* K = nullptr;
static std::unique_ptr<Pool> pool;

static bool supported(const std::string& isa) {
#if defined(QKV_X64)
  __builtin_cpu_init();
  if (isa == "avx512") return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                              __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
                              __builtin_cpu_supports("fma");
  if (isa == "avx2") return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
  return isa == "generic";
}

static const KernelTable* tableFor(const std::string& isa) {
#if defined(QKV_X64)
  if (isa == "avx512") return avx512::table();
  if (isa == "avx2") return avx2::table();
#endif
  return generic::table();
}

static const char* const ISAS[] = {"avx512", "avx2", "generic"};

static double num(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().DoubleValue(); }
static long lng(const Napi::CallbackInfo& info, size_t i) { return (long)num(info, i); }
template <typename T = float> static T* at(const Napi::CallbackInfo& info, size_t i) {
  double o = num(info, i);
  return o < 0 ? nullptr : (T*)(heap + (size_t)o);
}

static Napi::Value Isas(const Napi::CallbackInfo& info) {
  Napi::Array out = Napi::Array::New(info.Env());
  uint32_t n = 0;
  for (const char* isa : ISAS) if (supported(isa)) out.Set(n++, Napi::String::New(info.Env(), isa));
  return out;
}

static Napi::Value Isa(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), K->name); }

/** setIsa(name): switches the kernel table (tests force each path); false when this CPU lacks it. */
static Napi::Value SetIsa(const Napi::CallbackInfo& info) {
  std::string isa = info[0].As<Napi::String>().Utf8Value();
  if (!supported(isa)) return Napi::Boolean::New(info.Env(), false);
  K = tableFor(isa);
  return Napi::Boolean::New(info.Env(), true);
}

static Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  int n = (int)num(info, 0);
  if (n < 1) n = 1;
  if (!pool || pool->threads() != n) {
    pool.reset();
    pool.reset(new Pool(n));
  }
  return info.Env().Undefined();
}

static Napi::Value Threads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), pool ? pool->threads() : 1); }

/** poolStats(): what the pool did since it started (PoolStats; zeros without a pool). */
static Napi::Value PoolStatsOf(const Napi::CallbackInfo& info) {
  const PoolStats s = pool ? pool->stats() : PoolStats{};
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("jobs", (double)s.jobs);
  o.Set("windows", (double)s.windows);
  o.Set("busyWindows", (double)s.busyWindows);
  o.Set("busyJobs", (double)s.busyJobs);
  o.Set("lateWakes", (double)s.lateWakes);
  o.Set("jobUs", s.jobUs);
  o.Set("waitUs", s.waitUs);
  return o;
}

/**
 * Asks Linux for transparent huge pages (2 MiB) on the heap and on the reservation V8 grows it
 * into (it reserves a wasm memory's maximum and opens pages as the memory grows), so pages
 * faulted from then on are huge where THP is "madvise" or "always". With 4 KiB pages every weight
 * of a model step (2.4-9.4 MB a product) misses the TLB page by page, on a VM through two levels
 * of page tables. BERT base forward, 2 threads, alternating 9-11 rounds, three runs: 0.965-0.987x
 * the time. QKV_HUGEPAGES=0 leaves the heap alone (A/B runs).
 */
static void adviseHugePages(char* base) {
#if defined(__linux__)
  // heaps advised already (a process may switch between a few; setMemory comes on every switch)
  static std::vector<char*> advised;
  const char* off = std::getenv("QKV_HUGEPAGES");
  if ((off && !std::strcmp(off, "0")) || std::find(advised.begin(), advised.end(), base) != advised.end()) return;
  if (advised.size() >= 64) advised.clear();
  advised.push_back(base);
  FILE* f = std::fopen("/proc/self/maps", "r");
  if (!f) return;
  // the mapping that holds the heap, then the inaccessible ones right after it (the reservation)
  unsigned long lo, hi, end = 0;
  char perms[8], line[512];
  while (std::fgets(line, sizeof line, f)) {
    if (std::sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3) continue;
    if (!end && (unsigned long)base >= lo && (unsigned long)base < hi) end = hi;
    else if (end && lo == end && !std::strncmp(perms, "---", 3)) end = hi;
    else if (end) break;
  }
  std::fclose(f);
  const unsigned long huge = 2UL << 20, from = ((unsigned long)base + huge - 1) & ~(huge - 1);
  if (end >= from + huge) madvise((void*)from, (end - from) & ~(huge - 1), MADV_HUGEPAGE);
#else
  (void)base;
#endif
}

/** setMemory(bytes: Uint8Array over the heap's buffer, shared or not). */
static Napi::Value SetMemory(const Napi::CallbackInfo& info) {
  Napi::TypedArray t = info[0].As<Napi::TypedArray>();
  napi_typedarray_type type;
  size_t length;
  void* data;
  napi_value ab;
  size_t offset;
  napi_get_typedarray_info(info.Env(), t, &type, &length, &data, &ab, &offset);
  heap = (char*)data;
  heapBytes = length;
  adviseHugePages(heap);
  return Napi::Number::New(info.Env(), (double)length);
}

static void run(int tasks, const std::function<void(int)>& fn) {
  if (pool) pool->run(tasks, fn);
  else for (int t = 0; t < tasks; t++) fn(t);
}

/** Runs one GEMM (C overwritten) on the pool, its grid cut for the pool's threads and whether the machine is busy. */
static void gemmRun(GemmArgs g) {
  g.threads = pool ? pool->threads() : 1;
  g.busy = pool && pool->busy();
  GemmPlan plan = K->gemmPlan(g);
  const KernelTable* k = K;
  run(plan.tasks, [&](int t) { k->gemmTask(plan, t); });
}

/** gemm(a, aRs, aCs, aBatch, b, bRs, bCs, bBatch, c, ldc, cBatch, batch, m, n, k[, bias]): offsets in bytes (bias -1: none), strides in elements. */
static Napi::Value Gemm(const Napi::CallbackInfo& info) {
  GemmArgs g{at(info, 0), lng(info, 1), lng(info, 2), lng(info, 3), at(info, 4), lng(info, 5), lng(info, 6), lng(info, 7),
             at(info, 8), lng(info, 9), lng(info, 10), (int)lng(info, 11), (int)lng(info, 12), (int)lng(info, 13), (int)lng(info, 14)};
  if (info.Length() > 15) g.bias = at(info, 15);
  gemmRun(g);
  return info.Env().Undefined();
}

/**
 * fmaPeak(ms): the vector FMA throughput of this ISA on the pool's threads, GFLOP/s: each thread
 * runs register-only multiply-add chains (the kernel table's probe) for about ms/4, four tasks a
 * thread. The bench divides a GEMM's GFLOP/s by it (the "fraction of peak").
 */
static Napi::Value FmaPeak(const Napi::CallbackInfo& info) {
  using Clock = std::chrono::steady_clock;
  const double ms = num(info, 0);
  const KernelTable* k = K;
  auto since = [](Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); };
  long iters = 1 << 12;
  for (;;) {  // calibrate on this thread: rounds for a quarter of ms
    auto t0 = Clock::now();
    k->fmaPeak(iters);
    const double el = since(t0);
    if (el > 1) { iters = (long)(iters * (ms / 4) / el) + 1; break; }
    iters *= 4;
  }
  const int tasks = 4 * (pool ? pool->threads() : 1);
  auto t0 = Clock::now();
  run(tasks, [&](int) { k->fmaPeak(iters); });
  const double el = since(t0);
  const double flops = tasks * (double)iters * k->fmaPeak(1);
  return Napi::Number::New(info.Env(), flops / (el * 1e6));
}

/** Elementwise calls are cut into fixed pieces of this many elements (a multiple of every vector width). */
constexpr long PIECE = 1 << 14;

static void pieces(long n, const std::function<void(long, long)>& fn) {
  int tasks = (int)((n + PIECE - 1) / PIECE);
  run(tasks, [&](int t) { long s = t * PIECE; fn(s, n - s < PIECE ? n - s : PIECE); });
}

static Napi::Value Unary(const Napi::CallbackInfo& info) {
  int op = (int)lng(info, 0);
  float* x = at(info, 1);
  float* out = at(info, 2);
  const KernelTable* k = K;
  pieces(lng(info, 3), [&](long s, long c) { k->unary(op, x + s, out + s, c); });
  return info.Env().Undefined();
}

static Napi::Value GeluGrad(const Napi::CallbackInfo& info) {
  float *x = at(info, 0), *dy = at(info, 1), *out = at(info, 2);
  int approx = (int)lng(info, 4);
  const KernelTable* k = K;
  pieces(lng(info, 3), [&](long s, long c) { k->geluGrad(x + s, dy + s, out + s, c, approx); });
  return info.Env().Undefined();
}

/** binary(op, form, a, b, out, n, inner): see Form in kernels.h. */
static Napi::Value Binary(const Napi::CallbackInfo& info) {
  int op = (int)lng(info, 0), form = (int)lng(info, 1);
  float *a = at(info, 2), *b = at(info, 3), *out = at(info, 4);
  long n = lng(info, 5), inner = lng(info, 6);
  const KernelTable* k = K;
  if (form == F_VR || form == F_RV) {
    // whole rows per piece, so the row restarts at each piece
    long rowsPer = PIECE / inner > 0 ? PIECE / inner : 1;
    long rows = n / inner;
    int tasks = (int)((rows + rowsPer - 1) / rowsPer);
    run(tasks, [&](int t) {
      long r0 = t * rowsPer, r1 = r0 + rowsPer < rows ? r0 + rowsPer : rows;
      long s = r0 * inner;
      k->binary(op, form, form == F_VR ? a + s : a, form == F_RV ? b + s : b, out + s, (r1 - r0) * inner, inner);
    });
  } else {
    pieces(n, [&](long s, long c) {
      k->binary(op, form, form == F_SV ? a : a + s, form == F_VS ? b : b + s, out + s, c, inner);
    });
  }
  return info.Env().Undefined();
}

static Napi::Value AdamW(const Napi::CallbackInfo& info) {
  float *p = at(info, 0), *g = at(info, 1), *m = at(info, 2), *v = at(info, 3);
  float b1 = (float)num(info, 5), b1c = (float)num(info, 6), b2 = (float)num(info, 7), b2c = (float)num(info, 8);
  float decay = (float)num(info, 9), stepSize = (float)num(info, 10), sqrtC2 = (float)num(info, 11), eps = (float)num(info, 12);
  const KernelTable* k = K;
  pieces(lng(info, 4), [&](long s, long c) { k->adamw(p + s, g + s, m + s, v + s, c, b1, b1c, b2, b2c, decay, stepSize, sqrtC2, eps); });
  return info.Env().Undefined();
}

/** dropout(x, out, n, key0, key1, threshold, scale): in pieces (each element depends only on its index). */
static Napi::Value Dropout(const Napi::CallbackInfo& info) {
  float *x = at(info, 0), *out = at(info, 1);
  const uint32_t key0 = (uint32_t)num(info, 3), key1 = (uint32_t)num(info, 4), threshold = (uint32_t)num(info, 5);
  const float scale = (float)num(info, 6);
  const KernelTable* k = K;
  pieces(lng(info, 2), [&](long s, long c) { k->dropout(x + s, out + s, s, c, key0, key1, threshold, scale); });
  return info.Env().Undefined();
}

/** Rows in pieces of about PIECE elements. */
static void rowPieces(long rows, long cols, const std::function<void(long, long)>& fn) {
  long per = cols >= PIECE ? 1 : PIECE / cols;
  int tasks = (int)((rows + per - 1) / per);
  run(tasks, [&](int t) { long r0 = t * per; fn(r0, r0 + per < rows ? r0 + per : rows); });
}

static Napi::Value LayerNorm(const Napi::CallbackInfo& info) {
  float *x = at(info, 0), *gamma = at(info, 1), *beta = at(info, 2);
  long rows = lng(info, 3), cols = lng(info, 4);
  float eps = (float)num(info, 5);
  float *y = at(info, 6), *mean = at(info, 7), *rstd = at(info, 8);
  const KernelTable* k = K;
  rowPieces(rows, cols, [&](long r0, long r1) { k->layerNorm(x, gamma, beta, r0, r1, cols, eps, y, mean, rstd); });
  return info.Env().Undefined();
}

static Napi::Value LayerNormGrad(const Napi::CallbackInfo& info) {
  float *x = at(info, 0), *gamma = at(info, 1), *mean = at(info, 2), *rstd = at(info, 3), *dy = at(info, 4);
  long rows = lng(info, 5), cols = lng(info, 6);
  float *dx = at(info, 7), *dgamma = at(info, 8), *dbeta = at(info, 9);
  const KernelTable* k = K;
  rowPieces(rows, cols, [&](long r0, long r1) { k->layerNormGrad(x, gamma, mean, rstd, dy, r0, r1, cols, dx); });
  if (dgamma || dbeta) {
    // column sums in blocks of LN_PARAM_COLS columns, each summed down the rows in order
    run((int)((cols + LN_PARAM_COLS - 1) / LN_PARAM_COLS), [&](int t) {
      long c0 = t * LN_PARAM_COLS, c1 = c0 + LN_PARAM_COLS < cols ? c0 + LN_PARAM_COLS : cols;
      k->layerNormParamGrads(x, mean, rstd, dy, rows, cols, c0, c1, dgamma, dbeta);
    });
  }
  return info.Env().Undefined();
}

static Napi::Value Softmax(const Napi::CallbackInfo& info) {
  float *x = at(info, 0), *out = at(info, 1);
  long rows = lng(info, 2), cols = lng(info, 3);
  int log = (int)lng(info, 4);
  const KernelTable* k = K;
  rowPieces(rows, cols, [&](long r0, long r1) { k->softmax(x, out, r0, r1, cols, log); });
  return info.Env().Undefined();
}

static Napi::Value SoftmaxGrad(const Napi::CallbackInfo& info) {
  float *y = at(info, 0), *dy = at(info, 1), *dx = at(info, 2);
  long rows = lng(info, 3), cols = lng(info, 4);
  int log = (int)lng(info, 5);
  const KernelTable* k = K;
  rowPieces(rows, cols, [&](long r0, long r1) { k->softmaxGrad(y, dy, dx, r0, r1, cols, log); });
  return info.Env().Undefined();
}

/** flash(q, k, v, pad, out, lse, dOut, dq, dk, dv, heads, n, s, d, dv, scale, causal, window, bh0, bh1, backward). */
static Napi::Value Flash(const Napi::CallbackInfo& info) {
  FlashArgs a;
  a.q = at(info, 0); a.k = at(info, 1); a.v = at(info, 2); a.pad = at<int32_t>(info, 3);
  a.out = at(info, 4); a.lse = at(info, 5); a.dOut = at(info, 6); a.dq = at(info, 7); a.dk = at(info, 8); a.dv = at(info, 9);
  a.heads = (int)lng(info, 10); a.n = (int)lng(info, 11); a.s = (int)lng(info, 12); a.d = (int)lng(info, 13); a.dv_ = (int)lng(info, 14);
  a.scale = (float)num(info, 15); a.causal = (int)lng(info, 16); a.window = (int)lng(info, 17);
  int bh0 = (int)lng(info, 18), bh1 = (int)lng(info, 19);
  bool backward = info[20].As<Napi::Boolean>().Value();
  if (info.Length() > 21 && !info[21].IsUndefined()) {
    // attention dropout: key0, key1, threshold, scale
    a.dropout = true;
    a.dropKey0 = (uint32_t)num(info, 21); a.dropKey1 = (uint32_t)num(info, 22); a.dropThreshold = (uint32_t)num(info, 23);
    a.dropScale = (float)num(info, 24);
  }
  a.denseLayout();
  if (info.Length() > 25 && !info[25].IsUndefined()) {
    // strided operands: (batch, head, row) strides of q, k, v, out, dOut
    long* f[15] = {&a.qB, &a.qH, &a.qT, &a.kB, &a.kH, &a.kT, &a.vB, &a.vH, &a.vT, &a.oB, &a.oH, &a.oT, &a.gB, &a.gH, &a.gT};
    for (int i = 0; i < 15; i++) *f[i] = lng(info, 25 + i);
  }
  const KernelTable* k = K;
  run(bh1 - bh0, [&](int t) { backward ? k->flashBackward(a, bh0 + t) : k->flashForward(a, bh0 + t); });
  return info.Env().Undefined();
}

/**
 * kvStep(qkv, kCache, vCache, out, batch, heads, d, capacity, pos, scale): one decoding step of
 * softmax attention on a KV cache (KVStepArgs in src/kernels/contract.ts). Each head writes its new
 * k and v at `pos` of its cache rows, then runs flashForward for its one query over the pos + 1
 * cached keys, pointed at where they lie (no copy). A decoding step's few heads run on the calling
 * thread: waking the pool costs more than they do.
 */
static Napi::Value KvStep(const Napi::CallbackInfo& info) {
  const float* qkv = at(info, 0);
  float *kc = at(info, 1), *vc = at(info, 2), *out = at(info, 3);
  const long batch = lng(info, 4), heads = lng(info, 5), d = lng(info, 6), cap = lng(info, 7), pos = lng(info, 8);
  const float scale = (float)num(info, 9);
  const long c = heads * d;
  const KernelTable* k = K;
  auto head = [&](int bh) {
    const long b = bh / heads, h = bh % heads;
    const float* q = qkv + b * 3 * c + h * d;
    float* kh = kc + (long)bh * cap * d;
    float* vh = vc + (long)bh * cap * d;
    for (long p = 0; p < d; p++) { kh[pos * d + p] = q[c + p]; vh[pos * d + p] = q[2 * c + p]; }
    float lse;
    FlashArgs a{};
    a.q = q; a.k = kh; a.v = vh; a.pad = nullptr; a.out = out + b * c + h * d; a.lse = &lse;
    a.heads = 1; a.n = 1; a.s = (int)(pos + 1); a.d = (int)d; a.dv_ = (int)d; a.scale = scale; a.causal = 0; a.window = -1;
    a.denseLayout();
    k->flashForward(a, 0);
  };
  const long bh = batch * heads;
  if (bh * (pos + 1) * d < (1L << 16)) for (int t = 0; t < bh; t++) head(t);
  else run((int)bh, head);
  return info.Env().Undefined();
}

/** `rows` rows of n3 elements in tasks of about PIECE elements. */
static void stridedRows(long rows, long n3, const std::function<void(long, long)>& fn) {
  long per = n3 >= PIECE ? 1 : PIECE / n3;
  int tasks = (int)((rows + per - 1) / per);
  run(tasks, [&](int t) { long r0 = t * per; fn(r0, r0 + per < rows ? r0 + per : rows); });
}


/** The column matrix of a chunk of the batch stays under this many floats (the chunk is one row at least). */
constexpr long MAX_COL = 1L << 21;

/** fn(b0, b1) over batch rows [c0, c1) in tasks of about PIECE elements (`per` elements a row). */
static void batchTasks(long c0, long c1, long per, const std::function<void(long, long)>& fn) {
  long rows = per >= PIECE ? 1 : PIECE / (per > 0 ? per : 1);
  int tasks = (int)((c1 - c0 + rows - 1) / rows);
  run(tasks, [&](int t) { long b0 = c0 + t * rows; fn(b0, b0 + rows < c1 ? b0 + rows : c1); });
}

/** conv1d(which, in0, in1, out, batch, cin, cout, groups, length, kernel, outLength, stride, padLeft, dilation):
 * which 0 = forward (x, w -> y), 1 = grad-input (dy, w -> dx), 2 = grad-weight (dy, x -> dw); see conv.h. */
static Napi::Value Conv1d(const Napi::CallbackInfo& info) {
  int which = (int)lng(info, 0);
  const float *in0 = at(info, 1), *in1 = at(info, 2);
  float* out = at(info, 3);
  const ConvArgs a{lng(info, 4), lng(info, 5), lng(info, 6), lng(info, 7), lng(info, 8), lng(info, 9), lng(info, 10),
                   lng(info, 11), lng(info, 12), lng(info, 13)};
  const long CK = a.cin * a.kernel, cinGK = CK / a.groups, coutG = a.cout / a.groups;
  const long chunk = MAX_COL / (a.outLength * CK) > 1 ? MAX_COL / (a.outLength * CK) : 1;
  const int groups = (int)a.groups;
  // scratch of the calling thread (kernel calls come from the JS thread only)
  static std::vector<float> col, rows, dwPart;
  col.resize((size_t)(std::min(chunk, a.batch) * a.outLength * CK));
  rows.resize((size_t)(std::min(chunk, a.batch) * a.outLength * a.cout));
  if (which == 2 && a.batch > chunk) dwPart.resize((size_t)(a.cout * cinGK));
  for (long c0 = 0; c0 < a.batch; c0 += chunk) {
    const long c1 = std::min(c0 + chunk, a.batch), R = (c1 - c0) * a.outLength;
    float *colp = col.data(), *rowp = rows.data();
    if (which == 0) {
      const float *x = in0, *w = in1;
      batchTasks(c0, c1, a.outLength * CK, [&](long b0, long b1) { im2col(a, x, b0, b1, colp + (b0 - c0) * a.outLength * CK); });
      gemmRun({colp, CK, 1, cinGK, w, 1, cinGK, coutG * cinGK, rowp, a.cout, coutG, groups, (int)R, (int)coutG, (int)cinGK});
      batchTasks(c0, c1, a.outLength * a.cout, [&](long b0, long b1) { fromRows(a, rowp + (b0 - c0) * a.outLength * a.cout, b0, b1, out); });
    } else if (which == 1) {
      const float *dy = in0, *w = in1;
      batchTasks(c0, c1, a.outLength * a.cout, [&](long b0, long b1) { toRows(a, dy, b0, b1, rowp + (b0 - c0) * a.outLength * a.cout); });
      gemmRun({rowp, a.cout, 1, coutG, w, cinGK, 1, coutG * cinGK, colp, CK, cinGK, groups, (int)R, (int)cinGK, (int)coutG});
      batchTasks(c0, c1, a.outLength * CK, [&](long b0, long b1) { col2im(a, colp + (b0 - c0) * a.outLength * CK, b0, b1, out); });
    } else {
      const float *dy = in0, *x = in1;
      batchTasks(c0, c1, a.outLength * CK, [&](long b0, long b1) { im2col(a, x, b0, b1, colp + (b0 - c0) * a.outLength * CK); });
      batchTasks(c0, c1, a.outLength * a.cout, [&](long b0, long b1) { toRows(a, dy, b0, b1, rowp + (b0 - c0) * a.outLength * a.cout); });
      float* target = c0 == 0 ? out : dwPart.data();
      gemmRun({rowp, 1, a.cout, coutG, colp, CK, 1, cinGK, target, cinGK, coutG * cinGK, groups, (int)coutG, (int)cinGK, (int)R});
      if (c0 > 0) for (long i = 0; i < a.cout * cinGK; i++) out[i] += target[i];
    }
  }
  return info.Env().Undefined();
}

/** binaryStrided(op, types, a, b, out, n0..n3, sa0..sa3, sb0..sb3): types bit 1 = a int32, 2 = b, 4 = out. */
static Napi::Value BinaryStrided(const Napi::CallbackInfo& info) {
  StridedArgs g;
  g.op = (int)lng(info, 0);
  int types = (int)lng(info, 1);
  g.aInt = types & 1; g.bInt = types & 2; g.outInt = types & 4;
  g.a = at<void>(info, 2); g.b = at<void>(info, 3); g.out = at<void>(info, 4);
  for (int i = 0; i < 4; i++) { g.n[i] = lng(info, 5 + i); g.sa[i] = lng(info, 9 + i); g.sb[i] = lng(info, 13 + i); }
  const KernelTable* k = K;
  stridedRows(g.n[0] * g.n[1] * g.n[2], g.n[3], [&](long r0, long r1) { k->binaryStrided(g, r0, r1); });
  return info.Env().Undefined();
}

/** copyStrided(src, dst, rank, n0..n(rank-1), src strides, dst strides): 32-bit elements, rank <= 8. */
static Napi::Value CopyStrided(const Napi::CallbackInfo& info) {
  CopyArgs g;
  g.src = at<uint32_t>(info, 0);
  g.dst = at<uint32_t>(info, 1);
  g.rank = (int)lng(info, 2);
  if (g.rank < 1 || g.rank > COPY_MAX_RANK) {
    Napi::RangeError::New(info.Env(), "copyStrided: rank must be 1 to 8").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  long rows = 1;
  for (int i = 0; i < g.rank; i++) {
    g.n[i] = lng(info, 3 + i);
    g.ss[i] = lng(info, 3 + g.rank + i);
    g.sd[i] = lng(info, 3 + 2 * g.rank + i);
    if (i < g.rank - 1) rows *= g.n[i];
  }
  stridedRows(rows, g.n[g.rank - 1], [&](long r0, long r1) { copyRows(g, r0, r1); });
  return info.Env().Undefined();
}

/** fill32(out, n, word): n 32-bit elements set to `word` (a float32's bits or an int32), in pieces on the pool. */
static Napi::Value Fill32(const Napi::CallbackInfo& info) {
  uint32_t* out = at<uint32_t>(info, 0);
  const uint32_t word = (uint32_t)(int64_t)num(info, 2);
  pieces(lng(info, 1), [&](long s, long c) { fillWords(out + s, c, word); });
  return info.Env().Undefined();
}

/** whereStrided(cond, condFloat, a, b, out, n0..n3, sc0..sc3, sa0..sa3, sb0..sb3). */
static Napi::Value WhereStrided(const Napi::CallbackInfo& info) {
  WhereArgs g;
  g.cond = at<void>(info, 0); g.condFloat = lng(info, 1) != 0;
  g.a = at<void>(info, 2); g.b = at<void>(info, 3); g.out = at<void>(info, 4);
  for (int i = 0; i < 4; i++) {
    g.n[i] = lng(info, 5 + i); g.sc[i] = lng(info, 9 + i); g.sa[i] = lng(info, 13 + i); g.sb[i] = lng(info, 17 + i);
  }
  const KernelTable* k = K;
  stridedRows(g.n[0] * g.n[1] * g.n[2], g.n[3], [&](long r0, long r1) { k->whereStrided(g, r0, r1); });
  return info.Env().Undefined();
}

/** crossEntropy(x, targets, rows, classes, ignoreIndex, smoothing, loss, lse). */
static Napi::Value CrossEntropy(const Napi::CallbackInfo& info) {
  float* x = at(info, 0);
  int32_t* t = at<int32_t>(info, 1);
  long rows = lng(info, 2), classes = lng(info, 3);
  int ignore = (int)lng(info, 4);
  double smoothing = num(info, 5);
  float *loss = at(info, 6), *lse = at(info, 7);
  const KernelTable* k = K;
  rowPieces(rows, classes, [&](long r0, long r1) { k->crossEntropy(x, t, r0, r1, classes, ignore, smoothing, loss, lse); });
  return info.Env().Undefined();
}

/** crossEntropyGrad(x, targets, lse, dloss, rows, classes, ignoreIndex, smoothing, dx). */
static Napi::Value CrossEntropyGrad(const Napi::CallbackInfo& info) {
  float* x = at(info, 0);
  int32_t* t = at<int32_t>(info, 1);
  float *lse = at(info, 2), *dloss = at(info, 3);
  long rows = lng(info, 4), classes = lng(info, 5);
  int ignore = (int)lng(info, 6);
  double smoothing = num(info, 7);
  float* dx = at(info, 8);
  const KernelTable* k = K;
  rowPieces(rows, classes, [&](long r0, long r1) { k->crossEntropyGrad(x, t, lse, dloss, r0, r1, classes, ignore, smoothing, dx); });
  return info.Env().Undefined();
}

/** gather(table, cols, ids, count, out): ids in rows of about PIECE elements. */
static Napi::Value Gather(const Napi::CallbackInfo& info) {
  float* table = at(info, 0);
  long cols = lng(info, 1);
  int32_t* ids = at<int32_t>(info, 2);
  long count = lng(info, 3);
  float* out = at(info, 4);
  const KernelTable* k = K;
  rowPieces(count, cols, [&](long i0, long i1) { k->gather(table, cols, ids, i0, i1, out); });
  return info.Env().Undefined();
}

/** Columns of a scatter-add per task: each task adds every id's rows in order over its strip. */
constexpr long STRIP = 64;

/** scatterAdd(src, cols, ids, count, out). */
static Napi::Value ScatterAdd(const Napi::CallbackInfo& info) {
  float* src = at(info, 0);
  long cols = lng(info, 1);
  int32_t* ids = at<int32_t>(info, 2);
  long count = lng(info, 3);
  float* out = at(info, 4);
  const KernelTable* k = K;
  run((int)((cols + STRIP - 1) / STRIP), [&](int t) {
    long c0 = t * STRIP;
    k->scatterAdd(src, cols, ids, count, c0, c0 + STRIP < cols ? c0 + STRIP : cols, out);
  });
  return info.Env().Undefined();
}

/** maxPool(x, rows, cols, values, indices): rows in pieces of about PIECE elements. */
static Napi::Value MaxPool(const Napi::CallbackInfo& info) {
  float* x = at(info, 0);
  long rows = lng(info, 1), cols = lng(info, 2);
  float* values = at(info, 3);
  int32_t* indices = at<int32_t>(info, 4);
  const KernelTable* k = K;
  rowPieces(rows, cols, [&](long r0, long r1) { k->maxPool(x, r0, r1, cols, values, indices); });
  return info.Env().Undefined();
}

/** maxPoolGrad(dy, indices, rows, cols, dx): an index outside its row leaves the row 0. */
static Napi::Value MaxPoolGrad(const Napi::CallbackInfo& info) {
  float* dy = at(info, 0);
  int32_t* indices = at<int32_t>(info, 1);
  long rows = lng(info, 2), cols = lng(info, 3);
  float* dx = at(info, 4);
  const KernelTable* k = K;
  rowPieces(rows, cols, [&](long r0, long r1) { k->maxPoolGrad(dy, indices, r0, r1, cols, dx); });
  return info.Env().Undefined();
}

/** linearAttention(q, k, v, out, den, dOut, dq, dk, dv, bh, n, dk, dv, eps, backward): one task per bh slice. */
static Napi::Value LinearAttention(const Napi::CallbackInfo& info) {
  LinearArgs a;
  bool backward = info[14].As<Napi::Boolean>().Value();
  a.q = at(info, 0); a.k = at(info, 1); a.v = at(info, 2);
  a.out = a.outW = at(info, 3); a.den = a.denW = at(info, 4); a.dOut = at(info, 5);
  a.dq = at(info, 6); a.dk = at(info, 7); a.dv = at(info, 8);
  long bh = lng(info, 9);
  a.n = lng(info, 10); a.dkDim = lng(info, 11); a.dvDim = lng(info, 12); a.eps = (float)num(info, 13);
  const KernelTable* k = K;
  run((int)bh, [&](int h) { backward ? k->linearBackward(a, h) : k->linearForward(a, h); });
  return info.Env().Undefined();
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  const char* forced = std::getenv("QKV_NATIVE_ISA");
  std::string want;
  if (forced && *forced) want = forced;
  else want = supported("avx512") ? "avx512" : supported("avx2") ? "avx2" : "generic";
  K = supported(want) ? tableFor(want) : generic::table();
  exports.Set("forcedIsa", Napi::String::New(env, forced ? forced : ""));
  exports.Set("isas", Napi::Function::New(env, Isas));
  exports.Set("isa", Napi::Function::New(env, Isa));
  exports.Set("setIsa", Napi::Function::New(env, SetIsa));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("threads", Napi::Function::New(env, Threads));
  exports.Set("poolStats", Napi::Function::New(env, PoolStatsOf));
  exports.Set("setMemory", Napi::Function::New(env, SetMemory));
  exports.Set("gemm", Napi::Function::New(env, Gemm));
  exports.Set("kvStep", Napi::Function::New(env, KvStep));
  exports.Set("fmaPeak", Napi::Function::New(env, FmaPeak));
  exports.Set("unary", Napi::Function::New(env, Unary));
  exports.Set("geluGrad", Napi::Function::New(env, GeluGrad));
  exports.Set("binary", Napi::Function::New(env, Binary));
  exports.Set("adamw", Napi::Function::New(env, AdamW));
  exports.Set("dropout", Napi::Function::New(env, Dropout));
  exports.Set("layerNorm", Napi::Function::New(env, LayerNorm));
  exports.Set("layerNormGrad", Napi::Function::New(env, LayerNormGrad));
  exports.Set("softmax", Napi::Function::New(env, Softmax));
  exports.Set("softmaxGrad", Napi::Function::New(env, SoftmaxGrad));
  exports.Set("flash", Napi::Function::New(env, Flash));
  exports.Set("conv1d", Napi::Function::New(env, Conv1d));
  exports.Set("binaryStrided", Napi::Function::New(env, BinaryStrided));
  exports.Set("whereStrided", Napi::Function::New(env, WhereStrided));
  exports.Set("copyStrided", Napi::Function::New(env, CopyStrided));
  exports.Set("fill32", Napi::Function::New(env, Fill32));
  exports.Set("crossEntropy", Napi::Function::New(env, CrossEntropy));
  exports.Set("crossEntropyGrad", Napi::Function::New(env, CrossEntropyGrad));
  exports.Set("gather", Napi::Function::New(env, Gather));
  exports.Set("scatterAdd", Napi::Function::New(env, ScatterAdd));
  exports.Set("linearAttention", Napi::Function::New(env, LinearAttention));
  exports.Set("maxPool", Napi::Function::New(env, MaxPool));
  exports.Set("maxPoolGrad", Napi::Function::New(env, MaxPoolGrad));
  return exports;
}

}  // namespace qkv

static Napi::Object InitAll(Napi::Env env, Napi::Object exports) { return qkv::Init(env, exports); }

NODE_API_MODULE(qkv_native, InitAll)
