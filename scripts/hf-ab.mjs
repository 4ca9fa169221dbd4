// A/B of two qkv builds on the Hugging Face bench rows (bench/hf.mjs's shapes: GPT-2 small,
// BERT base, random weights), in one process and alternating: each timed run of build A is
// followed by one of build B, so both see the same machine; medians and the B/A ratio per row,
// and the median of the per-pair ratios (B run / the A run just before it).
// For a before/after on a shared machine, where runs minutes apart are not comparable. --ort adds
// ONNX Runtime (all cores, on build B's export of the same weights) to the alternation of the
// inference rows (GPT-2's forward and generation, BERT's forward), with B's time over ONNX Runtime's (the targets' peer). A then
// runs right after ONNX Runtime in each round, and read 10-30% slower on the forward row that way
// (here, 2 cores; not so without --ort, and a 100 ms pause after ONNX Runtime's run did not help):
// take A against B from a run without --ort.
//   node scripts/hf-ab.mjs A_DIST B_DIST [--rows gpt2.forward,gpt2.generate,gpt2.full,gpt2.lora,bert.forward,bert.full,bert.lora] [--reps N] [--quick] [--ort]
// (A_DIST, B_DIST: built dist/ directories, e.g. a checkout of main's and this one's.)
import { availableParallelism } from 'node:os';
import { greedyTokens, ortGreedyTokens } from '../bench/greedy.mjs';

const [distA, distB] = process.argv.slice(2, 4);
if (!distA || !distB || distA.startsWith('--')) {
  console.error('usage: node scripts/hf-ab.mjs A_DIST B_DIST [--rows ...] [--reps N] [--quick]');
  process.exit(2);
}
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : process.argv[i + 1];
};
const quick = process.argv.includes('--quick');
const withOrt = process.argv.includes('--ort');
const reps = Number(arg('reps', 5));
const rows = arg('rows', 'gpt2.forward,gpt2.generate,gpt2.full,gpt2.lora,bert.forward,bert.full,bert.lora').split(',');
const builds = [await import(`${distA}/src/index.js`), await import(`${distB}/src/index.js`)];
const S = quick
  ? { gpt2: { n_embd: 64, n_layer: 2, n_head: 2, vocab_size: 1000, n_positions: 128 }, bert: { hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 256, vocab_size: 1000 }, T: 32, B: 2, newTokens: 8 }
  : { gpt2: { n_embd: 768, n_layer: 12, n_head: 12, vocab_size: 50257, n_positions: 1024 }, bert: { hidden_size: 768, num_hidden_layers: 12, num_attention_heads: 12, intermediate_size: 3072, vocab_size: 30522 }, T: 128, B: 4, newTokens: 32 };
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const idRows = (B, T, V) => Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, t) => (t * 31 + b * 7) % V));

/** One row's run for build q: returns { run, dispose }. */
function make(q, row) {
  const ids = (B, T, V) => q.tensor(idRows(B, T, V), { dtype: 'int32' });
  const c = q.hf.gpt2ConfigFromJson({ ...S.gpt2, resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0 });
  const bc = q.hf.bertConfigFromJson({ ...S.bert, num_labels: 2, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 });
  const step = (m, params, loss) => {
    const opt = new q.AdamW(params, { lr: 1e-4 });
    return { run: () => { q.tidy(() => loss().backward()); opt.step(); opt.zeroGrad(); }, dispose: () => { opt.dispose?.(); m.dispose(); } };
  };
  const [model, what] = row.split('.');
  if (model === 'gpt2') {
    const m = new q.hf.GPT2LMHeadModel(c, new q.Generator(1));
    if (what === 'forward' || what === 'generate') {
      m.eval();
      const x = ids(1, S.T, c.vocabSize);
      const prompt = ids(1, 16, c.vocabSize);
      const run = what === 'forward' ? () => q.noGrad(() => q.tidy(() => { m.forward(x); })) : () => greedyTokens(q, m, prompt, S.newTokens);
      return { run, dispose: () => m.dispose() };
    }
    const [xb, yb] = [ids(S.B, S.T, c.vocabSize), ids(S.B, S.T, c.vocabSize)];
    m.train();
    if (what === 'full') return step(m, m.parameters(), () => m.forward(xb, { targets: yb }).loss);
    q.hf.addLora(m, { r: 8, alpha: 16, targets: ['c_attn'] });
    return step(m, q.hf.freezeForLora(m), () => m.forward(xb, { targets: yb }).loss);
  }
  const m = new q.hf.BertForSequenceClassification(bc, new q.Generator(2));
  const x = ids(S.B, S.T, bc.vocabSize);
  const labels = q.tensor(Array.from({ length: S.B }, (_, i) => i % 2), { dtype: 'int32' });
  if (what === 'forward') {
    m.eval();
    return { run: () => q.noGrad(() => q.tidy(() => { m.forward({ inputIds: x }); })), dispose: () => m.dispose() };
  }
  m.train();
  if (what === 'full') return step(m, m.parameters(), () => m.forward({ inputIds: x, labels }).loss);
  q.hf.addLora(m, { r: 8, alpha: 16, targets: ['query', 'value'] });
  return step(m, q.hf.freezeForLora(m, ['classifier']), () => m.forward({ inputIds: x, labels }).loss);
}

/** ONNX Runtime's run of an inference row (GPT-2's forward or generation, BERT's forward) on build q's export, or null for other rows. */
async function makeOrt(q, row) {
  if (!withOrt || !['gpt2.forward', 'gpt2.generate', 'bert.forward'].includes(row)) return null;
  const ort = await import('onnxruntime-node');
  const options = { intraOpNumThreads: availableParallelism(), graphOptimizationLevel: 'all' };
  if (row === 'bert.forward') {
    const bert = new q.hf.BertForSequenceClassification(q.hf.bertConfigFromJson({ ...S.bert, num_labels: 2, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 }), new q.Generator(2));
    const [b] = q.exportOnnx(bert);
    bert.dispose();
    const session = await ort.InferenceSession.create(b.bytes, options);
    const rows = idRows(S.B, S.T, S.bert.vocab_size);
    const i64 = (r) => new ort.Tensor('int64', BigInt64Array.from(r.flat().map(BigInt)), [S.B, S.T]);
    const feed = { input_ids: i64(rows), token_type_ids: i64(rows.map((r) => r.map(() => 0))), attention_mask: i64(rows.map((r) => r.map(() => 1))) }; // as bench/hf.mjs feeds it
    return { run: () => session.run(feed), dispose: () => session.release() };
  }
  const m = new q.hf.GPT2LMHeadModel(q.hf.gpt2ConfigFromJson({ ...S.gpt2, resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0 }), new q.Generator(1));
  const [forward, decoder] = q.exportOnnx(m);
  const c = m.config;
  m.dispose();
  const session = await ort.InferenceSession.create((row === 'gpt2.forward' ? forward : decoder).bytes, options);
  const i64 = (rows) => new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, rows[0].length]);
  const x = i64(idRows(1, S.T, c.vocabSize));
  const prompt = idRows(1, 16, c.vocabSize);
  const run = row === 'gpt2.forward' ? () => session.run({ input_ids: x }) : () => ortGreedyTokens(ort, session, c, prompt, S.newTokens);
  return { run, dispose: () => session.release() };
}

console.log(`A ${distA}\nB ${distB}\n${builds[0].describeBackend()}; ${reps} alternating runs per row after one warm-up each; load ${(await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' ')}`);
for (const row of rows) {
  const runners = builds.map((q) => make(q, row));
  const ortRunner = await makeOrt(builds[1], row);
  if (ortRunner) runners.push(ortRunner);
  for (const r of runners) await r.run();
  const times = runners.map(() => []);
  for (let i = 0; i < reps; i++) {
    for (const [j, r] of runners.entries()) {
      const t = performance.now();
      await r.run();
      times[j].push(performance.now() - t);
    }
  }
  runners.forEach((r) => r.dispose());
  const [a, b, o] = times.map(median);
  const paired = median(times[1].map((t, i) => t / times[0][i])); // each B run over the A run beside it: steadier than a ratio of medians when the load moves
  const unit = row === 'gpt2.generate' ? (ms) => `${(S.newTokens / ms * 1000).toFixed(1)} tok/s` : (ms) => `${ms.toFixed(1)} ms`;
  console.log(`${row.padEnd(14)} A ${unit(a).padStart(11)}  B ${unit(b).padStart(11)}  B/A time ${(b / a).toFixed(3)}, paired ${paired.toFixed(3)}  (A ${times[0].map((t) => t.toFixed(0)).join(' ')}; B ${times[1].map((t) => t.toFixed(0)).join(' ')})`);
  if (o !== undefined) {
    const pairedOrt = median(times[1].map((t, i) => t / times[2][i]));
    console.log(`${''.padEnd(14)} ONNX Runtime ${unit(o)}  B/ORT time ${(b / o).toFixed(3)}, paired ${pairedOrt.toFixed(3)}, A/ORT ${(a / o).toFixed(3)}  (ORT ${times[2].map((t) => t.toFixed(0)).join(' ')})`);
  }
}
console.log(`load ${(await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' ')}`);
