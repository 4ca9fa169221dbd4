// bench/timing.mjs: one timing plan (warm-up, reps, the time cap) for synchronous and awaited runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';

type Timed = { ms: number; runs: number[] };
type Timing = {
  timeIt(fn: () => void, opts?: { warmup?: number; warmupMs?: number; reps?: number; maxMs?: number }): Timed;
  timeItAsync(fn: () => Promise<void>, opts?: { warmup?: number; warmupMs?: number; reps?: number; maxMs?: number }): Promise<Timed>;
};
const load = async (): Promise<Timing> => (await import(new URL('../../../bench/timing.mjs', import.meta.url).href)) as Timing;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const busy = (ms: number) => { const t = performance.now(); while (performance.now() - t < ms); };

test('warm-up runs are not timed; reps timed runs give their median', async () => {
  const { timeIt, timeItAsync } = await load();
  let calls = 0;
  const r = timeIt(() => { calls++; busy(calls <= 2 ? 30 : 1); }, { warmup: 2, reps: 3 });
  assert.equal(calls, 5);
  assert.equal(r.runs.length, 3);
  assert.ok(r.ms < 20, `warm-up runs leaked into the median: ${r.ms}`);
  calls = 0;
  const a = await timeItAsync(async () => { calls++; await sleep(calls === 1 ? 40 : 2); }, { warmup: 1, reps: 3 });
  assert.equal(calls, 4);
  assert.ok(a.ms < 30, `awaited warm-up leaked: ${a.ms}`);
});

test('the time cap stops after at least one timed run; a warm-up past the cap is the measurement', async () => {
  const { timeIt, timeItAsync } = await load();
  let calls = 0;
  const capped = await timeItAsync(async () => { calls++; await sleep(15); }, { warmup: 1, reps: 10, maxMs: 40 });
  assert.ok(capped.runs.length >= 1 && capped.runs.length <= 3, `${capped.runs.length} runs`);
  assert.equal(calls, capped.runs.length + 1);
  calls = 0;
  const slow = timeIt(() => { calls++; busy(25); }, { warmup: 1, reps: 5, maxMs: 20 });
  assert.equal(calls, 1);
  assert.equal(slow.runs.length, 1);
});

test('warmupMs: warm-up runs go on until they took that long (and at least `warmup` of them)', async () => {
  const { timeIt, timeItAsync } = await load();
  let calls = 0;
  // a call that is slow for its first 60 ms of runs (as a JIT warming up), then fast
  let spent = 0;
  const r = timeIt(() => { calls++; const ms = spent < 60 ? 6 : 1; busy(ms); spent += ms; }, { warmup: 2, warmupMs: 80, reps: 3 });
  assert.ok(calls >= 3 + 12, `${calls} calls: the warm-up stopped before 80 ms`);
  assert.ok(r.ms < 4, `slow warm-up runs were timed: ${r.ms}`);
  calls = 0;
  await timeItAsync(async () => { calls++; await sleep(1); }, { warmup: 5, warmupMs: 1, reps: 2 });
  assert.equal(calls, 7, 'at least `warmup` runs even when warmupMs is already reached');
});
