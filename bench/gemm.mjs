// GEMM: C = A·B of square float32 matrices, GFLOP/s (2n³ / median time), qkv against TF.js wasm and PyTorch;
// then, on the native backend, the fraction of the FMA peak each size reaches, the same sizes on
// AVX2+FMA against PyTorch limited to AVX2 (where the CPU has AVX-512), and transformer shapes with
// transposed and skinny operands (GPT-2's MLP and its gradients, a LoRA factor, one decoding row).
import { readFileSync } from 'node:fs';
import { loadAddon } from '../dist/src/kernels/native/index.js';
import { CORES, fmtRatio, log, makeRow, nodePeer, q, timeIt, timeItAsync, torchInfo, torchPeer, torchRun, withBackend } from './lib.mjs';

export const title = 'GEMM (float32, n×n·n×n), GFLOP/s';
/** This section times the webgpu column too (to the end of the device's queue). */
export const webgpu = true;

/**
 * Transformer products beside the square ones: [key, label, m, n, k, transA, transB]; a transposed
 * operand is stored transposed (Bᵀ: a [n, k] weight, Aᵀ: [k, m] activations), as autograd hands it over.
 */
export const SHAPES = [
  ['nn', 'A·B 512×768·768×3072 (GPT-2 MLP forward)', 512, 3072, 768, false, false],
  ['nt', 'A·Bᵀ 512×3072·(768×3072)ᵀ (its dX = g·Wᵀ)', 512, 768, 3072, false, true],
  ['tn', 'Aᵀ·B (512×768)ᵀ·512×3072 (its dW = Xᵀ·g)', 768, 3072, 512, true, false],
  ['lora', 'A·B 512×768·768×8 (LoRA rank 8, narrow)', 512, 8, 768, false, false],
  ['loraGrad', 'Aᵀ·B (512×768)ᵀ·512×8 (LoRA factor gradient)', 768, 8, 512, true, false],
  ['gemv', 'A·B 1×768·768×3072 (one decoding row)', 1, 3072, 768, false, false],
  ['gemvT', 'A·Bᵀ 1×768·(3072×768)ᵀ (one row, Linear weight)', 1, 3072, 768, false, true],
];

const gflops = (flop, ms) => flop / (ms * 1e6);
/**
 * Timed runs of an n×n·n×n product, the same for qkv and PyTorch: `reps` at 1024 and as many more
 * at smaller sizes as keep ~the same total time (640 at 256, whose 0.13 ms product ten runs timed
 * against the clock's ramp and a thread's first wake-up: 107–213 GFLOP/s for PyTorch and 139–263
 * for qkv in runs minutes apart), with a tenth of that as warm-up.
 */
const squareReps = (n, reps) => Math.max(reps, Math.ceil(reps * (1024 / n) ** 3));
const squareWarmup = (n, reps) => Math.max(1, Math.ceil(squareReps(n, reps) / 10));
/** The PyTorch request's per-size protocol (bench/peers/torch_gpt.py gemm). */
const squareProtocol = (sizes, reps) => ({
  repsBySize: Object.fromEntries(sizes.map((n) => [n, squareReps(n, reps)])),
  warmupBySize: Object.fromEntries(sizes.map((n) => [n, squareWarmup(n, reps)])),
});
const fmt = (v) => (v < 1 ? v.toPrecision(2) : v.toFixed(1));
const addon = () => (q.nativeAvailable() ? loadAddon().addon : null);
/** PyTorch limited to an ISA: oneDNN/ATen's kernels and MKL's (env vars read at their load). */
const TORCH_ISA_ENV = { avx2: { ATEN_CPU_CAPABILITY: 'avx2', MKL_ENABLE_INSTRUCTIONS: 'AVX2' }, generic: { ATEN_CPU_CAPABILITY: 'default', MKL_ENABLE_INSTRUCTIONS: 'SSE4_2' } };
const torchOn = (isa, request) => torchRun('torch_gpt.py', ['gemm'], request, 600_000, TORCH_ISA_ENV[isa] ?? {});
const ISA_NAME = { avx512: 'AVX-512', avx2: 'AVX2+FMA', generic: 'generic (SSE2/NEON)' };

export async function run(ctx) {
  const sizes = [256, 512, 1024];
  const reps = ctx.quick ? 3 : 10;
  const maxMs = ctx.quick ? 1500 : 8000;
  const rows = sizes.map((n) => makeRow('gemm', `gemm.${n}`, `GEMM ${n}, GFLOP/s`));
  const cell = (n, ms) => { const v = gflops(2 * n ** 3, ms); return { value: v, ms, text: fmt(v) }; };

  for (const be of ctx.backends) {
    const res = await withBackend(be, async (backend) => {
      for (const [i, n] of sizes.entries()) {
        const a = q.randn([n, n]);
        const b = q.randn([n, n]);
        // a device's product is timed until its queue is done
        const protocol = { warmup: squareWarmup(n, reps), reps: squareReps(n, reps), maxMs };
        const { ms } = be.device
          ? await timeItAsync(async () => { q.matmul(a, b).dispose(); await backend.sync(); }, protocol)
          : timeIt(() => q.matmul(a, b).dispose(), protocol);
        a.dispose();
        b.dispose();
        rows[i].cells[be.id] = cell(n, ms);
        log(`gemm: ${be.label} n=${n}: ${rows[i].cells[be.id].text} GFLOP/s`);
      }
      if (be.id === 'native') peakCells(ctx, backend, rows, 'native');
    });
    if (res?.unavailable) for (const r of rows) r.cells[be.id] = { text: res.unavailable };
  }

  if (ctx.peers.tfjs) {
    const tf = nodePeer('tfjs-gemm.mjs', { sizes, reps, maxMs });
    ctx.noteTfjs(tf);
    sizes.forEach((n, i) => { rows[i].cells.tfjs = tf.error ? { text: `error: ${tf.error}` } : cell(n, tf.ms[n]); });
    log(`gemm: TF.js wasm ${tf.error ?? sizes.map((n) => gflops(2 * n ** 3, tf.ms[n]).toFixed(1)).join(', ')}`);
  }
  if (ctx.peers.jaxjs) {
    const jx = nodePeer('jaxjs-gemm.mjs', { sizes, reps, maxMs });
    sizes.forEach((n, i) => { rows[i].cells.jaxjs = jx.error ? { text: `error: ${jx.error}` } : cell(n, jx.ms[n]); });
    if (!jx.error) ctx.notes.push(`gemm: jax-js ${jx.jaxjs.version} on its ${jx.jaxjs.device} device in Node (a global navigator shimmed for Node 20), timed to dataSync() of the product`);
    log(`gemm: jax-js ${jx.error ?? sizes.map((n) => gflops(2 * n ** 3, jx.ms[n]).toFixed(1)).join(', ')}`);
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
  // PyTorch limited to the ISA native runs when QKV_NATIVE_ISA forced a lesser one (a like-for-like peer)
  const nativeIsa = addon()?.isa();
  const forced = addon()?.forcedIsa && nativeIsa !== addon()?.isas()[0] ? nativeIsa : null;
  if (ctx.peers.torch) {
    const request = { sizes, reps, ...squareProtocol(sizes, reps), maxMs, threads: ctx.cores };
    const t = forced ? torchOn(forced, request) : torchPeer('gemm', request);
    sizes.forEach((n, i) => { rows[i].cells.torch = t.error ? { text: `error: ${t.error}` } : cell(n, t.ms[n]); });
    if (forced && !t.error) ctx.notes.push(`gemm: QKV_NATIVE_ISA=${forced}: PyTorch ran with ${Object.entries(TORCH_ISA_ENV[forced] ?? {}).map(([k, v]) => `${k}=${v}`).join(' ')}`);
    log(`gemm: PyTorch ${t.error ?? sizes.map((n) => gflops(2 * n ** 3, t.ms[n]).toFixed(1)).join(', ')}`);
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
  // issue 23: native GEMM 256 ≥ PyTorch, GEMM 1024 ≥ 0.9× PyTorch (issue 15 asked 0.8×)
  gemmTargets(rows, sizes, nativeIsa ? ISA_NAME[nativeIsa] : '');
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

  // native only: the transformer shapes on the ISA it runs, then everything again on AVX2 where the CPU has AVX-512
  const native = ctx.backends.find((b) => b.id === 'native');
  if (!native || !addon()) return rows;
  const out = [...rows, ...(await shapeRows(ctx, native, nativeIsa, forced, { reps, maxMs }))];
  if (nativeIsa === 'avx512' && addon().isas().includes('avx2')) out.push(...(await isaRows(ctx, native, 'avx2', sizes, { reps, maxMs })));
  return out;
}

/** Appends "(x% of peak)" to the native cells: the GEMM's GFLOP/s over the FMA probe's on the same threads. */
function peakCells(ctx, backend, rows, id) {
  if (typeof backend.fmaPeak !== 'function') return null;
  // the best of three probes: a busy machine lowers some of them (and then every fraction here means little)
  const peak = Math.max(...[0, 1, 2].map(() => backend.fmaPeak(ctx.quick ? 30 : 150)));
  for (const r of rows) if (r.cells[id]?.value !== undefined) r.cells[id].text += ` (${((100 * r.cells[id].value) / peak).toFixed(0)}% of peak)`;
  const isa = backend.variant;
  const lanes = isa === 'avx512' ? 16 : isa === 'avx2' ? 8 : 4;
  const threads = backend.threads;
  const ghz = peak / (threads * 2 * lanes * 2);
  const mhz = cpuMhz();
  ctx.notes.push(`gemm: the FMA peak of native ${ISA_NAME[isa] ?? isa} on ${threads} threads, measured by register-only multiply-add chains (12 independent ` +
    `chains a thread, more than latency × units): ${peak.toFixed(1)} GFLOP/s = ${threads} cores × 2 FMA units × ${lanes} lanes × 2 flops × ${ghz.toFixed(2)} GHz ` +
    `(assuming 2 FMA units a core and one thread a core; the kernel reports ${mhz ? `${mhz} MHz` : 'no clock'})${threads > CORES ? '; more threads than cores' : ''}`);
  return peak;
}

function cpuMhz() {
  try {
    const m = /cpu MHz\s*:\s*([\d.]+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    return m ? Math.round(Number(m[1])) : null;
  } catch {
    return null;
  }
}

function gemmTargets(rows, sizes, isaLabel) {
  for (const [n, factor] of [[256, 1], [1024, 0.9]]) {
    const row = rows[sizes.indexOf(n)];
    const nat = row.cells.native?.value;
    const pt = row.cells.torch?.value;
    const t = { text: `native ≥ ${factor === 1 ? '' : `${factor}× `}PyTorch${isaLabel ? ` (${isaLabel})` : ''}`, verdict: 'n/a' };
    if (nat === undefined) t.why = 'no native number';
    else if (pt === undefined) t.why = 'no PyTorch number';
    else Object.assign(t, { verdict: nat >= factor * pt ? 'PASS' : 'FAIL', why: `native ${fmtRatio(nat / pt)} PyTorch` });
    row.target = t;
  }
}

/** An operand stored as given: a [rows, cols] matrix, or the transpose of a [cols, rows] one. */
const operand = (rows, cols, transposed) => (transposed ? q.transpose(q.randn([cols, rows])) : q.randn([rows, cols]));

/** SHAPES on the native backend (on `isa`), with PyTorch on the same ISA beside; each row's target: within 0.9× of A·B's GFLOP/s for the transposes. */
async function shapeRows(ctx, native, isa, torchIsa, { reps, maxMs }, suffix = '') {
  const rows = SHAPES.map(([key, label]) => makeRow('gemm', `gemm.${key}${suffix ? `.${isa}` : ''}`, `${label}${suffix}, GFLOP/s`));
  await withBackend(native, async () => {
    for (const [i, [, label, m, n, k, ta, tb]] of SHAPES.entries()) {
      const a = operand(m, k, ta);
      const b = operand(k, n, tb);
      const { ms } = timeIt(() => q.matmul(a, b).dispose(), { warmup: 2, reps: m === 1 ? reps * 10 : reps, maxMs });
      a.dispose();
      b.dispose();
      const v = gflops(2 * m * n * k, ms);
      rows[i].cells.native = { value: v, ms, text: fmt(v) };
      log(`gemm: native ${isa} ${label}: ${fmt(v)} GFLOP/s`);
    }
  });
  if (ctx.peers.torch) {
    const t = torchOn(torchIsa, { sizes: [], shapes: SHAPES.map(([key, , m, n, k, ta, tb]) => ({ key, m, n, k, ta, tb })), reps, maxMs, threads: ctx.cores });
    SHAPES.forEach(([key], i) => { rows[i].cells.torch = t.error ? { text: `error: ${t.error}` } : { value: gflops(2 * SHAPES[i][2] * SHAPES[i][3] * SHAPES[i][4], t.ms[key]), text: fmt(gflops(2 * SHAPES[i][2] * SHAPES[i][3] * SHAPES[i][4], t.ms[key])) }; });
  }
  const plain = rows[0].cells.native?.value;
  for (const i of [1, 2]) {
    const v = rows[i].cells.native?.value;
    rows[i].target = { text: 'transposed operand ≥ 0.9× A·B of the same size (23)', verdict: v === undefined || plain === undefined ? 'n/a' : v >= 0.9 * plain ? 'PASS' : 'FAIL', why: v === undefined ? 'no number' : `${fmtRatio(v / plain)} A·B` };
  }
  return rows;
}

/** The square sizes and SHAPES with native's kernels switched to `isa` and PyTorch limited to it. */
async function isaRows(ctx, native, isa, sizes, { reps, maxMs }) {
  const ad = addon();
  const before = ad.isa();
  const label = ISA_NAME[isa];
  const rows = sizes.map((n) => makeRow('gemm', `gemm.${n}.${isa}`, `GEMM ${n}, ${label}, GFLOP/s`));
  let extra = [];
  if (!ad.setIsa(isa)) return [];
  try {
    await withBackend(native, async (backend) => {
      for (const [i, n] of sizes.entries()) {
        const a = q.randn([n, n]);
        const b = q.randn([n, n]);
        const { ms } = timeIt(() => q.matmul(a, b).dispose(), { warmup: squareWarmup(n, reps), reps: squareReps(n, reps), maxMs });
        a.dispose();
        b.dispose();
        const v = gflops(2 * n ** 3, ms);
        rows[i].cells.native = { value: v, ms, text: fmt(v) };
        log(`gemm: native ${isa} n=${n}: ${fmt(v)} GFLOP/s`);
      }
      peakCells(ctx, backend, rows, 'native');
    });
    extra = await shapeRows(ctx, native, isa, isa, { reps, maxMs }, `, ${label}`);
  } finally {
    ad.setIsa(before);
  }
  if (ctx.peers.torch) {
    const t = torchOn(isa, { sizes, reps, ...squareProtocol(sizes, reps), maxMs, threads: ctx.cores });
    sizes.forEach((n, i) => { rows[i].cells.torch = t.error ? { text: `error: ${t.error}` } : { value: gflops(2 * n ** 3, t.ms[n]), text: fmt(gflops(2 * n ** 3, t.ms[n])) }; });
    ctx.notes.push(`gemm: the ${label} rows: native's kernel table forced to ${isa} (as QKV_NATIVE_ISA=${isa}), PyTorch with ${Object.entries(TORCH_ISA_ENV[isa]).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  }
  gemmTargets(rows, sizes, label);
  return [...rows, ...extra];
}
