// A/B of two native builds' pools (e.g. before and after a pool change), each round a fresh
// process per build, taking turns: the baby GPT training step on 1 and on every thread, the GPT
// forward (64 tokens) and the encoder forward of the inference section, with process CPU time
// per step and the pool's counters (poolStats: busy-detection windows, late wakes). HOG=1 starts
// a CPU-bound process beside them (the busy-machine row). Run under the timing lock:
//   BUILDS=before:/copy/of/dist/src/kernels/native,after: flock /work/bench.lock node scripts/pool-ab.mjs [rounds]
// (a build is name:QKV_NATIVE_DIR[@QKV_POOL_BUSY]; an empty dir is this tree's). ROWS=train1,train,forward,encoder picks rows.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);

if (process.argv[2] === '--child') {
  const { CORES, median, q, timeIt, tokenIds } = await import('../bench/lib.mjs');
  const { babyGptTrainer, GPT_SHAPE: c } = await import('../bench/train.mjs');
  const { models } = await import('../bench/inference.mjs');
  const { loadAddon } = await import('../dist/src/kernels/native/index.js');
  const addon = loadAddon().addon;
  const stats = () => addon.poolStats?.() ?? {};
  const out = {};
  /** ms (median) and process CPU ms per run of fn, and what the pool counted meanwhile. */
  const measure = (name, threads, make, opts) => {
    const backend = q.createNativeBackendSync({ name: `native-ab-${name}`, threads });
    q.registerBackend(backend);
    q.setBackend(backend.name);
    const { fn, dispose } = make();
    for (let i = 0; i < opts.warmup; i++) fn();
    const s0 = stats();
    const cpu0 = process.cpuUsage();
    const runs = [];
    for (let i = 0; i < opts.reps; i++) {
      const t = performance.now();
      fn();
      runs.push(performance.now() - t);
    }
    const cpu = process.cpuUsage(cpu0);
    const s1 = stats();
    dispose();
    out[name] = { ms: median(runs), cpuMs: (cpu.user + cpu.system) / 1000 / opts.reps,
      pool: Object.fromEntries(Object.keys(s1).map((k) => [k, s1[k] - (s0[k] ?? 0)])) };
  };
  const ids = tokenIds(c.seed, 8 * c.batch * (c.blockSize + 1), c.vocabSize);
  const trainer = () => { const t = babyGptTrainer(ids, c); return { fn: t.step, dispose: t.dispose }; };
  const rows = (process.env.ROWS ?? 'train1,train,forward,encoder').split(',');
  for (const row of rows) {
    if (row === 'train1') measure(row, 1, trainer, { warmup: 2, reps: 8 });
    if (row === 'train') measure(row, CORES, trainer, { warmup: 2, reps: 8 });
    if (row === 'forward' || row === 'encoder') {
      measure(row, CORES, () => {
        const { gpt, tagger } = models();
        const idx = q.tensor(Int32Array.from(tokenIds(3, 64, 65)), { shape: [1, 64] });
        const x = q.tensor(Float32Array.from(tokenIds(4, 8 * 256 * 256, 1000), (v) => v / 500 - 1), { shape: [8, 256, 256] });
        const pad = q.zeros([8, 256], { dtype: 'int32' });
        const fn = row === 'forward'
          ? () => q.noGrad(() => q.tidy(() => { gpt.forward(idx); }))
          : () => q.noGrad(() => q.tidy(() => { tagger.forward({ frames: x, keyPaddingMask: pad }); }));
        return { fn, dispose: () => { for (const t of [idx, x, pad]) t.dispose(); gpt.dispose?.(); tagger.dispose?.(); } };
      }, row === 'forward' ? { warmup: 3, reps: 40 } : { warmup: 1, reps: 8 });
    }
  }
  process.stdout.write(JSON.stringify(out));
} else {
  const rounds = Number(process.argv[2] ?? 3);
  const builds = (process.env.BUILDS ?? 'this:').split(',').map((b) => { const i = b.indexOf(':'); return [b.slice(0, i), b.slice(i + 1)]; });
  const { startHog } = await import('../bench/busy.mjs');
  let hog = null;
  if (process.env.HOG === '1') {
    hog = await startHog();
    // a signal ends this script without its finally: take the hog along (else it exits once orphaned)
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.once(sig, () => { hog.kill('SIGKILL'); process.exit(1); });
  }
  const results = Object.fromEntries(builds.map(([name]) => [name, []]));
  try {
    for (let r = 0; r < rounds; r++) {
      // alternate which build goes first
      for (const [name, dir] of r % 2 ? [...builds].reverse() : builds) {
        const env = { ...process.env };
        const [native, policy] = dir.split('@');
        if (native) env.QKV_NATIVE_DIR = native; else delete env.QKV_NATIVE_DIR;
        if (policy) env.QKV_POOL_BUSY = policy;
        const p = spawnSync(process.execPath, [self, '--child'], { env, encoding: 'utf8', maxBuffer: 1 << 24 });
        if (p.status !== 0) throw new Error(`${name}: ${p.stderr}`);
        if (p.stderr.trim()) console.log(p.stderr.trim());
        const res = JSON.parse(p.stdout);
        results[name].push(res);
        console.log(`round ${r + 1} ${name}: ${Object.entries(res).map(([k, v]) => `${k} ${v.ms.toFixed(2)} ms (cpu ${v.cpuMs.toFixed(1)}) ${JSON.stringify(v.pool)}`).join('; ')}`);
      }
    }
  } finally {
    hog?.kill('SIGKILL');
  }
  const med = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
  console.log(`${hog ? 'busy (a spinning process beside)' : 'quiet'}, ${rounds} rounds, medians:`);
  for (const [name] of builds) {
    const rows = Object.keys(results[name][0]);
    console.log(`  ${name}: ` + rows.map((row) => {
      const ms = med(results[name].map((x) => x[row].ms));
      const cpu = med(results[name].map((x) => x[row].cpuMs));
      const ratio = row === 'train' && rows.includes('train1') ? ` = ${(ms / med(results[name].map((x) => x.train1.ms))).toFixed(2)}× train1` : '';
      return `${row} ${ms.toFixed(2)} ms${ratio} (cpu ${cpu.toFixed(1)} ms)`;
    }).join('; '));
  }
}
