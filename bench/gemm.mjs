// GEMM: C = A·B of square float32 matrices, GFLOP/s (2n³ / median time), qkv against TF.js wasm and PyTorch.
import { fmtRatio, log, makeRow, nodePeer, q, timeIt, timeItAsync, torchInfo, torchPeer, withBackend } from './lib.mjs';

export const title = 'GEMM (float32, n×n·n×n), GFLOP/s';
/** This section times the webgpu column too (to the end of the device's queue). */
export const webgpu = true;

export async function run(ctx) {
  const sizes = [256, 512, 1024];
  const reps = ctx.quick ? 3 : 10;
  const maxMs = ctx.quick ? 1500 : 8000;
  const rows = sizes.map((n) => makeRow('gemm', `gemm.${n}`, `GEMM ${n}, GFLOP/s`));
  const gflops = (n, ms) => (2 * n ** 3) / (ms * 1e6);
  const cell = (n, ms) => ({ value: gflops(n, ms), ms, text: gflops(n, ms) < 1 ? gflops(n, ms).toPrecision(2) : gflops(n, ms).toFixed(1) });

  for (const be of ctx.backends) {
    const res = await withBackend(be, async (backend) => {
      for (const [i, n] of sizes.entries()) {
        const a = q.randn([n, n]);
        const b = q.randn([n, n]);
        // a device's product is timed until its queue is done
        const { ms } = be.device
          ? await timeItAsync(async () => { q.matmul(a, b).dispose(); await backend.sync(); }, { warmup: 1, reps, maxMs })
          : timeIt(() => q.matmul(a, b).dispose(), { warmup: 1, reps, maxMs });
        a.dispose();
        b.dispose();
        rows[i].cells[be.id] = cell(n, ms);
        log(`gemm: ${be.label} n=${n}: ${rows[i].cells[be.id].text} GFLOP/s`);
      }
    });
    if (res?.unavailable) for (const r of rows) r.cells[be.id] = { text: res.unavailable };
  }

  if (ctx.peers.tfjs) {
    const tf = nodePeer('tfjs-gemm.mjs', { sizes, reps, maxMs });
    ctx.noteTfjs(tf);
    sizes.forEach((n, i) => { rows[i].cells.tfjs = tf.error ? { text: `error: ${tf.error}` } : cell(n, tf.ms[n]); });
    log(`gemm: TF.js wasm ${tf.error ?? sizes.map((n) => gflops(n, tf.ms[n]).toFixed(1)).join(', ')}`);
  }
  if (ctx.peers.jaxjs) {
    const jx = nodePeer('jaxjs-gemm.mjs', { sizes, reps, maxMs });
    sizes.forEach((n, i) => { rows[i].cells.jaxjs = jx.error ? { text: `error: ${jx.error}` } : cell(n, jx.ms[n]); });
    if (!jx.error) ctx.notes.push(`gemm: jax-js ${jx.jaxjs.version} on its ${jx.jaxjs.device} device in Node (a global navigator shimmed for Node 20), timed to dataSync() of the product`);
    log(`gemm: jax-js ${jx.error ?? sizes.map((n) => gflops(n, jx.ms[n]).toFixed(1)).join(', ')}`);
  }
  // jax-js's WebGPU device runs in browsers: in Chromium, beside qkv's browser entry on webgpu in the
  // same page, on the same adapter (issue 21's target: qkv at least as fast there)
  if (ctx.peers.jaxjs && ctx.backends.some((b) => b.device)) {
    const jw = nodePeer('jaxjs-webgpu-gemm.mjs', { sizes, reps, maxMs });
    sizes.forEach((n) => {
      const row = makeRow('gemm', `gemm.webgpu.${n}`, `GEMM ${n} on WebGPU, qkv's browser entry and jax-js in one Chromium page, GFLOP/s`);
      if (jw.error) row.cells.webgpu = row.cells.jaxjsWebgpu = { text: `error: ${jw.error}` };
      else [row.cells.webgpu, row.cells.jaxjsWebgpu] = [cell(n, jw.qkvMs[n]), cell(n, jw.ms[n])];
      const [mine, theirs] = [row.cells.webgpu.value, row.cells.jaxjsWebgpu.value];
      row.target = mine === undefined || theirs === undefined ? { text: 'qkv webgpu ≥ jax-js WebGPU, same page (21)', verdict: 'n/a', why: 'no numbers' }
        : { text: 'qkv webgpu ≥ jax-js WebGPU, same page (21)', verdict: mine >= theirs ? 'PASS' : 'FAIL', why: `${fmtRatio(mine / theirs)} jax-js on ${jw.adapter}` };
      rows.push(row);
    });
    if (jw.error) ctx.notes.push(`gemm: jax-js WebGPU (Chromium): ${jw.error}`);
    else ctx.notes.push(`gemm on WebGPU in Chromium: jax-js ${jw.jaxjs.version} on its webgpu device and qkv's browser entry (dist/src/browser.js) on webgpu in one page of ${jw.jaxjs.browser} ` +
      `(--enable-unsafe-webgpu, adapter ${jw.adapter}), taking turns run by run, timed to blockUntilReady() and to qkv's queue's end`);
    log(`gemm: WebGPU in Chromium (${jw.error ?? jw.adapter}): ${jw.error ? '' : sizes.map((n) => `n=${n} qkv ${cell(n, jw.qkvMs[n]).text}, jax-js ${cell(n, jw.ms[n]).text}`).join('; ')}`);
  }
  if (ctx.peers.torch) {
    const t = torchPeer('gemm', { sizes, reps, maxMs, threads: ctx.cores });
    sizes.forEach((n, i) => { rows[i].cells.torch = t.error ? { text: `error: ${t.error}` } : cell(n, t.ms[n]); });
    log(`gemm: PyTorch ${t.error ?? sizes.map((n) => gflops(n, t.ms[n]).toFixed(1)).join(', ')}`);
  }

  // PyTorch's BLAS must be an optimised one for the comparison to mean anything: the library torch.mm
  // loaded, and its speed (a busy machine can slow any BLAS, so the library decides when they disagree)
  const r1024 = rows[sizes.indexOf(1024)];
  const torch1024 = r1024.cells.torch?.value;
  if (torch1024 !== undefined) {
    const info = torchInfo();
    if (!info.optimisedBlas) {
      r1024.cells.torch.text += ' (reference BLAS)';
      ctx.notes.push(`gemm: PyTorch runs ${info.blas}, not an optimised BLAS (GEMM 1024 at ${torch1024.toFixed(1)} GFLOP/s); Debian: apt-get install libopenblas0-pthread. Its numbers are not a fair peer`);
    } else {
      ctx.notes.push(`gemm: PyTorch's BLAS is ${info.blas} (optimised)${torch1024 < 50 ? `, though GEMM 1024 reached only ${torch1024.toFixed(1)} GFLOP/s (< 50) in this run: the machine was busy` : `, GEMM 1024 at ${torch1024.toFixed(1)} GFLOP/s (> 50)`}`);
    }
  }
  // issue 15: native GEMM 256 ≥ PyTorch, GEMM 1024 ≥ 0.8× PyTorch
  for (const [n, factor] of [[256, 1], [512, null], [1024, 0.8]]) {
    if (factor === null) continue;
    const row = rows[sizes.indexOf(n)];
    const nat = row.cells.native?.value;
    const pt = row.cells.torch?.value;
    const t = { text: `native ≥ ${factor === 1 ? '' : `${factor}× `}PyTorch`, verdict: 'n/a' };
    if (nat === undefined) t.why = 'no native number';
    else if (pt === undefined) t.why = 'no PyTorch number';
    else Object.assign(t, { verdict: nat >= factor * pt ? 'PASS' : 'FAIL', why: `native ${fmtRatio(nat / pt)} PyTorch` });
    row.target = t;
  }
  // issue 5: GEMM 1024 on all wasm threads at least 2× TF.js wasm (on the 512 row: the 1024 row holds the native target)
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
  rows[sizes.indexOf(512)].target = { text: 'GEMM 1024: wasm all threads ≥ 2× TF.js wasm', verdict, why };
  return rows;
}
