// Why a GEMM inside a model step runs slower than the same GEMM alone: records every native gemm
// call of a Hugging Face bench row (BERT base forward by default) with its shape, layout (N, or T
// for an operand stored transposed) and its operands' offsets mod 64 bytes, and times each call
//   model:  where it runs, its operands as the step left them in the caches;
//   again:  right after it, the same call on the same memory (warm, nothing between);
//   replay: after the steps, the last step's calls in their order, nothing between;
//   alone:  each distinct shape on fresh operands, back to back (as scripts/gemm-bench.mjs, in Node);
//   coldA/B/C: alone, with that operand one of many copies in turn (600 MB: out of every cache).
// Also the pool's counters over the steps (busy windows, the caller's wait for the workers) and the
// process's transparent huge pages. GFLOP/s per shape, medians. Run under the bench lock:
//   node scripts/inmodel-gemm.mjs [--row bert.forward|bert.lora|gpt2.forward] [--steps N] [--dist DIR]
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : process.argv[i + 1];
};
const dist = arg('dist', new URL('../dist', import.meta.url).pathname);
const q = await import(`${dist}/src/index.js`);
const { loadAddon } = await import(`${dist}/src/kernels/native/index.js`);
const row = arg('row', 'bert.forward');
const steps = Number(arg('steps', 5));
const addon = loadAddon().addon;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ids = (B, T, V) => q.tensor(Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, t) => (t * 31 + b * 7) % V)), { dtype: 'int32' });

function make() {
  const [model, what] = row.split('.');
  if (model === 'gpt2') {
    const c = q.hf.gpt2ConfigFromJson({ n_embd: 768, n_layer: 12, n_head: 12, vocab_size: 50257, n_positions: 1024, resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0 });
    const m = new q.hf.GPT2LMHeadModel(c, new q.Generator(1));
    m.eval();
    const x = ids(1, 128, c.vocabSize);
    return () => q.noGrad(() => q.tidy(() => { m.forward(x); }));
  }
  const bc = q.hf.bertConfigFromJson({ hidden_size: 768, num_hidden_layers: 12, num_attention_heads: 12, intermediate_size: 3072, vocab_size: 30522, num_labels: 2, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 });
  const m = new q.hf.BertForSequenceClassification(bc, new q.Generator(2));
  const x = ids(4, 128, bc.vocabSize);
  if (what === 'forward') {
    m.eval();
    return () => q.noGrad(() => q.tidy(() => { m.forward({ inputIds: x }); }));
  }
  const labels = q.tensor([0, 1, 0, 1], { dtype: 'int32' });
  m.train();
  q.hf.addLora(m, { r: 8, alpha: 16, targets: ['query', 'value'] });
  const opt = new q.AdamW(q.hf.freezeForLora(m, ['classifier']), { lr: 1e-4 });
  return () => { q.tidy(() => m.forward({ inputIds: x, labels }).loss.backward()); opt.step(); opt.zeroGrad(); };
}

const run = make();
const gemm = addon.gemm;
const calls = []; // per step: [{ key, ms, again }]
let record = null;
addon.gemm = (...g) => {
  if (!record) return gemm(...g);
  const w0 = addon.poolStats().waitUs;
  let t = performance.now();
  gemm(...g);
  const ms = performance.now() - t;
  const w1 = addon.poolStats().waitUs;
  t = performance.now();
  gemm(...g);
  const again = performance.now() - t;
  const w2 = addon.poolStats().waitUs;
  const [a, aRs, aCs, , b, bRs, bCs, , c, , , batch, m, n, k] = g;
  const lay = `${aCs === 1 ? 'N' : 'T'}${bCs === 1 ? 'N' : 'T'}`;
  const key = `${batch > 1 ? `${batch}× ` : ''}${m}×${k}·${k}×${n} ${lay}`;
  record.push({ key, g, ms, again, wait: (w1 - w0) / 1000, waitAgain: (w2 - w1) / 1000, align: [a % 64, b % 64, c % 64] });
  return undefined;
};
run();
run();
const stats0 = addon.poolStats();
for (let s = 0; s < steps; s++) {
  record = [];
  const t = performance.now();
  run();
  record.total = performance.now() - t;
  calls.push(record);
  record = null;
}
const stats1 = addon.poolStats();

// the last step's calls again in their order, back to back (no other kernel between): per call
const last = calls[calls.length - 1];
const replays = [];
for (let s = 0; s < steps; s++) {
  replays.push(last.map((r) => {
    const t = performance.now();
    gemm(...r.g);
    return performance.now() - t;
  }));
}
for (const [i, r] of last.entries()) r.replay = median(replays.map((x) => x[i]));
// each distinct shape alone, on fresh (64-byte-aligned) operands of the same strides
const at = (t) => t.storage.data.byteOffset;
const shapes = new Map();
for (const r of calls[0]) {
  const s = shapes.get(r.key) ?? { r, n: 0 };
  s.n++;
  shapes.set(r.key, s);
}
const reps = 9;
console.log(`${row}, ${q.describeBackend()}; ${steps} steps; load ${(await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log(`pool during the steps: ${JSON.stringify(Object.fromEntries(Object.keys(stats1).map((k) => [k, +(stats1[k] - stats0[k]).toFixed(0)])))}`);
console.log(`step ${median(calls.map((c) => c.total)).toFixed(1)} ms, gemm in it ${median(calls.map((c) => c.reduce((s, r) => s + r.ms, 0))).toFixed(1)} ms, the same calls again ${median(calls.map((c) => c.reduce((s, r) => s + r.again, 0))).toFixed(1)} ms, replayed ${median(replays.map((x) => x.reduce((s, t) => s + t, 0))).toFixed(1)} ms; caller waiting for workers: in the model ${median(calls.map((c) => c.reduce((s, r) => s + r.wait, 0))).toFixed(1)} ms, again ${median(calls.map((c) => c.reduce((s, r) => s + r.waitAgain, 0))).toFixed(1)} ms`);
console.log('shape (m×k·k×n, layout)          calls  align(a,b,c)  ms: model   again    alone  GFLOP/s: model again alone replay coldA coldB coldC');
for (const [key, { r, n: count }] of shapes) {
  const [, aRs, aCs, aBatch, , bRs, bCs, bBatch, , ldc, cBatch, batch, m, n, k] = r.g;
  const A = q.randn([batch * m * k]);
  const B = q.randn([(bBatch ? batch : 1) * k * n]);
  const C = q.zeros([batch * m * n]);
  const g = [at(A), aRs, aCs, aBatch, at(B), bRs, bCs, bBatch, at(C), ldc, cBatch, batch, m, n, k];
  gemm(...g);
  const ts = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    gemm(...g);
    ts.push(performance.now() - t);
  }
  // the same with one operand cold: one of `copies` distinct ones in turn (600 MB together, more than L3)
  const coldOf = (slot, size) => {
    const copies = Math.min(400, Math.ceil(600e6 / (4 * size)));
    const xs = Array.from({ length: copies }, () => q.randn([size]));
    const ts = [];
    const h = [...g];
    for (let i = 0; i < copies; i++) {
      h[slot] = at(xs[i]);
      const t = performance.now();
      gemm(...h);
      ts.push(performance.now() - t);
    }
    for (const x of xs) x.dispose();
    return median(ts);
  };
  const tca = coldOf(0, batch * m * k);
  const tcb = coldOf(4, (bBatch ? batch : 1) * k * n);
  const tcc = coldOf(8, batch * m * n);
  for (const x of [A, B, C]) x.dispose();
  const mine = calls.flatMap((c) => c.filter((x) => x.key === key));
  const [tm, ta, tl] = [median(mine.map((x) => x.ms)), median(mine.map((x) => x.again)), median(ts)];
  const tr = median(last.filter((x) => x.key === key).map((x) => x.replay));
  const gf = (ms) => ((2 * batch * m * n * k) / ms / 1e6).toFixed(0).padStart(5);
  const aligns = [...new Set(mine.map((x) => x.align.join(',')))].join(' ');
  console.log(`${key.padEnd(34)} ${String(count).padStart(4)}  ${aligns.padEnd(12)} ${tm.toFixed(3).padStart(8)} ${ta.toFixed(3).padStart(8)} ${tl.toFixed(3).padStart(8)}   ${gf(tm)} ${gf(ta)} ${gf(tl)} ${gf(tr)} ${gf(tca)} ${gf(tcb)} ${gf(tcc)}`);
}
const huge = (await import('node:fs')).readFileSync('/proc/self/smaps_rollup', 'utf8').match(/AnonHugePages:\s+(\d+)/)?.[1];
console.log(`transparent huge pages in the process: ${(Number(huge) / 1024).toFixed(0)} MiB`);
