// The "busy machine" row of the train section (issue 23): the same baby GPT step on the native
// backend with a CPU-bound process beside it (one `node` spinning, as another job on a shared
// machine would), on 1 thread and on every core, taking turns. The native pool hands tasks out
// one at a time, so a descheduled worker should hold up at most one task: every core must
// never be slower than 1 thread.
import { spawn } from 'node:child_process';
import { CORES, fmtMs, log, makeRow, median, q, timeIt, withBackend } from './lib.mjs';

/** Starts a process that burns one core until killed, or until the bench dies without killing it (orphaned); resolves once it runs. */
export async function startHog() {
  const code = 'process.stdout.write("go\\n"); const p = process.ppid; for (let i = 1; ; i++) if (i % 1e8 === 0 && process.ppid !== p) process.exit();';
  const hog = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'ignore'] });
  await new Promise((resolve, reject) => {
    hog.once('error', reject);
    hog.stdout.once('data', resolve);
  });
  return hog;
}

/** One row: ms per step on every core, with 1 thread's beside it; the target: every core ≤ 1 thread. */
export async function busyRow(ctx, ids, c, stepper) {
  const row = makeRow('train', 'train.busy', `baby GPT ms/step, busy machine (a CPU-bound process beside it): ${CORES} threads vs 1`);
  row.target = { text: `native ${CORES} threads ≤ 1 thread's time`, verdict: 'n/a' };
  const native = ctx.backends.find((b) => b.id === 'native');
  if (!native) { row.target.why = 'native not measured (--backends)'; return row; }
  if (CORES < 2) { row.target.why = 'one core: nothing to compare'; return row; }
  const entry = (threads) => ({ ...native, label: `qkv native ${threads} threads`,
    make: () => (q.nativeAvailable() ? q.createNativeBackendSync({ name: `native-busy-${threads}`, threads }) : null) });
  const rounds = ctx.quick ? 1 : 3;
  const runs = { 1: [], [CORES]: [] };
  const hog = await startHog();
  try {
    for (let round = 0; round < rounds; round++) {
      for (const threads of [1, CORES]) {
        const res = await withBackend(entry(threads), () => {
          const t = stepper(ids, c);
          const { ms } = timeIt(t.step, { warmup: c.warmup, reps: c.reps, maxMs: c.maxMs });
          t.dispose();
          return { ms };
        });
        if (res?.unavailable) { row.cells.native = { text: res.unavailable }; row.target.why = res.unavailable; return row; }
        runs[threads].push(res.ms);
      }
    }
  } finally {
    hog.kill('SIGKILL');
  }
  const one = median(runs[1]);
  const all = median(runs[CORES]);
  row.cells.native = { value: all, ms: all, text: `${fmtMs(all)} (1 thread ${fmtMs(one)})` };
  Object.assign(row.target, { verdict: all <= one ? 'PASS' : 'FAIL', why: `${CORES} threads ${(all / one).toFixed(2)}× 1 thread's time` });
  if (rounds > 1) ctx.notes.push(`train (busy machine): 1 and ${CORES} threads take turns beside one spinning process, ${rounds} rounds; medians`);
  log(`train: busy machine: ${CORES} threads ${runs[CORES].map(fmtMs).join(', ')}; 1 thread ${runs[1].map(fmtMs).join(', ')}`);
  return row;
}
