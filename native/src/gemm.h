// Packed GEMM (BLIS's loops): C = op(A)·op(B) cut into mc×nc tasks; per task and per kc slice
// of k, B is packed into kc×NR panels and A into MR×kc panels (zero-padded), and an MR×NR
// register tile of FMAs runs over them. Every element of C sums its k products in the same
// order whatever the task grid, so the thread count never changes a result.
#pragma once
#include "vec.h"

namespace qkv { namespace QKV_ISA {

// micro-tile: MR rows × NV vectors (NR = NV·W columns); accumulators MR·NV + NV + 1 registers
#if QKV_W == 16
constexpr int MR = 12, NV = 2;   // 24 zmm accumulators of 32
#elif QKV_W == 8
constexpr int MR = 6, NV = 2;    // 12 ymm of 16
#else
constexpr int MR = 6, NV = 2;    // 12 xmm of 16 (NEON: 32)
#endif
constexpr int NR = NV * W;
constexpr int KC = 256;
constexpr int MC = 8 * MR;
constexpr int NC = 256;

/** acc (MR × NR) = Ap (kc × MR) · Bp (kc × NR), then C = acc or C += acc over rows×cols of the tile. */
static inline void micro(int kc, const float* __restrict Ap, const float* __restrict Bp, float* __restrict C, long ldc,
                         bool add, int rows, int cols) {
  vf c[MR][NV];
#pragma GCC unroll 32
  for (int r = 0; r < MR; r++)
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) c[r][v] = vf{};
  for (int p = 0; p < kc; p++) {
    vf b[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) b[v] = *(const vf*)(Bp + p * NR + v * W);
#pragma GCC unroll 32
    for (int r = 0; r < MR; r++) {
      vf a = splat(Ap[p * MR + r]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++) c[r][v] += a * b[v];
    }
  }
  if (rows == MR && cols == NR) {
#pragma GCC unroll 32
    for (int r = 0; r < MR; r++)
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++) {
        float* o = C + r * ldc + v * W;
        store(o, add ? load(o) + c[r][v] : c[r][v]);
      }
    return;
  }
  for (int r = 0; r < rows; r++)
    for (int j = 0; j < cols; j++) {
      float x = c[r][j / W][j % W];
      C[r * ldc + j] = add ? C[r * ldc + j] + x : x;
    }
}

/** Ap[p*MR + r] = A(i0 + r, p0 + p), zero rows past `rows`. */
static void packA(const GemmArgs& g, const float* a, long i0, int rows, long p0, int kc, float* Ap) {
  if (g.aCs == 1) {
    for (int r = 0; r < rows; r++) {
      const float* src = a + (i0 + r) * g.aRs + p0;
      for (int p = 0; p < kc; p++) Ap[p * MR + r] = src[p];
    }
  } else {
    for (int p = 0; p < kc; p++) {
      const float* src = a + (p0 + p) * g.aCs + i0 * g.aRs;
      for (int r = 0; r < rows; r++) Ap[p * MR + r] = src[r * g.aRs];
    }
  }
  for (int r = rows; r < MR; r++)
    for (int p = 0; p < kc; p++) Ap[p * MR + r] = 0;
}

/** Panels of NR columns: Bp[jp*kc*NR + p*NR + j] = B(p0 + p, j0 + jp*NR + j), zero past `cols` (row by row
 * when B's rows are contiguous, so each read is one long run rather than a 4 KiB-strided column). */
static void packB(const GemmArgs& g, const float* b, long p0, int kc, long j0, int cols, float* Bp) {
  int panels = (cols + NR - 1) / NR;
  if (g.bCs == 1) {
    for (int p = 0; p < kc; p++) {
      const float* src = b + (p0 + p) * g.bRs + j0;
      for (int jp = 0; jp < panels; jp++) {
        float* dst = Bp + (size_t)jp * kc * NR + p * NR;
        int w = (int)mins(NR, cols - jp * NR);
        if (w == NR) {
          for (int v = 0; v < NV; v++) *(vf*)(dst + v * W) = load(src + jp * NR + v * W);
        } else {
          int j = 0;
          for (; j < w; j++) dst[j] = src[jp * NR + j];
          for (; j < NR; j++) dst[j] = 0;
        }
      }
    }
  } else {
    for (int jp = 0; jp < panels; jp++) {
      float* dst = Bp + (size_t)jp * kc * NR;
      int w = (int)mins(NR, cols - jp * NR);
      for (int j = 0; j < w; j++) {
        const float* src = b + (j0 + jp * NR + j) * g.bCs + p0 * g.bRs;
        for (int p = 0; p < kc; p++) dst[p * NR + j] = src[p * g.bRs];
      }
      for (int j = w; j < NR; j++)
        for (int p = 0; p < kc; p++) dst[p * NR + j] = 0;
    }
  }
}

/** Columns of C a GEMV task computes (a multiple of every vector width). */
constexpr int GV = 128;

/**
 * One row of A times B (m = 1: a decoding step's projections), columns [j0, j0 + cols) of
 * matrix t, reading B where it lies. Every element sums its k products in the packed path's
 * order (fused multiply-adds from 0 over each KC slice, then C = or C += the slice's sum), so a
 * row's result is the same bit for bit whether it comes alone or in a batch.
 */
static void gemvTask(const GemmArgs& g, int t, long j0, int cols) {
  const float* a = g.a + t * g.aBatch;
  const float* b = g.b + t * g.bBatch;
  float* c = g.c + t * g.cBatch + j0;
  if (g.k == 0) {
    for (int j = 0; j < cols; j++) c[j] = 0;
    return;
  }
  for (long p0 = 0; p0 < g.k; p0 += KC) {
    const int kc = (int)mins(KC, g.k - p0);
    const bool add = p0 > 0;
    if (g.bCs == 1) {
      // B's rows are contiguous: vectors across the columns, four at a time
      for (int j = 0; j < cols; j += 4 * W) {
        const int w = (int)mins(4 * W, cols - j);
        vf acc[4] = {};
        const float* bp = b + p0 * g.bRs + j0 + j;
        if (w == 4 * W) {
          for (int p = 0; p < kc; p++) {
            vf av = splat(a[(p0 + p) * g.aCs]);
            const float* row = bp + p * g.bRs;
#pragma GCC unroll 4
            for (int v = 0; v < 4; v++) acc[v] += av * load(row + v * W);
          }
        } else {
          for (int p = 0; p < kc; p++) {
            vf av = splat(a[(p0 + p) * g.aCs]);
            const float* row = bp + p * g.bRs;
            for (int v = 0; v * W < w; v++) acc[v] += av * loadPart(row + v * W, mins(W, w - v * W));
          }
        }
        for (int v = 0; v * W < w; v++) {
          const int n = (int)mins(W, w - v * W);
          for (int l = 0; l < n; l++) c[j + v * W + l] = add ? c[j + v * W + l] + acc[v][l] : acc[v][l];
        }
      }
    } else {
      // B transposed (a Linear's [out, in] weight): W columns a vector, each lane its own column's
      // chain (vector arithmetic, so each ISA fuses, or not, exactly as its packed kernel does;
      // scalar chains would let GCC split the multiply-adds when it vectorizes them over p)
      for (int j = 0; j < cols; j += 2 * W) {
        const int w = (int)mins(2 * W, cols - j);
        vf acc[2] = {};
        const float* bj = b + (j0 + j) * g.bCs + p0 * g.bRs;
        for (int p = 0; p < kc; p++) {
          vf av = splat(a[(p0 + p) * g.aCs]);
          const float* col = bj + p * g.bRs;
          for (int v = 0; v * W < w; v++) {
            vf bv = {};
            const int lanes = (int)mins(W, w - v * W);
            for (int l = 0; l < lanes; l++) bv[l] = col[(v * W + l) * g.bCs];
            acc[v] += av * bv;
          }
        }
        for (int v = 0; v * W < w; v++) {
          const int lanes = (int)mins(W, w - v * W);
          for (int l = 0; l < lanes; l++) c[j + v * W + l] = add ? c[j + v * W + l] + acc[v][l] : acc[v][l];
        }
      }
    }
  }
}

static GemmPlan gemmPlan(const GemmArgs& g) {
  GemmPlan pl;
  pl.g = g;
  pl.mc = MC;
  pl.nc = NC;
  pl.gemv = g.m == 1;
  if (pl.gemv) {
    pl.mBlocks = 1;
    pl.nc = GV;
    pl.nBlocks = (g.n + GV - 1) / GV;
    pl.tasks = g.batch * pl.nBlocks;
    return pl;
  }
  // few rows (a product with a short side): narrower column blocks so there are tasks to share
  if (g.m <= MC && g.n > NR * 4 && (long)g.batch * ((g.n + NC - 1) / NC) < 8) pl.nc = NR * 4;
  pl.mBlocks = (g.m + pl.mc - 1) / pl.mc;
  pl.nBlocks = (g.n + pl.nc - 1) / pl.nc;
  pl.tasks = g.batch * pl.mBlocks * pl.nBlocks;
  return pl;
}

static void gemmTask(const GemmPlan& pl, int task) {
  const GemmArgs& g = pl.g;
  if (pl.gemv) {
    const long j0 = (long)(task % pl.nBlocks) * GV;
    return gemvTask(g, task / pl.nBlocks, j0, (int)mins(GV, g.n - j0));
  }
  int t = task / (pl.mBlocks * pl.nBlocks);
  int rest = task % (pl.mBlocks * pl.nBlocks);
  long i0 = (long)(rest / pl.nBlocks) * pl.mc, j0 = (long)(rest % pl.nBlocks) * pl.nc;
  int mc = (int)mins(pl.mc, g.m - i0), nc = (int)mins(pl.nc, g.n - j0);
  const float* a = g.a + t * g.aBatch;
  const float* b = g.b + t * g.bBatch;
  float* c = g.c + t * g.cBatch;
  if (g.k == 0) {
    for (int i = 0; i < mc; i++) for (int j = 0; j < nc; j++) c[(i0 + i) * g.ldc + j0 + j] = 0;
    return;
  }
  int nPanels = (nc + NR - 1) / NR, mPanels = (mc + MR - 1) / MR;
  int kcMax = (int)mins(KC, g.k);
  float* Bp = scratch(0, (size_t)kcMax * NR * nPanels + (size_t)kcMax * MR * mPanels);
  float* Ap = Bp + (size_t)kcMax * NR * nPanels;
  for (long p0 = 0; p0 < g.k; p0 += KC) {
    int kc = (int)mins(KC, g.k - p0);
    packB(g, b, p0, kc, j0, nc, Bp);
    for (int ip = 0; ip < mPanels; ip++) packA(g, a, i0 + ip * MR, (int)mins(MR, mc - ip * MR), p0, kc, Ap + (size_t)ip * kc * MR);
    for (int jp = 0; jp < nPanels; jp++)
      for (int ip = 0; ip < mPanels; ip++)
        micro(kc, Ap + (size_t)ip * kc * MR, Bp + (size_t)jp * kc * NR, c + (i0 + ip * MR) * g.ldc + j0 + jp * NR, g.ldc,
              p0 > 0, (int)mins(MR, mc - ip * MR), (int)mins(NR, nc - jp * NR));
  }
}

}}  // namespace qkv::QKV_ISA
