// What the stand-alone benches (gemm-bench.cc, gemv-bench.cc) share: the ISA they time (set by
// scripts/gemm-bench.mjs) and a millisecond clock.
#pragma once
#include <chrono>
#include "../src/kernels.h"
#include "../src/pool.h"

#ifndef QKV_BENCH_ISA
#define QKV_BENCH_ISA avx2
#endif

using namespace qkv;
using Clock = std::chrono::steady_clock;

static double msSince(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }
