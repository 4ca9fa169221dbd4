// The bench's busy row (bench/busy.mjs) taken apart: the baby GPT training step beside a spinning
// process on 1 thread and on other pool variants, taking turns in one process (after the train
// section's 60 untimed steps; each round WARM warm-up steps, then REPS timed), with what the bench
// does not show: the CPU time other processes took meanwhile ("foreign", in cores: the machine's
// busy time less this process's and the spinning one's; rounds above 0.1 are left out of the
// "clean" medians, and each round first waits up to 20 s for the machine to calm), each round's
// ratio to the same round's first variant, the pool's counters per step (poolStats) and, with
// PROFILE=1, every kernel's time per step. HOG=0: no spinning process. Under the timing lock:
//   VARIANTS=1,2,2@serial,2@auto@20 flock /work/bench.lock node scripts/busy-probe.mjs [rounds]
// (a variant is threads[@QKV_POOL_BUSY[@QKV_POOL_WAKE_US]]; QKV_NATIVE_DIR picks another build)
import { readFileSync } from 'node:fs';
import { startHog } from '../bench/busy.mjs';
import { babyGptTrainer, GPT_SHAPE } from '../bench/train.mjs';
import { CORES, median, q, tokenIds } from '../bench/lib.mjs';
import { loadAddon } from '../dist/src/kernels/native/index.js';
import { bindThreads } from '../dist/src/kernels/native/addon.js';

const addon = loadAddon().addon;
const rounds = Number(process.argv[2] ?? 5);
const WARM = Number(process.env.WARM ?? 10), REPS = Number(process.env.REPS ?? 10);
const variants = (process.env.VARIANTS ?? `1,${CORES}`).split(','); // threads[@policy[@wakeUs]]
const c = GPT_SHAPE;
const ids = tokenIds(c.seed, 8 * c.batch * (c.blockSize + 1), c.vocabSize);
const HZ = 100;
const stealMs = () => Number(readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/)[8]) / HZ * 1000;
const statBusy = () => { const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number); return (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) / HZ * 1000; };
const pidCpu = (pid) => { const s = readFileSync(`/proc/${pid}/stat`, 'utf8'); const f = s.slice(s.lastIndexOf(')') + 2).split(' '); return (Number(f[11]) + Number(f[12])) / HZ * 1000; };
const hog = process.env.HOG === '0' ? null : await startHog();
for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => { hog?.kill('SIGKILL'); process.exit(1); });
let n = 0;
function use(v) {
  // a 1-thread pool first makes the next one new (the pool reads its variables when it starts)
  bindThreads(addon, 1);
  const [threads, policy, wake] = v.split('@');
  const set = (k, x) => { if (x) process.env[k] = x; else delete process.env[k]; };
  set('QKV_POOL_BUSY', policy); set('QKV_POOL_WAKE_US', wake);
  const b = q.createNativeBackendSync({ name: `native-probe-${n++}`, threads: Number(threads) });
  q.registerBackend(b); q.setBackend(b.name);
  return b;
}
function wrap(b, stats) {
  const saved = { ...b.kernels };
  for (const [name, f] of Object.entries(b.kernels)) b.kernels[name] = (...a) => { const t0 = performance.now(); try { return f(...a); } finally { const s = stats[name] ??= { ms: 0, calls: 0 }; s.ms += performance.now() - t0; s.calls++; } };
  return () => Object.assign(b.kernels, saved);
}
// process warm-up (V8), as the bench's train section does before its rounds
{ use(String(CORES)); const t = babyGptTrainer(ids, c); for (let i = 0; i < 60; i++) t.step(); t.dispose(); }
const out = Object.fromEntries(variants.map((v) => [v, []]));
const prof = Object.fromEntries(variants.map((v) => [v, {}]));
try {
  for (let r = 0; r < rounds; r++) {
    for (const v of r % 2 ? [...variants].reverse() : variants) {
      // wait (up to 20 s) for others' processes to leave the machine: 200 ms with under 10% of a core foreign
      for (let w = 0; w < 100; w++) {
        const a0 = statBusy(), s0 = process.cpuUsage(), h0 = hog ? pidCpu(hog.pid) : 0, t0 = performance.now();
        await new Promise((res) => setTimeout(res, 200));
        const u = process.cpuUsage(s0);
        if ((statBusy() - a0 - (u.user + u.system) / 1000 - (hog ? pidCpu(hog.pid) - h0 : 0)) / (performance.now() - t0) < 0.1) break;
      }
      const b = use(v);
      const t = babyGptTrainer(ids, c);
      for (let i = 0; i < WARM; i++) t.step();
      const stats = {};
      const unwrap = process.env.PROFILE ? wrap(b, stats) : () => {};
      const st0 = stealMs(), s0 = addon.poolStats(), m0 = statBusy(), self0 = process.cpuUsage(), h0 = hog ? pidCpu(hog.pid) : 0, w0 = performance.now();
      const runs = [];
      for (let i = 0; i < REPS; i++) { const t0 = performance.now(); t.step(); runs.push(performance.now() - t0); }
      const wall = performance.now() - w0, s1 = addon.poolStats(), self = process.cpuUsage(self0), hogMs = hog ? pidCpu(hog.pid) - h0 : 0;
      const selfMs = (self.user + self.system) / 1000;
      const foreign = Math.max(0, statBusy() - m0 - selfMs - hogMs) / wall;
      unwrap(); t.dispose();
      if (foreign < 0.1) for (const [k, s] of Object.entries(stats)) { const p = prof[v][k] ??= { ms: 0, calls: 0, n: 0 }; p.ms += s.ms / REPS; p.calls += s.calls / REPS; p.n++; }
      const pool = Object.fromEntries(Object.keys(s1).map((k) => [k, +((s1[k] - s0[k]) / REPS).toFixed(1)]));
      out[v].push({ ms: median(runs), foreign, selfCpu: selfMs / wall, hogCpu: hogMs / wall, pool });
      console.log(`r${r} ${v.padEnd(10)} ${median(runs).toFixed(1)} ms [${runs.map((x) => x.toFixed(0)).join(' ')}] cpu self ${(selfMs / wall).toFixed(2)} hog ${(hogMs / wall).toFixed(2)} foreign ${foreign.toFixed(2)} steal ${((stealMs() - st0) / wall).toFixed(2)} pool/step ${JSON.stringify(pool)}`);
    }
  }
} finally { hog?.kill('SIGKILL'); }
const clean = (xs) => xs.filter((x) => x.foreign < 0.1);
// each variant against the same round's first variant (1 thread), rounds where both were clean
for (const v of variants.slice(1)) {
  const ratios = out[v].map((x, r) => [x, out[variants[0]][r]]).filter(([a, b]) => a.foreign < 0.1 && b.foreign < 0.1).map(([a, b]) => a.ms / b.ms);
  console.log(`${v} / ${variants[0]}: median ratio ${ratios.length ? median(ratios).toFixed(3) : '-'} over ${ratios.length} clean rounds [${ratios.map((x) => x.toFixed(2)).join(' ')}]`);
}
for (const v of variants) {
  const all = out[v].map((x) => x.ms), cl = clean(out[v]).map((x) => x.ms);
  console.log(`${v}: median ${median(all).toFixed(1)} ms (${Math.min(...all).toFixed(1)}-${Math.max(...all).toFixed(1)}); clean rounds (foreign<0.1) ${cl.length}: median ${cl.length ? median(cl).toFixed(1) : '-'} [${cl.map((x) => x.toFixed(1)).join(' ')}]`);
}
if (process.env.PROFILE) {
  const names = [...new Set(variants.flatMap((v) => Object.keys(prof[v])))];
  const rows = names.map((k) => [k, ...variants.map((v) => prof[v][k] ? prof[v][k].ms / prof[v][k].n : 0), prof[variants[0]][k]?.calls / prof[variants[0]][k]?.n]).sort((a, b) => b[1] - a[1]);
  console.log(`kernel ms/step: ${variants.join(' | ')} | calls`);
  for (const r of rows) console.log(`  ${r[0].padEnd(22)} ${r.slice(1, -1).map((x) => x.toFixed(2).padStart(7)).join(' ')}  ${r.at(-1)?.toFixed(0)}`);
}
