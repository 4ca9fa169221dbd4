// The table of kernels one instruction set provides (isa.cc is compiled once per ISA, each copy
// in its own namespace); addon.cc picks a table at load and splits calls into tasks for the pool.
// Pointers are into the engine's heap (the WebAssembly.Memory); strides are in elements.
#pragma once
#include <atomic>
#include <cstdint>

namespace qkv {

struct GemmArgs {
  const float* a; long aRs, aCs, aBatch;  // op(A)(i, p) = a[i*aRs + p*aCs], matrix t at a + t*aBatch
  const float* b; long bRs, bCs, bBatch;  // op(B)(p, j) = b[p*bRs + j*bCs]
  float* c; long ldc, cBatch;             // C(i, j) = c[i*ldc + j], overwritten
  int batch, m, n, k;
  /** A Linear's bias or null: C(i, j) = (its sum over k) + bias[j], added once an element's sum is whole (the tile still
   * in L1), in the order of a product followed by an add, so the fused result is the unfused one bit for bit. */
  const float* bias = nullptr;
  /** The pool's threads: the grid has TASKS_PER_THREAD tasks a thread where the shape allows (results never depend on it). */
  int threads = 1;
  /** The pool sees a busy machine: GEMV cuts its columns finer (GEMV_TASKS_PER_THREAD_BUSY), so a thread the OS deschedules holds up a small task. */
  bool busy = false;
};

/** How a product is cut into tasks: a grid that depends on the shape, the ISA, the L2's size and the threads. */
struct GemmPlan {
  GemmArgs g;
  int mBlocks, nBlocks, mc, nc, tasks;
  int mcBlock = 0;  // rows of A packed at once inside a task (the block stays in L2); a task's mc rows run in blocks of at most this
  bool gemv;    // one row per matrix (batch-1 decoding): B read in place, no packing, no padded rows
  bool narrow;  // at most one vector of columns: the narrow micro-tile (more rows, one vector)
  /** A GEMV cut over k: each task sums whole KC slices into `partial` (the planning thread's scratch), and the
   * task that finishes last (`left` counts them down) adds them up in order. False: cut over the columns. */
  bool kSplit = false;
  float* partial = nullptr;
  std::atomic<int>* left = nullptr;
};

/** LayerNorm's dgamma/dbeta are summed in blocks of this many columns, a block a task (a multiple of every vector width). */
constexpr long LN_PARAM_COLS = 16;

struct FlashArgs {
  const float *q, *k, *v; const int32_t* pad; float *out, *lse;
  const float* dOut; float *dq, *dk, *dv;
  int heads, n, s, d, dv_; float scale; int causal, window;
  /**
   * Where each operand's rows lie (FlashAttentionArgs.layout): element (b, h, i, c) of slice
   * bh = b·heads + h at b·xB + h·xH + i·xT + c, for q (and dq), k (dk), v (dv), out and dOut (g).
   * denseLayout() sets the contiguous [bh, rows, d] layout.
   */
  long qB = 0, qH = 0, qT = 0, kB = 0, kH = 0, kT = 0, vB = 0, vH = 0, vT = 0, oB = 0, oH = 0, oT = 0, gB = 0, gH = 0, gT = 0;
  void denseLayout() {
    qT = d; qH = (long)n * d; qB = heads * qH;
    kT = d; kH = (long)s * d; kB = heads * kH;
    vT = dv_; vH = (long)s * dv_; vB = heads * vH;
    oT = gT = dv_; oH = gH = (long)n * dv_; oB = gB = heads * oH;
  }
  /** Attention dropout (FlashAttentionArgs.dropout): weight (bh, i, j) times mask element (bh·n + i)·s + j. */
  bool dropout = false;
  uint32_t dropKey0 = 0, dropKey1 = 0, dropThreshold = 0; float dropScale = 1;
};

/** Conv1dArgs of src/kernels/contract.ts. */
struct ConvArgs {
  long batch, cin, cout, groups, length, kernel, outLength, stride, padLeft, dilation;
};

/** A binary map over [n0, n1, n2, n3]: a and b read at element strides sa, sb (0 = broadcast); out contiguous. */
struct StridedArgs {
  int op;
  const void* a; const void* b; void* out;
  bool aInt, bInt, outInt;  // int32 instead of float32
  long n[4], sa[4], sb[4];
};

/** where over [n0, n1, n2, n3]: cond (int32, or float32 when condFloat), a, b read at their strides; out contiguous. */
struct WhereArgs {
  const void* cond; bool condFloat;
  const void* a; const void* b; void* out;
  long n[4], sc[4], sa[4], sb[4];
};

/** Causal linear attention over [bh, n, dk|dv] rows; the forward writes outW and denW, the backward dq, dk, dv (null: skipped). */
struct LinearArgs {
  const float *q, *k, *v, *out, *den, *dOut;
  float *outW, *denW, *dq, *dk, *dv;
  long n, dkDim, dvDim;
  float eps;
};

struct KernelTable {
  const char* name;
  GemmPlan (*gemmPlan)(const GemmArgs&);
  void (*gemmTask)(const GemmPlan&, int task);
  // elementwise over [start, start + count)
  void (*unary)(int op, const float* x, float* out, long n);
  void (*geluGrad)(const float* x, const float* dy, float* out, long n, int approximate);
  void (*adamw)(float* p, const float* g, float* m, float* v, long n, float b1, float b1c, float b2, float b2c,
                float decay, float stepSize, float sqrtC2, float eps);
  void (*binary)(int op, int form, const float* a, const float* b, float* out, long n, long inner);
  // rows [r0, r1) of [rows, cols]
  void (*layerNorm)(const float* x, const float* gamma, const float* beta, long r0, long r1, long cols, float eps,
                    float* y, float* mean, float* rstd);
  void (*layerNormGrad)(const float* x, const float* gamma, const float* mean, const float* rstd, const float* dy,
                        long r0, long r1, long cols, float* dx);
  // columns [c0, c1) (at most LN_PARAM_COLS) of LayerNorm's dgamma and dbeta, summed over all rows in order
  void (*layerNormParamGrads)(const float* x, const float* mean, const float* rstd, const float* dy, long rows, long cols,
                              long c0, long c1, float* dgamma, float* dbeta);
  void (*softmax)(const float* x, float* out, long r0, long r1, long cols, int log);
  void (*softmaxGrad)(const float* y, const float* dy, float* dx, long r0, long r1, long cols, int log);
  // one (batch·head) slice of FlashAttention, forward or backward
  void (*flashForward)(const FlashArgs&, int bh);
  void (*flashBackward)(const FlashArgs&, int bh);
  // rows [r0, r1) of a strided binary map's [n0·n1·n2, n3] output
  void (*binaryStrided)(const StridedArgs&, long r0, long r1);
  void (*whereStrided)(const WhereArgs&, long r0, long r1);
  // rows [r0, r1) of a [rows, classes] cross-entropy and its gradient
  void (*crossEntropy)(const float* x, const int32_t* targets, long r0, long r1, long classes, int ignoreIndex,
                       double smoothing, float* loss, float* lse);
  void (*crossEntropyGrad)(const float* x, const int32_t* targets, const float* lse, const float* dloss, long r0, long r1,
                           long classes, int ignoreIndex, double smoothing, float* dx);
  // ids [i0, i1) of a gather; columns [c0, c1) of a scatter-add over every id in order
  void (*gather)(const float* table, long cols, const int32_t* ids, long i0, long i1, float* out);
  void (*scatterAdd)(const float* src, long cols, const int32_t* ids, long count, long c0, long c1, float* out);
  // one bh slice of causal linear attention, forward or backward
  void (*linearForward)(const LinearArgs&, long h);
  void (*linearBackward)(const LinearArgs&, long h);
  // rows [r0, r1) of a max-pool over each whole row of [rows, cols] (values and indices), and of its gradient
  void (*maxPool)(const float* x, long r0, long r1, long cols, float* values, int32_t* indices);
  void (*maxPoolGrad)(const float* dy, const int32_t* indices, long r0, long r1, long cols, float* dx);
  // elements [start, start + n) of dropout with its counter-based mask (random.h)
  void (*dropout)(const float* x, float* out, long start, long n, uint32_t key0, uint32_t key1, uint32_t threshold, float scale);
  // the FMA peak's probe: `iters` rounds of independent multiply-adds in registers; returns the flops done
  double (*fmaPeak)(long iters);
};

enum Unary { U_EXP = 0, U_TANH = 1, U_GELU_TANH = 2, U_GELU_ERF = 3, U_RELU = 4 };
enum Binary { B_ADD = 0, B_SUB = 1, B_MUL = 2, B_DIV = 3 };
// forms: 0 vector-vector, 1 vector-scalar (b[0]), 2 scalar-vector (a[0]), 3 vector-row (b repeats every `inner`), 4 row-vector
// strided binary ops (the order of BINARY_KERNELS in src/kernels/contract.ts, less Pow)
enum StridedOp { S_ADD = 0, S_SUB, S_MUL, S_DIV, S_MAX, S_MIN, S_EQ, S_NE, S_LT, S_LE, S_GT, S_GE };
enum Form { F_VV = 0, F_VS = 1, F_SV = 2, F_VR = 3, F_RV = 4 };

namespace avx512 { const KernelTable* table(); }
namespace avx2 { const KernelTable* table(); }
namespace generic { const KernelTable* table(); }

}  // namespace qkv
