// Times causal linear attention (forward + gradient, bh=4, n=4096, dk=dv=64) and cross-entropy
// (forward + gradient, 768 rows × 65 classes), reference kernels vs the wasm kernels, called
// directly on arrays (plain ones for the reference, the module's memory for wasm). A few seconds;
// run after `npm run build`: node scripts/bench-wasm-kernels.mjs
import { crossEntropy, linearAttention, referenceBackend, registerBackend, setBackend, tensor, tidy } from '../dist/src/index.js';
import { createWasmBackendSync } from '../dist/src/kernels/wasm/node.js';

const ref = referenceBackend.kernels;
const wasm = createWasmBackendSync();
const w = wasm.kernels;
let seed = 1;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);

/** Best milliseconds per call of fn over `reps` after one warm-up. */
function time(fn, reps) {
  fn();
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

function relDiff(a, b) {
  let d = 0, s = 1;
  for (let i = 0; i < a.length; i++) { d = Math.max(d, Math.abs(a[i] - b[i])); s = Math.max(s, Math.abs(b[i])); }
  return d / s;
}

// plain arrays for the reference, heap arrays (re-read after every allocation) for wasm
function pair(lengths, fill) {
  const plain = lengths.map((n, i) => { const a = new Float32Array(n); if (fill[i]) for (let j = 0; j < n; j++) a[j] = fill[i](); return a; });
  const blocks = lengths.map((n) => wasm.allocator.allocate('float32', n));
  const heap = () => blocks.map((b) => b.view());
  heap().forEach((a, i) => a.set(plain[i]));
  return { plain, heap, free: () => blocks.forEach((b) => b.free()) };
}

{
  const [bh, n, dk, dv] = [4, 4096, 64, 64];
  const [nk, nv] = [bh * n * dk, bh * n * dv];
  const phi = () => 0.05 + 2 * rand();
  const sym = () => 2 * rand() - 1;
  const p = pair([nk, nk, nv, nv, bh * n, nv, nk, nk, nv], [phi, phi, sym, null, null, sym]);
  const step = (k, [q, kk, v, out, den, dOut, dq, dk_, dv_]) => {
    k.CausalLinearAttention(q, kk, v, bh, n, dk, dv, 1e-6, out, den);
    k.CausalLinearAttentionGrad(q, kk, v, out, den, dOut, bh, n, dk, dv, dq, dk_, dv_);
  };
  const tRef = time(() => step(ref, p.plain), 2);
  const tWasm = time(() => step(w, p.heap()), 5);
  const h = p.heap();
  const diffs = [3, 6, 7, 8].map((i) => relDiff(h[i], p.plain[i]).toExponential(1));
  console.log(`CausalLinearAttention fwd+bwd bh=${bh} n=${n} dk=${dk} dv=${dv}: reference ${tRef.toFixed(0)} ms, wasm ${tWasm.toFixed(1)} ms` +
    ` (${(tRef / tWasm).toFixed(1)}x); max rel. difference out/dq/dk/dv ${diffs.join(' ')}`);
  p.free();
}

{
  const [rows, classes] = [768, 65];
  const p = pair([rows * classes, rows, rows, rows, rows * classes], [() => 4 * rand() - 2, null, null, () => 1 / rows]);
  const tp = new Int32Array(rows).map(() => Math.floor(rand() * classes));
  tp[5] = -100;
  const tBlock = wasm.allocator.allocate('int32', rows);
  tBlock.view().set(tp);
  const step = (k, [x, loss, lse, dloss, dx], t) => {
    k.CrossEntropy(x, t, rows, classes, -100, 0.1, loss, lse);
    k.CrossEntropyGrad(x, t, lse, dloss, rows, classes, -100, 0.1, dx);
  };
  const tRef = time(() => step(ref, p.plain, tp), 50);
  const tWasm = time(() => step(w, p.heap(), tBlock.view()), 200);
  const h = p.heap();
  console.log(`CrossEntropy fwd+bwd rows=${rows} classes=${classes} (label smoothing 0.1, one ignored row): reference ${(tRef * 1000).toFixed(0)} µs, ` +
    `wasm ${(tWasm * 1000).toFixed(0)} µs (${(tRef / tWasm).toFixed(1)}x); max rel. difference loss/dlogits ` +
    `${relDiff(h[1], p.plain[1]).toExponential(1)} ${relDiff(h[4], p.plain[4]).toExponential(1)}`);
  p.free();
  tBlock.free();
}
// the same through the ops (crossEntropy, linearAttention with its elu+1 feature map), each
// backend's own memory, so what a user sees including the ops' copies and elementwise work
registerBackend(wasm);
function opTime(backend, make, reps) {
  setBackend(backend);
  try {
    return time(() => tidy(() => make().backward()), reps);
  } finally {
    setBackend('ref');
  }
}
{
  const [rows, classes] = [768, 65];
  const x = Float32Array.from({ length: rows * classes }, () => 4 * rand() - 2);
  const t = Int32Array.from({ length: rows }, () => Math.floor(rand() * classes));
  const make = () => {
    const logits = tensor(x, { shape: [rows, classes], requiresGrad: true });
    return crossEntropy(logits, tensor(t, { shape: [rows], dtype: 'int32' }), { labelSmoothing: 0.1 });
  };
  const [r, wv] = [opTime('ref', make, 50), opTime('wasm', make, 200)];
  console.log(`op crossEntropy fwd+bwd [${rows}, ${classes}]: reference ${(r * 1000).toFixed(0)} µs, wasm ${(wv * 1000).toFixed(0)} µs (${(r / wv).toFixed(1)}x)`);
}
{
  const [B, H, n, d] = [1, 4, 4096, 64];
  const data = [0, 1, 2].map(() => Float32Array.from({ length: B * H * n * d }, () => 2 * rand() - 1));
  const make = () => {
    const [q, k, v] = data.map((a) => tensor(a, { shape: [B, H, n, d], requiresGrad: true }));
    return linearAttention(q, k, v, { causal: true }).sum();
  };
  const [r, wv] = [opTime('ref', make, 2), opTime('wasm', make, 5)];
  console.log(`op linearAttention causal fwd+bwd (B=${B}, H=${H}, n=${n}, d=${d}, elu+1): reference ${r.toFixed(0)} ms, wasm ${wv.toFixed(1)} ms (${(r / wv).toFixed(1)}x)`);
}
console.log(`(wasm build: ${wasm.variant}; best of a few runs, one process, single-threaded)`);
