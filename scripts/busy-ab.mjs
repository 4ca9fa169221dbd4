// A/B of the native pool's busy-machine policies (QKV_POOL_BUSY=auto|forced|sleep|serial|off, read
// when a pool starts; POLICIES=auto@20 also sets QKV_POOL_WAKE_US=20) on the baby GPT training
// step, 1 thread beside each, taking turns in one process, with a CPU-bound process beside it
// (HOG=0: quiet). Run under the timing lock:
//   flock /work/bench.lock node scripts/busy-ab.mjs [rounds]
import { startHog } from '../bench/busy.mjs';
import { babyGptTrainer, GPT_SHAPE } from '../bench/train.mjs';
import { CORES, median, q, timeIt, tokenIds } from '../bench/lib.mjs';

const rounds = Number(process.argv[2] ?? 3);
const policies = (process.env.POLICIES ?? 'auto,off,sleep').split(',');
const c = GPT_SHAPE;
const ids = tokenIds(c.seed, 8 * c.batch * (c.blockSize + 1), c.vocabSize);
let hog = null;
if (process.env.HOG !== '0') {
  hog = await startHog();
  // a signal ends this script without its finally: take the hog along (else it exits once orphaned)
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.once(sig, () => { hog.kill('SIGKILL'); process.exit(1); });
}
const runs = Object.fromEntries([['1 thread', []], ...policies.map((p) => [p, []])]);
let n = 0;
function measure(threads, policy) {
  if (policy) {
    const [name, wakeUs] = policy.split('@');
    process.env.QKV_POOL_BUSY = name;
    if (wakeUs) process.env.QKV_POOL_WAKE_US = wakeUs;
    else delete process.env.QKV_POOL_WAKE_US;
  }
  const backend = q.createNativeBackendSync({ name: `native-ab-${n++}`, threads });
  q.registerBackend(backend);
  q.setBackend(backend.name);
  const t = babyGptTrainer(ids, c);
  const { ms } = timeIt(t.step, { warmup: 2, reps: 6 });
  t.dispose();
  return ms;
}
try {
  for (let r = 0; r < rounds; r++) {
    for (const p of policies) {
      runs['1 thread'].push(measure(1)); // a 1-thread pool in between makes the next one a new pool
      runs[p].push(measure(CORES, p));
    }
  }
} finally {
  hog?.kill('SIGKILL');
}
const one = median(runs['1 thread']);
console.log(`${hog ? 'busy (a spinning process beside)' : 'quiet'}, ${rounds} rounds, medians: 1 thread ${one.toFixed(1)} ms; ` +
  policies.map((p) => `${CORES} threads ${p} ${median(runs[p]).toFixed(1)} ms (${(median(runs[p]) / one).toFixed(2)}×)`).join('; '));
console.log(JSON.stringify(Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, v.map((x) => +x.toFixed(1))]))));
