// Timing shared by the bench and its TF.js peers (which must not load qkv): medians of runs.

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * Runs fn `warmup` times untimed, then up to `reps` times timed; stops early (after at least one
 * timed run) once the timed runs took more than maxMs in all. A warm-up run that alone takes maxMs or
 * more is the one measurement (slow cases, e.g. the reference backend, run once more at most).
 * Returns the median and every run (ms).
 */
export function timeIt(fn, { warmup = 1, reps = 5, maxMs = Infinity } = {}) {
  for (let i = 0; i < warmup; i++) {
    const t = performance.now();
    fn();
    const ms = performance.now() - t;
    if (ms >= maxMs) return { ms, runs: [ms] };
  }
  const runs = [];
  let total = 0;
  while (runs.length < reps && (runs.length === 0 || total < maxMs)) {
    const t = performance.now();
    fn();
    const ms = performance.now() - t;
    runs.push(ms);
    total += ms;
  }
  return { ms: median(runs), runs };
}
