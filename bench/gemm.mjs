// GEMM: C = A·B of square float32 matrices, GFLOP/s (2n³ / median time), qkv against TF.js wasm and PyTorch.
import { fmtRatio, log, makeRow, nodePeer, q, timeIt, torchPeer, withBackend } from './lib.mjs';

export const title = 'GEMM (float32, n×n·n×n), GFLOP/s';

export async function run(ctx) {
  const sizes = [256, 512, 1024];
  const reps = ctx.quick ? 3 : 10;
  const maxMs = ctx.quick ? 1500 : 8000;
  const rows = sizes.map((n) => makeRow('gemm', `gemm.${n}`, `GEMM ${n}, GFLOP/s`));
  const gflops = (n, ms) => (2 * n ** 3) / (ms * 1e6);
  const cell = (n, ms) => ({ value: gflops(n, ms), ms, text: gflops(n, ms).toFixed(1) });

  for (const be of ctx.backends) {
    const res = await withBackend(be, () => {
      sizes.forEach((n, i) => {
        const a = q.randn([n, n]);
        const b = q.randn([n, n]);
        const { ms } = timeIt(() => q.matmul(a, b).dispose(), { warmup: 1, reps, maxMs });
        a.dispose();
        b.dispose();
        rows[i].cells[be.id] = cell(n, ms);
        log(`gemm: ${be.label} n=${n}: ${rows[i].cells[be.id].text} GFLOP/s`);
      });
    });
    if (res?.unavailable) for (const r of rows) r.cells[be.id] = { text: res.unavailable };
  }

  if (ctx.peers.tfjs) {
    const tf = nodePeer('tfjs-gemm.mjs', { sizes, reps, maxMs });
    ctx.noteTfjs(tf);
    sizes.forEach((n, i) => { rows[i].cells.tfjs = tf.error ? { text: `error: ${tf.error}` } : cell(n, tf.ms[n]); });
    log(`gemm: TF.js wasm ${tf.error ?? sizes.map((n) => gflops(n, tf.ms[n]).toFixed(1)).join(', ')}`);
  }
  if (ctx.peers.torch) {
    const t = torchPeer('gemm', { sizes, reps, maxMs, threads: ctx.cores });
    sizes.forEach((n, i) => { rows[i].cells.torch = t.error ? { text: `error: ${t.error}` } : cell(n, t.ms[n]); });
    log(`gemm: PyTorch ${t.error ?? sizes.map((n) => gflops(n, t.ms[n]).toFixed(1)).join(', ')}`);
  }

  // target: GEMM 1024 on all threads at least 2× TF.js wasm
  const r = rows[sizes.indexOf(1024)];
  const all = r.cells.wasmAll?.value;
  const tf = r.cells.tfjs?.value;
  const one = r.cells.wasm1?.value;
  let verdict = 'n/a';
  let why;
  if (tf === undefined) why = 'no TF.js number';
  else if (all === undefined) why = `no all-threads number${one !== undefined ? `; 1 thread is ${fmtRatio(one / tf)} TF.js` : ''}`;
  else {
    verdict = all >= 2 * tf ? 'PASS' : 'FAIL';
    why = `${fmtRatio(all / tf)} TF.js`;
  }
  r.target = { text: 'wasm all threads ≥ 2× TF.js wasm', verdict, why };
  return rows;
}
