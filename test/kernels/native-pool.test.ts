// The native pool's busy-machine path, forced (QKV_POOL_BUSY=forced: as on a busy machine, workers
// sleep after each job and the caller starts every job alone, waking them once the job has run
// QKV_POOL_WAKE_US with tasks left): jobs of varying lengths give the results of one thread,
// every task run exactly once, whether the workers are woken at once, late or never; and the
// policies the variable names. The pool reads both variables when it starts (a new thread count).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, test } from 'node:test';
import { Generator, nativeAvailable } from '../../src/index.js';
import type { MatMulArgs } from '../../src/kernels/contract.js';
import { loadAddon } from '../../src/kernels/native/index.js';
import { backend, rand } from './native-setup.js';

const skip = nativeAvailable() ? false : `the native addon is not available: ${loadAddon().reason}`;

/** Runs 240 jobs on `threads` threads: long and short scatter-adds and GEMMs of varying sizes; returns snapshots and the pool's counters. */
function jobs(threads: number) {
  const t = backend(threads);
  const g = new Generator(21);
  const [big, small, out, a, b, c] = t.place(rand(300 * 2560, g), rand(30 * 192, g), new Float32Array(3 * 2560), rand(160 * 96, g), rand(96 * 130, g), new Float32Array(160 * 130));
  const bigIds = t.placeInt(Int32Array.from({ length: 300 }, (_, i) => (i * 7) % 3));
  const smallIds = t.placeInt(Int32Array.from({ length: 30 }, (_, i) => (i * 5) % 3));
  const snapshots: Float32Array[] = [];
  for (let i = 0; i < 240; i++) {
    // scatter-add adds into `out`: a task run twice, or skipped, changes it for good
    if (i % 3 === 0) t.kernels.ScatterAdd(big!, 2560, bigIds, out!); // 40 strips of 300 rows: long enough to wake the workers
    else if (i % 3 === 1) t.kernels.ScatterAdd(small!, 192, smallIds, out!); // 3 strips of 30 rows: done before any wake-up
    else {
      const m = 20 + ((i * 37) % 140);
      const mm: MatMulArgs = { a: a!, aOffset: 0, aBatchStride: 0, transA: false, b: b!, bOffset: 0, bBatchStride: 0, transB: false, out: c!, batch: 1, m, n: 130, k: 96 };
      t.kernels.MatMul(mm);
      if (i % 30 === 29) snapshots.push(c!.slice());
    }
    if (i % 60 === 59) snapshots.push(out!.slice());
  }
  assert.ok((t.calls.get('scatterAdd') ?? 0) >= 160 && (t.calls.get('gemm') ?? 0) >= 80, 'every job ran in C++');
  return { snapshots, stats: t.addon.poolStats() };
}

/** Runs fn with the pool's variables set (restored after). */
function withEnv<T>(vars: Record<string, string>, fn: () => T): T {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe('native pool on a busy machine', { skip }, () => {
  test('forced busy: on 2 and 3 threads, workers woken at once, after 50 µs or never, every job gives 1 thread\'s result exactly', () => {
    const want = withEnv({ QKV_POOL_BUSY: 'off' }, () => jobs(1).snapshots);
    for (const wakeUs of ['0', '50', '1000000000']) {
      for (const threads of [2, 3]) {
        // a one-thread pool between makes the next one new: it reads the variables again
        withEnv({ QKV_POOL_BUSY: 'off' }, () => jobs(1));
        const { snapshots, stats } = withEnv({ QKV_POOL_BUSY: 'forced', QKV_POOL_WAKE_US: wakeUs }, () => jobs(threads));
        const at = `${threads} threads, wake after ${wakeUs} µs`;
        assert.deepEqual(snapshots, want, at);
        assert.equal(stats.busyJobs, stats.jobs, `${at}: forced busy counts every job busy`);
        assert.equal(stats.windows, 0, `${at}: forced busy never looks at the machine`);
        if (wakeUs === '1000000000') assert.equal(stats.lateWakes, 0, `${at}: never woken`);
        // at once: after the caller's first task (a worker still awake from the last job may have joined unasked)
        else if (wakeUs === '0') assert.ok(stats.lateWakes > stats.jobs / 2, `${at}: ${JSON.stringify(stats)}`);
        // the long scatter-adds and the larger GEMMs wake them; the short scatter-adds never do
        else assert.ok(stats.lateWakes > 0 && stats.lateWakes < stats.jobs, `${at}: ${JSON.stringify(stats)}`);
      }
    }
  });

  test('QKV_POOL_BUSY=off never looks at the machine; the default (auto) does', () => {
    for (const policy of ['off', 'auto']) {
      withEnv({ QKV_POOL_BUSY: 'off' }, () => jobs(1));
      // the jobs, repeated on one pool (its counters add up), take over three 25 ms windows
      const { stats } = withEnv({ QKV_POOL_BUSY: policy }, () => {
        const t0 = performance.now();
        for (;;) {
          const run = jobs(2);
          if (performance.now() - t0 > 80) return run;
        }
      });
      assert.ok(stats.jobs > 0);
      if (policy === 'off') assert.ok(stats.windows === 0 && stats.busyJobs === 0 && stats.lateWakes === 0, JSON.stringify(stats));
      // (auto reads the machine's idle time from Linux's /proc/uptime; elsewhere it never looks)
      else if (existsSync('/proc/uptime')) assert.ok(stats.windows > 0, JSON.stringify(stats));
    }
  });
});
