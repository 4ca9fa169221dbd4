// PyTorch in its fastest setting on this machine, for every PyTorch peer of the bench.
//
// OMP_WAIT_POLICY decides how torch's OpenMP threads wait between parallel regions, and neither
// setting wins everywhere: with Debian's 1.13 + OpenBLAS, PASSIVE was the stable fast one (the baby
// GPT step swung 43–157 ms unset, 33–36 ms PASSIVE, 2026-11-23); with the 2.13 wheel (MKL) unset was
// faster on some rows and PASSIVE on others (BERT base forward 379–386 ms unset against 446–549
// PASSIVE; GPT-2's LoRA step 1459–1460 against 1263–1931, 2026-12-07). So unless the user set
// OMP_WAIT_POLICY, each peer runs once under each setting, one after the other, and every time is
// taken from the faster run: a peer is never handicapped by a setting we chose.

/** The settings each peer runs under: the user's own, or both ('unset' = the OpenMP runtime's default). */
export function torchPolicies(env = process.env) {
  return env.OMP_WAIT_POLICY !== undefined ? [env.OMP_WAIT_POLICY] : ['unset', 'PASSIVE'];
}

/** env with OMP_WAIT_POLICY set to policy ('unset' removes it). */
export function withPolicy(env, policy) {
  const out = { ...env };
  if (policy === 'unset') delete out.OMP_WAIT_POLICY;
  else out.OMP_WAIT_POLICY = policy;
  return out;
}

// A number is a time (lower wins) when its key, or a key above it, is `ms` or ends in `Ms` or `S`
// (seconds, e.g. wallS); a rate (higher wins) when its key ends in `PerS`. Anything else (a loss, a
// count, a version) is the first run's.
const isRate = (key) => /PerS$/.test(key);
const isTime = (key) => key === 'ms' || /Ms$/.test(key) || /[a-z]S$/.test(key);

/**
 * One result from peer runs of the same request under different settings: each time the lowest and
 * each rate the highest over the runs that did not fail, everything else from the first of them.
 * `policy` names, for each top-level key, which run's value won (all the same: one name).
 */
export function fasterOf(runs, names) {
  const ok = runs.map((r, i) => [r, names[i]]).filter(([r]) => r && !r.error);
  if (ok.length === 0) return runs[0];
  if (ok.length === 1) return { ...ok[0][0], policy: ok[0][1] };
  const won = new Set();
  const merge = (values, key, inTime) => {
    const v0 = values[0];
    if (typeof v0 === 'number') {
      const time = !isRate(key) && (inTime || isTime(key));
      if (!time && !isRate(key)) return v0;
      const nums = values.filter((v) => typeof v === 'number' && Number.isFinite(v));
      if (nums.length === 0) return v0;
      const best = time ? Math.min(...nums) : Math.max(...nums);
      won.add(ok[values.indexOf(best)][1]);
      return best;
    }
    if (v0 && typeof v0 === 'object' && !Array.isArray(v0)) {
      const out = {};
      for (const k of Object.keys(v0)) out[k] = merge(values.map((v) => v?.[k]), k, inTime || key === 'ms');
      return out;
    }
    return v0;
  };
  const out = merge(ok.map(([r]) => r), '', false);
  out.policy = [...won].join('+') || ok[0][1];
  return out;
}
