// Packed GEMM (BLIS's loops): C = op(A)·op(B) cut into mc×nc tasks; per task and per kc slice
// of k, B is packed into kc×NR panels and A into MR×kc panels (zero-padded), and an MR×NR
// register tile of FMAs runs over them. Every element of C sums its k products in the same
// order whatever the task grid or tile (fused multiply-adds from 0 over each KC slice, then
// C = or C += the slice's sum), so neither the thread count nor the blocking changes a result.
// Operands stored transposed (a Linear's [out, in] weight as B, activations as Aᵀ in a weight
// gradient) are packed through TB×TB transposes in registers, so A·Bᵀ and Aᵀ·B cost what A·B does.
#pragma once
#include <unistd.h>
#include "vec.h"

namespace qkv { namespace QKV_ISA {

// micro-tiles: MR rows × NV vectors (NR = NV·W columns); accumulators MR·NV + NV + 1 registers.
#if defined(QKV_TILE_MR)  // tuning builds (scripts/gemm-bench.mjs with CXXFLAGS_EXTRA) try other tiles
constexpr int MR = QKV_TILE_MR, NV = QKV_TILE_NV;
#elif QKV_W == 16
constexpr int MR = 12, NV = 2;   // 24 zmm accumulators of 32
#elif QKV_W == 8
constexpr int MR = 6, NV = 2;    // 12 ymm of 16
#else
constexpr int MR = 6, NV = 2;    // 12 xmm of 16 (NEON: 32)
#endif
constexpr int NR = NV * W;
/** Products of at most W columns (LoRA's rank-8 factors, a classifier's few classes), which the wide tile
 * would pad to NR and whose A packing would cost as much as their arithmetic, take a narrow tile of MRD rows
 * × one vector that reads A in place (12 accumulators: more than FMA latency × units). */
constexpr int MRD = 12;
/** k per packed slice: the B micro-panel (KC×NR) stays in L1 while the A panels pass. Fixed per ISA: it
 * decides where the k sums are cut, so it must not depend on the machine's caches. */
#ifndef QKV_KC
#define QKV_KC 256
#endif
constexpr int KC = QKV_KC;
/** Columns of a task at most (its packed B block, KC×NC, with the A block fits in L2). */
constexpr int NC = 512;
/**
 * The grid has this many tasks a thread at least when the shape allows, and no more: every extra
 * block packs its A and B slices again. On a quiet machine one a thread: 2 threads, alternating
 * runs of the kernel alone (scripts/gemm-bench.mjs, 64-byte operands), GEMM 256 270 -> 370 GFLOP/s
 * against 4 a thread, 1024 320 -> 368, the baby GPT's 768×384×128 (NT) 303 -> 403, BERT's
 * 512×768×3072 312 -> 352. On a busy machine too: four a thread there (so that a thread the OS
 * deschedules holds up one small task) made the baby GPT's training step beside a spinning
 * process (2 cores, AMD EPYC) 1.08× the time of 1 thread's, one a thread 1.00× (alternating rounds
 * in one process): the caller runs most of a busy job's tasks alone before a woken worker gets a
 * core, so every extra block's packing is the caller's. Beyond that more tasks only cost: 16 tasks
 * on 2 threads cut GPT-2's 512×768 outputs into 132×192 blocks, and the product with k = 50257
 * (lm_head's input gradient) then read its 103 MB and 154 MB operands four times each: 1.8× slower
 * than in 8 tasks. The grid never changes a result (each element's k order is fixed by KC).
 */
#ifndef QKV_GEMM_TASKS_PER_THREAD
#define QKV_GEMM_TASKS_PER_THREAD 1
#endif
constexpr int TASKS_PER_THREAD = QKV_GEMM_TASKS_PER_THREAD;
/** GEMV on a busy machine: columns in four runs a thread (no packing to repeat). */
constexpr int GEMV_TASKS_PER_THREAD_BUSY = 4;
/** Narrow products (at most W columns) pack all of a task's k × W slice of B: at least this many tasks. */
constexpr int MIN_NARROW_TASKS = 4;
/**
 * Each micro-tile first prefetches (for writing) the lines of C it ends by storing, so their misses
 * overlap its FMAs instead of stalling the stores: in a model step C is a fresh buffer, cold in the
 * caches (a 512×768 output alone with C cycled over 600 MB: 330 -> 290 GFLOP/s). BERT base forward,
 * 2 threads, alternating 9-11 rounds, three runs: 0.97-1.00x the time without it. 0 turns it off (tuning).
 */
#ifndef QKV_PREFETCH_C
#define QKV_PREFETCH_C 1
#endif

/** acc (R × V·W) = Ap (kc × R) · Bp (kc × V·W), then C = acc or C += acc over rows×cols of the tile. */
template <int R, int V>
static inline void micro(int kc, const float* __restrict Ap, const float* __restrict Bp, float* __restrict C, long ldc,
                         bool add, int rows, int cols) {
  constexpr int N = V * W;
  // the tile of C this call ends by writing: its lines are fetched while the FMAs run (QKV_PREFETCH_C)
#pragma GCC unroll 32
  for (int r = 0; r < R; r++)
    if (QKV_PREFETCH_C && r < rows)
#pragma GCC unroll 4
      for (int b = 0; b < N * 4; b += 64) __builtin_prefetch((const char*)(C + r * ldc) + b, 1, 3);
  vf c[R][V];
#pragma GCC unroll 32
  for (int r = 0; r < R; r++)
#pragma GCC unroll 4
    for (int v = 0; v < V; v++) c[r][v] = vf{};
#pragma GCC unroll 2
  for (int p = 0; p < kc; p++) {
    vf b[V];
#pragma GCC unroll 4
    for (int v = 0; v < V; v++) b[v] = *(const vf*)(Bp + p * N + v * W);
#pragma GCC unroll 32
    for (int r = 0; r < R; r++) {
      vf a = splat(Ap[p * R + r]);
#pragma GCC unroll 4
      for (int v = 0; v < V; v++) c[r][v] += a * b[v];
    }
  }
  if (rows == R && cols == N) {
#pragma GCC unroll 32
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
      for (int v = 0; v < V; v++) {
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

/** C[r][j] += bias[j] over rows × cols (rows ldc apart): a Linear's bias, once the product's sums are whole. */
static inline void addBias(float* C, long ldc, int rows, int cols, const float* bias) {
  const int full = cols / W * W;
  for (int r = 0; r < rows; r++) {
    float* o = C + r * ldc;
    for (int j = 0; j < full; j += W) store(o + j, load(o + j) + load(bias + j));
    for (int j = full; j < cols; j++) o[j] += bias[j];
  }
}

/** Floats a packed A panel may write past its end (the transposed path's last store runs over by < TB). */
constexpr int A_SLACK = TB;

/** Ap[p*R + r] = A(i0 + r, p0 + p), zero rows past `rows`. */
template <int R>
static void packA(const GemmArgs& g, const float* a, long i0, int rows, long p0, int kc, float* Ap) {
  if (g.aCs == 1 && g.aRs != 1) {
    // A's rows are contiguous (the usual layout): TB×TB blocks transposed in registers. The R rows
    // are G groups of TB; a group's store of TB floats runs past the panel's row when R is not a
    // multiple of TB, into the next p's floats, which the next store then overwrites
    constexpr int G = (R + TB - 1) / TB;
    const float* src = a + i0 * g.aRs + p0;
    int p = 0;
    for (; p + TB <= kc; p += TB) {
      vt t[G][TB];
#pragma GCC unroll 4
      for (int gi = 0; gi < G; gi++) {
#pragma GCC unroll 8
        for (int j = 0; j < TB; j++) {
          const int r = gi * TB + j;
          t[gi][j] = r < rows ? loadT(src + r * g.aRs + p) : vt{};
        }
        transposeT(t[gi]);
      }
#pragma GCC unroll 8
      for (int q = 0; q < TB; q++)
#pragma GCC unroll 4
        for (int gi = 0; gi < G; gi++) storeT(Ap + (p + q) * R + gi * TB, t[gi][q]);
    }
    for (; p < kc; p++)
      for (int r = 0; r < R; r++) Ap[p * R + r] = r < rows ? src[r * g.aRs + p] : 0;
    return;
  }
  // A stored transposed (Aᵀ's rows are A's columns: R floats in a run per p), or any strides
  for (int p = 0; p < kc; p++) {
    const float* src = a + (p0 + p) * g.aCs + i0 * g.aRs;
    float* dst = Ap + p * R;
    if (g.aRs == 1) {
      for (int r = 0; r < rows; r++) dst[r] = src[r];
    } else {
      for (int r = 0; r < rows; r++) dst[r] = src[r * g.aRs];
    }
    for (int r = rows; r < R; r++) dst[r] = 0;
  }
}

/**
 * A block stored transposed (Aᵀ's rows are A's columns: a weight gradient gᵀ·x reads the output
 * gradient g this way) with rows of Aᵀ a page or more apart: all the block's panels at once, p by
 * p, so each p reads one contiguous run of the block's rows (mc floats) instead of every panel
 * walking kc rows of Aᵀ for R floats each (a TLB miss per short run). The same panels as packA<R>
 * panel by panel. Measured (2 threads, alternating, 5 rounds): the seq2seq output layer's weight
 * gradient 10000×128·(1472 rows of Aᵀ 40 KB apart) 178 → 210 GFLOP/s; with rows 1.5 KB apart
 * (384×128×768) it was 10% slower than the panel walk, so closer rows keep packA.
 */
constexpr long BLOCK_PACK_MIN_STRIDE = 1024;
template <int R>
static void packABlockT(const GemmArgs& g, const float* a, long i0, int mc, long p0, int kc, float* Ap) {
  const int panels = (mc + R - 1) / R;
  for (int p = 0; p < kc; p++) {
    const float* src = a + (p0 + p) * g.aCs + i0;
    for (int ip = 0; ip < panels; ip++) {
      float* dst = Ap + (size_t)ip * kc * R + p * R;
      const int rows = (int)mins(R, mc - ip * R);
      if (rows == R) {
#pragma GCC unroll 16
        for (int r = 0; r < R; r++) dst[r] = src[ip * R + r];
      } else {
        for (int r = 0; r < rows; r++) dst[r] = src[ip * R + r];
        for (int r = rows; r < R; r++) dst[r] = 0;
      }
    }
  }
}

/** Panels of N columns: Bp[jp*kc*N + p*N + j] = B(p0 + p, j0 + jp*N + j), zero past `cols`. */
template <int N>
static void packB(const GemmArgs& g, const float* b, long p0, int kc, long j0, int cols, float* Bp) {
  constexpr int V = N / W;
  const int panels = (cols + N - 1) / N;
  if (g.bCs == 1) {
    // B's rows are contiguous: row by row, each read one long run rather than a 4 KiB-strided column
    for (int p = 0; p < kc; p++) {
      const float* src = b + (p0 + p) * g.bRs + j0;
      for (int jp = 0; jp < panels; jp++) {
        float* dst = Bp + (size_t)jp * kc * N + p * N;
        int w = (int)mins(N, cols - jp * N);
        if (w == N) {
#pragma GCC unroll 4
          for (int v = 0; v < V; v++) *(vf*)(dst + v * W) = load(src + jp * N + v * W);
        } else {
          int j = 0;
          for (; j < w; j++) dst[j] = src[jp * N + j];
          for (; j < N; j++) dst[j] = 0;
        }
      }
    }
  } else if (g.bRs == 1) {
    // B stored transposed (a Linear's [out, in] weight: column j is a run over p): TB columns at a
    // time, TB×TB blocks transposed in registers, the rest of a partial panel one by one
    for (int jp = 0; jp < panels; jp++) {
      float* dst = Bp + (size_t)jp * kc * N;
      const int w = (int)mins(N, cols - jp * N);
      for (int j = 0; j < N; j += TB) {
        const float* src = b + (j0 + jp * N + j) * g.bCs + p0;
        int p = 0;
        if (j + TB <= w) {
          for (; p + TB <= kc; p += TB) {
            vt t[TB];
            loadTransposedT(src + p, g.bCs, t);
#pragma GCC unroll 8
            for (int q = 0; q < TB; q++) storeT(dst + (p + q) * N + j, t[q]);
          }
        }
        for (; p < kc; p++)
          for (int q = 0; q < TB; q++) dst[p * N + j + q] = j + q < w ? src[q * g.bCs + p] : 0;
      }
    }
  } else {
    for (int jp = 0; jp < panels; jp++) {
      float* dst = Bp + (size_t)jp * kc * N;
      int w = (int)mins(N, cols - jp * N);
      for (int j = 0; j < w; j++) {
        const float* src = b + (j0 + jp * N + j) * g.bCs + p0 * g.bRs;
        for (int p = 0; p < kc; p++) dst[p * N + j] = src[p * g.bRs];
      }
      for (int j = w; j < N; j++)
        for (int p = 0; p < kc; p++) dst[p * N + j] = 0;
    }
  }
}

/** A GEMV task's columns are a multiple of this (every vector width). */
constexpr int GQ = 16;

/**
 * Software prefetch for the GEMV on Bᵀ: walks the next block of B's rows (k floats each, `stride`
 * apart) LINES cache lines a step, in memory order, into L2 while the current block's rows are read
 * 16 or 32 at once (each a stream of its own, which the hardware prefetcher follows poorly: lm_head
 * 22 → 25 GB/s on 2 threads, and 0.74 → 0.97 of a plain sum's speed on a busy machine). LINES is
 * what a step of the current block reads, so the walk keeps one block ahead.
 */
struct NextRows {
  const float* row;
  long off, k, stride;
  template <int LINES> inline void step() {
#pragma GCC unroll 16
    for (int q = 0; q < LINES; q++) {
      __builtin_prefetch(row + off, 0, 2);
      off += 16;
      if (off >= k) off = 0, row += stride;
    }
  }
};

/**
 * The end of a GEMV-on-Bᵀ KC slice (both variants below), for the groups of T columns from column j
 * (V holds T floats): the products past the last whole T×T block one p at a time, lanes gathered,
 * then C = or C += each group's sums.
 */
template <typename V, int T, V (*splatV)(float)>
static inline void gemvTransposedEnd(const GemmArgs& g, const float* a, long p0, int p, int kc, const float* bj, V* acc, int groups,
                                     int cols, int j, float* c, bool add) {
  for (; p < kc; p++) {
    const V av = splatV(a[(p0 + p) * g.aCs]);
    for (int gi = 0; gi < groups; gi++) {
      V bv = {};
      const int lanes = (int)mins(T, cols - j - gi * T);
      for (int l = 0; l < lanes; l++) bv[l] = bj[(gi * T + l) * g.bCs + p];
      acc[gi] += av * bv;
    }
  }
  for (int gi = 0; gi < groups; gi++) {
    const int lanes = (int)mins(T, cols - j - gi * T);
    float* o = c + j + gi * T;
    for (int l = 0; l < lanes; l++) o[l] = add ? o[l] + acc[gi][l] : acc[gi][l];
  }
}

#if QKV_W == 16
// ---- 16×16 transposes in zmm (AVX-512) for the GEMV on Bᵀ: a butterfly over the four bits of the
// row and lane indices; each stage exchanges bit BIT of the row with bit BIT of the lane
typedef int32_t v16i __attribute__((vector_size(64)));
template <int BIT, size_t... L> constexpr v16i butterflyLo(std::index_sequence<L...>) { return v16i{((L & BIT) ? 16 + (int)(L ^ BIT) : (int)L)...}; }
template <int BIT, size_t... L> constexpr v16i butterflyHi(std::index_sequence<L...>) { return v16i{((L & BIT) ? 16 + (int)L : (int)(L | BIT))...}; }
template <int BIT> static inline void butterfly(vf r[16]) {
  constexpr v16i lo = butterflyLo<BIT>(std::make_index_sequence<16>{});
  constexpr v16i hi = butterflyHi<BIT>(std::make_index_sequence<16>{});
#pragma GCC unroll 16
  for (int i = 0; i < 16; i++)
    if (!(i & BIT)) {
      const vf x = r[i], y = r[i | BIT];
      r[i] = __builtin_shuffle(x, y, lo);
      r[i | BIT] = __builtin_shuffle(x, y, hi);
    }
}
/** r[i][j] becomes r[j][i] (16 × 16). */
static inline void transpose16(vf r[16]) { butterfly<1>(r); butterfly<2>(r); butterfly<4>(r); butterfly<8>(r); }

/**
 * GEMV on B stored transposed (a Linear's [out, in] weight, GPT-2's tied lm_head), columns
 * [j0, j0 + cols): 16 columns a zmm, each lane its own column's chain over p, fed by 16×16
 * transposes of 16 runs of B (on AVX-512 a third fewer shuffles a float than 8×8 blocks, and half
 * the multiply-adds: lm_head's 154 MB read about 10% faster). A group runs over all of k before
 * the next (its KC slices' sums C = and C += in order, as everywhere), its rows of B read end to
 * end while the next group's are prefetched (NextRows; one group at a time with the prefetch read
 * faster than two without). The same fused multiply-adds in the same order as the packed path: bit-equal.
 */
static void gemvTransposed(const GemmArgs& g, const float* a, const float* b, float* c, long j0, int cols) {
  constexpr int T = 16;
  for (int j = 0; j < cols; j += T) {
    const bool full = j + T <= cols;
    NextRows next{b + (j0 + j + T) * g.bCs, 0, g.k, g.bCs};
    for (long p0 = 0; p0 < g.k; p0 += KC) {
      const int kc = (int)mins(KC, g.k - p0);
      vf acc = {};
      const float* bj = b + (j0 + j) * g.bCs + p0;
      int p = 0;
      if (full) {
        for (; p + T <= kc; p += T) {
          vf tr[T];
#pragma GCC unroll 16
          for (int q = 0; q < T; q++) tr[q] = load(bj + q * g.bCs + p);
          next.step<16>();  // 16 rows × 16 floats
          transpose16(tr);
#pragma GCC unroll 16
          for (int q = 0; q < T; q++) acc += splat(a[(p0 + p + q) * g.aCs]) * tr[q];
        }
      }
      gemvTransposedEnd<vf, T, splat>(g, a, p0, p, kc, bj, &acc, 1, cols, j, c, p0 > 0);
    }
  }
}
#else
/**
 * GEMV on B stored transposed (a Linear's [out, in] weight, GPT-2's tied lm_head), columns
 * [j0, j0 + cols): TB columns a vector, each lane its own column's chain over p, fed by TB×TB
 * transposes of TB runs (loadTransposedT); NG such groups at once so the chains overlap (vector
 * arithmetic, so each ISA fuses, or not, exactly as its packed kernel does). A group runs over all
 * of k before the next (its KC slices' sums C = and C += in order, as everywhere): its rows of B
 * are read once, end to end, rather than a KC run of each at a time, while the next NG groups'
 * rows are prefetched (NextRows; when added, AVX2, lm_head on 2 threads: 18.9 → 24.7 GB/s).
 * For 8 lanes (AVX2) two groups, 16 rows as AVX-512's one: 16 chains of 4-cycle FMAs are still
 * 16 B a cycle a core, and half as many rows at once (rows k·4 bytes apart, 3 KB for GPT-2, fall in
 * few L1 sets) with the half-loaded transposes (on the Zen 3, lm_head in L2 on one thread 17-26 →
 * 35 GB/s); and the columns in S = 2 regions whose blocks take turns, each region's next block
 * prefetched by a walker of its own: two sequential streams a thread read faster than one (the
 * Zen 3, a plain sum on 2 threads: one stream a thread 23 GB/s, four 32 GB/s). lm_head from
 * memory, 2 threads, huge pages, alternating in one process, 15-21 rounds, three runs: 24.0 → 27.9,
 * 18.4 → 20.4 and 12.5 → 14.5 GB/s (busy machine) against the 4 groups of 8×8 transposes.
 */
static void gemvTransposed(const GemmArgs& g, const float* a, const float* b, float* c, long j0, int cols) {
  constexpr int NG = TB == 8 ? 2 : 4, S = TB == 8 ? 2 : 1, R = NG * TB;
  const int blocks = (cols + R - 1) / R, per = (blocks + S - 1) / S;  // region r: blocks [r·per, (r + 1)·per)
  // region r's walker: from its block's start, the region's next block (read while the S regions' blocks take their turn)
  NextRows next[S];
  for (int r = 0; r < S; r++) next[r] = NextRows{b + (j0 + (long)r * per * R) * g.bCs, 0, g.k, g.bCs};
  for (int i = 0; i < per * S; i++) {
    const int blk = (i % S) * per + i / S;  // block i / S of region i % S
    if (blk >= blocks) continue;
    const int j = blk * R;
    next[i % S] = NextRows{b + (j0 + j + R) * g.bCs, 0, g.k, g.bCs};
    const int groups = (int)mins(NG, (cols - j + TB - 1) / TB);
    const bool full = j + R <= cols;
    for (long p0 = 0; p0 < g.k; p0 += KC) {
      const int kc = (int)mins(KC, g.k - p0);
      const bool add = p0 > 0;
      vt acc[NG] = {};
      const float* bj = b + (j0 + j) * g.bCs + p0;
      int p = 0;
      if (full) {
        for (; p + TB <= kc; p += TB) {
          vt tr[NG][TB];
#pragma GCC unroll 4
          for (int gi = 0; gi < NG; gi++) loadTransposedT(bj + gi * TB * g.bCs + p, g.bCs, tr[gi]);
          // the lines a step reads (8 lanes: 16 rows × 32 bytes, 8 lines), over the walkers; 4 lanes keep their 16, as tuned before
#pragma GCC unroll 2
          for (int r = 0; r < S; r++) next[r].step<TB == 8 ? NG * TB * TB / 16 / S : 16>();
#pragma GCC unroll 8
          for (int q = 0; q < TB; q++) {
            vt av = splatT(a[(p0 + p + q) * g.aCs]);
#pragma GCC unroll 4
            for (int gi = 0; gi < NG; gi++) acc[gi] += av * tr[gi][q];
          }
        }
      }
      gemvTransposedEnd<vt, TB, splatT>(g, a, p0, p, kc, bj, acc, groups, cols, j, c, add);
    }
  }
}
#endif

/**
 * GEMV on B stored [k, n] with contiguous rows (a Conv1D's [in, out] weight): acc[0, cols) = the sum over
 * one KC slice [p0, p0 + kc) for columns [j0, j0 + cols) (acc holds whole vectors: cols rounded up, plus
 * one). Each row's `cols` floats are read as one run, so a task reads its part of B in long runs rather
 * than a strip down k (64 columns: 256-byte runs 3-12 KB apart, which the hardware prefetcher barely
 * follows). The sums stay in acc (in L1), RB rows of B a pass (RB streams at once: 8 read faster than 4
 * or 16); each element's chain runs in p order (fused multiply-adds from 0, as the packed path).
 * Each vector's lines GEMV_PF_ROWS rows on are prefetched into L2 as it goes: eight streams a thread
 * outrun the hardware prefetcher (Zen 4, a GPT-2 decoding step's GEMVs on B against a plain sum of the
 * same weights, alternating, medians of 6 rounds: 2 threads AVX-512 0.91 → 0.95, AVX2 0.90 → 0.96;
 * 1 thread 0.79 → 0.87; 8 rows on, 24 and 32 read alike, into L1 or non-temporal slower).
 */
constexpr int GEMV_PF_ROWS = 16;
static void gemvRowsSlice(const GemmArgs& g, const float* a, const float* b, float* acc, long p0, int kc, long j0, int cols) {
  constexpr int RB = 8;
  const int full = cols / W, tail = cols % W;
  for (int v = 0; v <= full; v++) store(acc + v * W, vf{});
  int p = 0;
  for (; p + RB <= kc; p += RB) {
    vf x[RB];
    const float* r[RB];
    const bool ahead = p0 + p + GEMV_PF_ROWS + RB <= g.k;  // the rows GEMV_PF_ROWS on exist (the next slice's too)
#pragma GCC unroll 8
    for (int i = 0; i < RB; i++) {
      x[i] = splat(a[(p0 + p + i) * g.aCs]);
      r[i] = b + (p0 + p + i) * g.bRs + j0;
    }
    for (int v = 0; v < full; v++) {
      vf s = load(acc + v * W);
      if (ahead && (v * W) % 16 == 0) {  // one prefetch a 64-byte line
#pragma GCC unroll 8
        for (int i = 0; i < RB; i++) __builtin_prefetch(r[i] + GEMV_PF_ROWS * g.bRs + v * W, 0, 2);
      }
#pragma GCC unroll 8
      for (int i = 0; i < RB; i++) s += x[i] * load(r[i] + v * W);
      store(acc + v * W, s);
    }
    if (tail) {
      vf s = load(acc + full * W);
#pragma GCC unroll 8
      for (int i = 0; i < RB; i++) s += x[i] * loadPart(r[i] + full * W, tail);
      store(acc + full * W, s);
    }
  }
  for (; p < kc; p++) {
    const vf x = splat(a[(p0 + p) * g.aCs]);
    const float* r = b + (p0 + p) * g.bRs + j0;
    for (int v = 0; v < full; v++) store(acc + v * W, load(acc + v * W) + x * load(r + v * W));
    if (tail) store(acc + full * W, load(acc + full * W) + x * loadPart(r + full * W, tail));
  }
}

/** C = the first slice's sum, or C += a later one's (as the packed path adds its KC slices). */
static inline void addSlice(float* c, const float* acc, int cols, bool add) {
  if (!add) return (void)std::memcpy(c, acc, (size_t)cols * 4);
  const int full = cols / W;
  for (int v = 0; v < full; v++) store(c + v * W, load(c + v * W) + load(acc + v * W));
  for (int j = full * W; j < cols; j++) c[j] += acc[j];
}

/** GEMV on B [k, n] (contiguous rows), columns [j0, j0 + cols): slice by slice, the sums in a scratch row. */
static void gemvRows(const GemmArgs& g, const float* a, const float* b, float* c, long j0, int cols) {
  float* acc = scratch(0, (size_t)(cols / W + 1) * W);
  for (long p0 = 0; p0 < g.k; p0 += KC) {
    gemvRowsSlice(g, a, b, acc, p0, (int)mins(KC, g.k - p0), j0, cols);
    addSlice(c, acc, cols, p0 > 0);
  }
}

/**
 * A GEMV on B [k, n] cut over k (GemmPlan::kSplit): where B's rows are short (n ≤ KSPLIT_MAX_COLS: GPT-2's
 * mlp c_proj, 3072 × 768), halves of each row would put two threads' runs in every 4 KiB page, and
 * each thread reads whole rows of its KC slices instead: one contiguous stretch of B. Task t sums its
 * slices into their own rows of pl.partial; the task that finishes last adds the slices up in order,
 * as gemvRows does: the same result on any thread count.
 */
constexpr int KSPLIT_MAX_COLS = 1024;
static inline long partialStride(long n) { return (n / W + 1) * W; }
static void gemvSplitTask(const GemmPlan& pl, int task) {
  const GemmArgs& g = pl.g;
  const long slices = (g.k + KC - 1) / KC, stride = partialStride(g.n);
  for (long s = task * slices / pl.tasks; s < (task + 1) * slices / pl.tasks; s++)
    gemvRowsSlice(g, g.a, g.b, pl.partial + s * stride, s * KC, (int)mins(KC, g.k - s * KC), 0, g.n);
  // the release of each task's slices pairs with the acquire of the last one's decrement
  if (pl.left->fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  for (long s = 0; s < slices; s++) addSlice(g.c, pl.partial + s * stride, g.n, s > 0);
  if (g.bias) addBias(g.c, 0, 1, g.n, g.bias);
}

/**
 * One row of A times B (m = 1: a decoding step's projections), columns [j0, j0 + cols) of
 * matrix t, reading B where it lies. Every element sums its k products in the packed path's
 * order (fused multiply-adds from 0 over each KC slice, then C = or C += the slice's sum), so a
 * row's result is the same bit for bit whether it comes alone or in a batch.
 */
static void gemvColumns(const GemmArgs& g, int t, long j0, int cols);
static void gemvTask(const GemmArgs& g, int t, long j0, int cols) {
  gemvColumns(g, t, j0, cols);
  if (g.bias) addBias(g.c + t * g.cBatch + j0, 0, 1, cols, g.bias + j0);
}

/** gemvTask's product, without the bias. */
static void gemvColumns(const GemmArgs& g, int t, long j0, int cols) {
  const float* a = g.a + t * g.aBatch;
  const float* b = g.b + t * g.bBatch;
  float* c = g.c + t * g.cBatch + j0;
  if (g.k == 0) {
    for (int j = 0; j < cols; j++) c[j] = 0;
    return;
  }
  if (g.bRs == 1 && g.bCs != 1) return gemvTransposed(g, a, b, c, j0, cols);
  if (g.bCs == 1) return gemvRows(g, a, b, c, j0, cols);
  // any other strides: W columns a vector, lanes gathered one by one
  for (long p0 = 0; p0 < g.k; p0 += KC) {
    const int kc = (int)mins(KC, g.k - p0);
    const bool add = p0 > 0;
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

/** This core's L2 in bytes (read once; 256 KiB where the system does not say). */
static long l2Bytes() {
  static const long bytes = [] {
    long b = sysconf(_SC_LEVEL2_CACHE_SIZE);
    return b >= 64 * 1024 ? b : 256L * 1024;
  }();
  return bytes;
}

static GemmPlan gemmPlan(const GemmArgs& g) {
  GemmPlan pl;
  pl.g = g;
  pl.narrow = false;
  pl.gemv = g.m == 1;
  if (pl.gemv) {
    pl.mBlocks = 1;
    pl.mc = 1;
    const long slices = (g.k + KC - 1) / KC;
    if (g.bCs == 1 && g.batch == 1 && !g.busy && g.threads > 1 && g.n <= KSPLIT_MAX_COLS && slices >= 2 * g.threads) {
      // the slice sums and the count live with the planning thread: run a plan's tasks before planning the next
      static thread_local std::atomic<int> left;
      pl.kSplit = true;
      pl.tasks = g.threads;
      pl.nBlocks = 1;
      pl.nc = g.n;
      pl.partial = scratch(3, (size_t)(slices * partialStride(g.n)));
      left.store(pl.tasks, std::memory_order_relaxed);
      pl.left = &left;
      return pl;
    }
    // one run of whole columns a task, one task a thread (four when busy: nothing is packed again):
    // each thread's part of B is then long runs (Bᵀ: one contiguous block) in one order
    const long tasks = (long)(g.busy ? GEMV_TASKS_PER_THREAD_BUSY : 1) * maxs(1, g.threads);
    pl.nc = (int)maxs(GQ, ((g.n + tasks - 1) / tasks + GQ - 1) / GQ * GQ);
    pl.nBlocks = (g.n + pl.nc - 1) / pl.nc;
    pl.tasks = g.batch * pl.nBlocks;
    return pl;
  }
  pl.narrow = g.n <= W;
  const int mr = pl.narrow ? MRD : MR, nr = pl.narrow ? W : NR;
  // the A block (mc × KC) stays in half of L2 while the B micro-panels pass it from L1
#ifdef QKV_MC_MAX  // tuning builds try other A blocks (rows)
  const long mcMax = QKV_MC_MAX;
#else
  const long mcMax = maxs(mr, (l2Bytes() / 2 / (KC * 4)) / mr * mr);
#endif
  // a task's rows are not bounded by L2: it packs each KC slice of its B block once and runs its rows
  // in A blocks of at most mcMax, so the grid cuts rows only to make tasks (before, every L2-sized row
  // block was a task that packed B again: GEMM 1024 packed B five times on a 512 KiB L2)
  long mB = 1, nB = (g.n + NC - 1) / NC;
  const long mTiles = (g.m + mr - 1) / mr, nTiles = (g.n + nr - 1) / nr;
  // halve blocks until there are TASKS_PER_THREAD a thread, the longer side of a block first (the extra
  // packing that costs, of the other operand, is the smaller); halving keeps the count even, so two or
  // four threads finish together
  const long minTasks = pl.narrow ? MIN_NARROW_TASKS : (long)TASKS_PER_THREAD * maxs(1, g.threads);
  while ((long)g.batch * mB * nB < minTasks) {
    const bool canM = mB < mTiles, canN = nB < nTiles;
    if (!canM && !canN) break;
    if (canM && (!canN || g.m * nB >= g.n * mB)) mB = mins(2 * mB, mTiles);
    else nB = mins(2 * nB, nTiles);
  }
  // a count the threads cannot share evenly leaves one finishing alone: GPT-2's 512×2304 is 5 column
  // blocks (two threads: three blocks' time for 2.5; GEMM 512 had been 3 row blocks on a 512 KiB L2),
  // one more row block makes it 2×5. Up to 16 tasks a thread (past that the odd one costs under 3%).
  const long threads = maxs(1, g.threads);
  // the row blocks mB gives once rounded to whole tiles (fewer where tiles run out: 9 tiles in 4 -> 3)
  auto rowBlocks = [&](long b) { const long per = (mTiles + b - 1) / b; return (mTiles + per - 1) / per; };
  if (!pl.narrow)
    while (((long)g.batch * rowBlocks(mB) * nB) % threads != 0 && (long)g.batch * mB * nB < 16 * threads && mB < mTiles) mB++;
  const long mTilesPer = (mTiles + mB - 1) / mB, nTilesPer = (nTiles + nB - 1) / nB;
  pl.mc = (int)(mTilesPer * mr);
  pl.nc = (int)(nTilesPer * nr);
  // a task's rows in equal A blocks of whole tiles, each at most mcMax
  const long aBlocks = (pl.mc + mcMax - 1) / mcMax;
  pl.mcBlock = (int)(((mTilesPer + aBlocks - 1) / aBlocks) * mr);
  pl.mBlocks = (int)((g.m + pl.mc - 1) / pl.mc);
  pl.nBlocks = (int)((g.n + pl.nc - 1) / pl.nc);
  pl.tasks = g.batch * pl.mBlocks * pl.nBlocks;
  return pl;
}

/**
 * The narrow tile with A read in place: acc (R × W) = A rows [i0, i0 + rows) over kc (broadcast
 * straight from A, whatever its strides) · Bp (kc × W), then C = acc or C += acc. Rows past
 * `rows` repeat the last row (their sums are dropped), so nothing past A is read.
 */
template <int R, bool UNIT>
static inline void microDirect(int kc, const float* a, long aRs, long aCs, int rows, const float* __restrict Bp, float* __restrict C,
                               long ldc, bool add, int cols) {
  vf c[R];
#pragma GCC unroll 32
  for (int r = 0; r < R; r++) c[r] = vf{};
  long off[R];
#pragma GCC unroll 32
  for (int r = 0; r < R; r++) off[r] = (r < rows ? r : rows - 1) * (UNIT ? 1 : aRs);
  for (int p = 0; p < kc; p++) {
    const vf b = *(const vf*)(Bp + p * W);
    const float* ap = a + p * aCs;
#pragma GCC unroll 32
    for (int r = 0; r < R; r++) c[r] += splat(ap[off[r]]) * b;
  }
  if (rows == R && cols == W) {
#pragma GCC unroll 32
    for (int r = 0; r < R; r++) store(C + r * ldc, add ? load(C + r * ldc) + c[r] : c[r]);
    return;
  }
  for (int r = 0; r < rows; r++)
    for (int j = 0; j < cols; j++) C[r * ldc + j] = add ? C[r * ldc + j] + c[r][j] : c[r][j];
}

/** A task of a product of at most W columns: B packed per KC slice into one kc × W panel, A never packed. */
static void narrowTask(const GemmPlan& pl, int t, long i0, int mc, long j0, int nc) {
  const GemmArgs& g = pl.g;
  const float* a = g.a + t * g.aBatch;
  const float* b = g.b + t * g.bBatch;
  float* c = g.c + t * g.cBatch;
  float* Bp = scratch(0, (size_t)mins(KC, g.k) * W);
  for (long p0 = 0; p0 < g.k; p0 += KC) {
    const int kc = (int)mins(KC, g.k - p0);
    packB<W>(g, b, p0, kc, j0, nc, Bp);
    for (int i = 0; i < mc; i += MRD) {
      const float* ai = a + (i0 + i) * g.aRs + p0 * g.aCs;
      float* ci = c + (i0 + i) * g.ldc + j0;
      const int rows = (int)mins(MRD, mc - i);
      // A stored transposed (a LoRA factor's gradient, Xᵀ·g): a p's rows lie side by side
      if (g.aRs == 1) microDirect<MRD, true>(kc, ai, 1, g.aCs, rows, Bp, ci, g.ldc, p0 > 0, nc);
      else microDirect<MRD, false>(kc, ai, g.aRs, g.aCs, rows, Bp, ci, g.ldc, p0 > 0, nc);
      if (g.bias && p0 + kc == g.k) addBias(ci, g.ldc, rows, nc, g.bias + j0);
    }
  }
}

template <int R, int V>
static void blockTask(const GemmPlan& pl, int t, long i0, int mc, long j0, int nc) {
  constexpr int N = V * W;
  const GemmArgs& g = pl.g;
  const float* a = g.a + t * g.aBatch;
  const float* b = g.b + t * g.bBatch;
  float* c = g.c + t * g.cBatch;
  const int nPanels = (nc + N - 1) / N, mPanelsMax = (mins(mc, pl.mcBlock) + R - 1) / R;
  const int kcMax = (int)mins(KC, g.k);
  float* Bp = scratch(0, (size_t)kcMax * N * nPanels + (size_t)kcMax * R * mPanelsMax + A_SLACK);
  float* Ap = Bp + (size_t)kcMax * N * nPanels;
  for (long p0 = 0; p0 < g.k; p0 += KC) {
    const int kc = (int)mins(KC, g.k - p0);
    packB<N>(g, b, p0, kc, j0, nc, Bp);  // once per slice, for all of the task's rows
    for (int ib = 0; ib < mc; ib += pl.mcBlock) {
      const long ia = i0 + ib;  // this A block: rows [ia, ia + mb)
      const int mb = (int)mins(pl.mcBlock, mc - ib), mPanels = (mb + R - 1) / R;
      if (g.aRs == 1 && g.aCs >= BLOCK_PACK_MIN_STRIDE) packABlockT<R>(g, a, ia, mb, p0, kc, Ap);
      else for (int ip = 0; ip < mPanels; ip++) packA<R>(g, a, ia + ip * R, (int)mins(R, mb - ip * R), p0, kc, Ap + (size_t)ip * kc * R);
      const bool last = g.bias && p0 + kc == g.k;  // the sums are whole after this slice: add the bias tile by tile, in L1
      for (int jp = 0; jp < nPanels; jp++)
        for (int ip = 0; ip < mPanels; ip++) {
          float* ct = c + (ia + ip * R) * g.ldc + j0 + jp * N;
          const int rows = (int)mins(R, mb - ip * R), cols = (int)mins(N, nc - jp * N);
          micro<R, V>(kc, Ap + (size_t)ip * kc * R, Bp + (size_t)jp * kc * N, ct, g.ldc, p0 > 0, rows, cols);
          if (last) addBias(ct, g.ldc, rows, cols, g.bias + j0 + jp * N);
        }
    }
  }
}

static void gemmTask(const GemmPlan& pl, int task) {
  const GemmArgs& g = pl.g;
  if (pl.kSplit) return gemvSplitTask(pl, task);
  if (pl.gemv) {
    const long j0 = (long)(task % pl.nBlocks) * pl.nc;
    return gemvTask(g, task / pl.nBlocks, j0, (int)mins(pl.nc, g.n - j0));
  }
  const int t = task / (pl.mBlocks * pl.nBlocks);
  const int rest = task % (pl.mBlocks * pl.nBlocks);
  const long i0 = (long)(rest / pl.nBlocks) * pl.mc, j0 = (long)(rest % pl.nBlocks) * pl.nc;
  const int mc = (int)mins(pl.mc, g.m - i0), nc = (int)mins(pl.nc, g.n - j0);
  if (g.k == 0) {
    float* c = g.c + t * g.cBatch;
    for (int i = 0; i < mc; i++) for (int j = 0; j < nc; j++) c[(i0 + i) * g.ldc + j0 + j] = 0;
    if (g.bias) addBias(c + i0 * g.ldc + j0, g.ldc, mc, nc, g.bias + j0);
    return;
  }
  if (pl.narrow) narrowTask(pl, t, i0, mc, j0, nc);
  else blockTask<MR, NV>(pl, t, i0, mc, j0, nc);
}

// An empty asm that takes a vector in a register and may change it: the compiler must compute
// every round of the probe below, in registers
#if defined(__x86_64__)
#define QKV_KEEP(v) asm volatile("" : "+v"(v))
#elif defined(__aarch64__)
#define QKV_KEEP(v) asm volatile("" : "+w"(v))
#else
#define QKV_KEEP(v) asm volatile("" : "+m"(v))
#endif

/**
 * The FMA peak's probe (the bench's "fraction of peak"): 12 independent chains of vector
 * multiply-adds held in registers, more than FMA latency × FMA units on the cores we know
 * (4 × 2), so every unit stays busy; `iters` rounds. Returns the flops done (2 per lane and FMA).
 */
static double fmaPeak(long iters) {
  const vf x = splat(0.9999999f), y = splat(1e-7f);
  vf c0 = splat(1.0f), c1 = splat(1.1f), c2 = splat(1.2f), c3 = splat(1.3f), c4 = splat(1.4f), c5 = splat(1.5f);
  vf c6 = splat(1.6f), c7 = splat(1.7f), c8 = splat(1.8f), c9 = splat(1.9f), c10 = splat(2.0f), c11 = splat(2.1f);
#define QKV_ROUND(c) c = c * x + y; QKV_KEEP(c)
  for (long it = 0; it < iters; it++) {
    QKV_ROUND(c0); QKV_ROUND(c1); QKV_ROUND(c2); QKV_ROUND(c3); QKV_ROUND(c4); QKV_ROUND(c5);
    QKV_ROUND(c6); QKV_ROUND(c7); QKV_ROUND(c8); QKV_ROUND(c9); QKV_ROUND(c10); QKV_ROUND(c11);
  }
#undef QKV_ROUND
  volatile float sink = hsum(((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7)) + ((c8 + c9) + (c10 + c11)));
  (void)sink;
  return 2.0 * W * 12 * (double)iters;
}

}}  // namespace qkv::QKV_ISA
