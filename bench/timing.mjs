// Timing shared by the bench and its TF.js peers (which must not load qkv): medians of runs.

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * The timing plan shared by timeIt and timeItAsync: `warmup` untimed runs (and more until they took
 * `warmupMs`, where given), then up to `reps` timed
 * ones; stops early (after at least one timed run) once the timed runs took more than maxMs in all.
 * A warm-up run that alone takes maxMs or more is the one measurement (slow cases, e.g. the
 * reference backend, run once more at most). A generator: it yields whether the next run is timed
 * and is sent each run's ms, so one plan serves a synchronous and an awaited run alike.
 */
function* plan({ warmup = 1, warmupMs = 0, reps = 5, maxMs = Infinity } = {}) {
  // at least `warmup` runs and, with warmupMs, until they took that long: a short call's steady
  // state (V8's optimised code for qkv's op layer) can take hundreds of calls to reach
  let warmed = 0;
  for (let i = 0; i < warmup || warmed < warmupMs; i++) {
    const ms = yield false;
    if (ms >= maxMs) return { ms, runs: [ms] };
    warmed += ms;
  }
  const runs = [];
  let total = 0;
  while (runs.length < reps && (runs.length === 0 || total < maxMs)) {
    const ms = yield true;
    runs.push(ms);
    total += ms;
  }
  return { ms: median(runs), runs };
}

/** Times fn by plan(opts); returns the median and every timed run (ms). */
export function timeIt(fn, opts) {
  const p = plan(opts);
  for (let step = p.next(); ; ) {
    if (step.done) return step.value;
    const t = performance.now();
    fn();
    step = p.next(performance.now() - t);
  }
}

/** timeIt for work a device queues: `fn` returns (a promise) once it has waited for the device. */
export async function timeItAsync(fn, opts) {
  const p = plan(opts);
  for (let step = p.next(); ; ) {
    if (step.done) return step.value;
    const t = performance.now();
    await fn();
    step = p.next(performance.now() - t);
  }
}
