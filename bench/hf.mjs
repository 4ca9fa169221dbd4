// `npm run bench -- --only hf`: Hugging Face shapes on random weights (nothing downloaded), GPT-2
// small (124M) and BERT base: forward latency, greedy generation on the KV cache (tokens/s), one
// AdamW fine-tuning step full and LoRA r=8, for qkv (native and wasm on all threads: the reference
// backend and wasm on one thread would take minutes a step at these sizes), PyTorch + transformers +
// peft from QKV_BENCH_PYTHON (default python3: bench/peers/torch_hf.py) and ONNX Runtime on
// qkv's own ONNX export of the same weights (forward; generation on the KV-cache decoder graph), in the same run.
// --quick runs toy sizes: a check that everything runs, not a measurement.
import { greedyTokens, ortGreedyTokens } from './greedy.mjs';
import { bestQkv, fmtMs, fmtRatio, log, makeRow, median, PYTHON, q, torchRun, withBackend } from './lib.mjs';

export const title = 'Hugging Face shapes on random weights (GPT-2 small, BERT base): qkv vs PyTorch + transformers and ONNX Runtime';

let S;
let request;
const sizes = (quick) => (quick
  ? { gpt2: { n_embd: 64, n_layer: 2, n_head: 2, vocab_size: 1000, n_positions: 128 }, bert: { hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 256, vocab_size: 1000 }, T: 32, B: 2, newTokens: 8, reps: 2 }
  : { gpt2: { n_embd: 768, n_layer: 12, n_head: 12, vocab_size: 50257, n_positions: 1024 }, bert: { hidden_size: 768, num_hidden_layers: 12, num_attention_heads: 12, intermediate_size: 3072, vocab_size: 30522 }, T: 128, B: 4, newTokens: 32, reps: 5 });

function time(fn, reps = S.reps) {
  fn(); // warm-up
  const runs = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    fn();
    runs.push(performance.now() - t);
  }
  return median(runs);
}

const idRows = (B, T, V) => Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, t) => (t * 31 + b * 7) % V));
const ids = (B, T, V) => q.tensor(idRows(B, T, V), { dtype: 'int32' });

function stepTimer(model, params, loss) {
  const opt = new q.AdamW(params, { lr: 1e-4 });
  const ms = time(() => {
    q.tidy(() => loss().backward());
    opt.step();
    opt.zeroGrad();
  });
  opt.dispose();
  return ms;
}

function qkvGpt2() {
  const c = q.hf.gpt2ConfigFromJson({ ...S.gpt2, resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0 });
  const out = {};
  let m = new q.hf.GPT2LMHeadModel(c, new q.Generator(1));
  m.eval();
  const x = ids(1, S.T, c.vocabSize);
  out.forwardMs = time(() => q.noGrad(() => q.tidy(() => { m.forward(x); })));
  const prompt = ids(1, 16, c.vocabSize);
  const genMs = time(() => greedyTokens(q, m, prompt, S.newTokens)); // S.reps runs, as ONNX Runtime's generation (2 left it the mean of two noisy runs)
  out.generateTokensPerS = (S.newTokens / genMs) * 1000;
  const xb = ids(S.B, S.T, c.vocabSize);
  const yb = ids(S.B, S.T, c.vocabSize);
  m.train();
  out.fullStepMs = stepTimer(m, m.parameters(), () => m.forward(xb, { targets: yb }).loss);
  m.dispose();
  m = new q.hf.GPT2LMHeadModel(c, new q.Generator(1));
  m.train();
  q.hf.addLora(m, { r: request.lora, alpha: 2 * request.lora, targets: ['c_attn'] });
  out.loraStepMs = stepTimer(m, q.hf.freezeForLora(m), () => m.forward(xb, { targets: yb }).loss);
  m.dispose();
  return out;
}

function qkvBert() {
  const c = q.hf.bertConfigFromJson({ ...S.bert, num_labels: 2, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 });
  const out = {};
  let m = new q.hf.BertForSequenceClassification(c, new q.Generator(2));
  m.eval();
  const x = ids(S.B, S.T, c.vocabSize);
  const labels = q.tensor(Array.from({ length: S.B }, (_, i) => i % 2), { dtype: 'int32' });
  out.forwardMs = time(() => q.noGrad(() => q.tidy(() => { m.forward({ inputIds: x }); })));
  m.train();
  out.fullStepMs = stepTimer(m, m.parameters(), () => m.forward({ inputIds: x, labels }).loss);
  m.dispose();
  m = new q.hf.BertForSequenceClassification(c, new q.Generator(2));
  m.train();
  q.hf.addLora(m, { r: request.lora, alpha: 2 * request.lora, targets: ['query', 'value'] });
  out.loraStepMs = stepTimer(m, q.hf.freezeForLora(m, ['classifier']), () => m.forward({ inputIds: x, labels }).loss);
  m.dispose();
  return out;
}

const gpt2Config = () => q.hf.gpt2ConfigFromJson({ ...S.gpt2, resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0 });
const bertConfig = () => q.hf.bertConfigFromJson({ ...S.bert, num_labels: 2, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 });

/** ONNX Runtime on qkv's export of the same random weights: GPT-2's and BERT's forward, GPT-2's greedy generation on its decoder graph. */
async function ortTimes(ctx) {
  let ort;
  try {
    ort = await import('onnxruntime-node');
  } catch (e) {
    return { unavailable: `onnxruntime-node cannot be loaded (${e.message.split('\n')[0]})` };
  }
  const opts = { intraOpNumThreads: ctx.cores, graphOptimizationLevel: 'all' };
  const i64 = (rows) => new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, rows[0].length]);
  const timeAsync = async (fn) => {
    await fn();
    const runs = [];
    for (let i = 0; i < S.reps; i++) {
      const t = performance.now();
      await fn();
      runs.push(performance.now() - t);
    }
    return median(runs);
  };
  const gpt2 = new q.hf.GPT2LMHeadModel(gpt2Config(), new q.Generator(1));
  const [g, d] = q.exportOnnx(gpt2);
  const c = gpt2.config;
  gpt2.dispose();
  let session = await ort.InferenceSession.create(g.bytes, opts);
  const x = i64(idRows(1, S.T, S.gpt2.vocab_size));
  const gpt2Forward = await timeAsync(() => session.run({ input_ids: x }));
  await session.release();
  // greedy generation on the decoder graph: the 16-token prompt, then one token at a time, the present fed back as the past
  session = await ort.InferenceSession.create(d.bytes, opts);
  const prompt = idRows(1, 16, S.gpt2.vocab_size);
  const generate = () => ortGreedyTokens(ort, session, c, prompt, S.newTokens);
  const gpt2GenerateMs = await timeAsync(generate);
  await session.release();
  const bert = new q.hf.BertForSequenceClassification(bertConfig(), new q.Generator(2));
  const [b] = q.exportOnnx(bert);
  bert.dispose();
  session = await ort.InferenceSession.create(b.bytes, opts);
  const rows = idRows(S.B, S.T, S.bert.vocab_size);
  const feed = { input_ids: i64(rows), token_type_ids: i64(rows.map((r) => r.map(() => 0))), attention_mask: i64(rows.map((r) => r.map(() => 1))) };
  const bertForward = await timeAsync(() => session.run(feed));
  await session.release();
  return { gpt2Forward, gpt2TokensPerS: (S.newTokens / gpt2GenerateMs) * 1000, bertForward, version: ort.env.versions?.node ?? '' };
}

export async function run(ctx) {
  S = sizes(ctx.quick);
  request = { ...S, lora: 8 };
  const name = ctx.quick ? 'toy GPT-2' : 'GPT-2 small (124M)';
  const bname = ctx.quick ? 'toy BERT' : 'BERT base';
  const rows = {
    gpt2Forward: makeRow('hf', 'gpt2.forward', `${name} forward, 1 × ${S.T} tokens, ms`),
    gpt2Generate: makeRow('hf', 'gpt2.generate', `${name} greedy generation, ${S.newTokens} tokens after 16 (KV cache), tokens/s`),
    gpt2Full: makeRow('hf', 'gpt2.step.full', `${name} AdamW step, full, ${S.B} × ${S.T}, ms`),
    gpt2Lora: makeRow('hf', 'gpt2.step.lora', `${name} AdamW step, LoRA r=8 on c_attn, ${S.B} × ${S.T}, ms`),
    bertForward: makeRow('hf', 'bert.forward', `${bname} sequence classification forward, ${S.B} × ${S.T}, ms`),
    bertFull: makeRow('hf', 'bert.step.full', `${bname} AdamW step, full, ${S.B} × ${S.T}, ms`),
    bertLora: makeRow('hf', 'bert.step.lora', `${bname} AdamW step, LoRA r=8 on query,value (+ classifier), ${S.B} × ${S.T}, ms`),
  };
  const ms = (v) => ({ value: v, ms: v, text: fmtMs(v) });
  const perS = (v) => ({ value: 1000 / v, ms: 1000 / v, text: `${v.toFixed(1)} tok/s` }); // ms per token, so that lower is better as elsewhere
  const fill = (id, r) => {
    rows.gpt2Forward.cells[id] = ms(r.gpt2.forwardMs);
    rows.gpt2Generate.cells[id] = perS(r.gpt2.generateTokensPerS);
    rows.gpt2Full.cells[id] = ms(r.gpt2.fullStepMs);
    rows.gpt2Lora.cells[id] = r.gpt2.loraStepMs == null ? { text: 'no peft' } : ms(r.gpt2.loraStepMs);
    rows.bertForward.cells[id] = ms(r.bert.forwardMs);
    rows.bertFull.cells[id] = ms(r.bert.fullStepMs);
    rows.bertLora.cells[id] = r.bert.loraStepMs == null ? { text: 'no peft' } : ms(r.bert.loraStepMs);
  };
  const slow = ctx.quick ? [] : ['ref', 'wasm1'];
  for (const be of ctx.backends) {
    if (slow.includes(be.id)) {
      for (const r of Object.values(rows)) r.cells[be.id] = { text: 'skipped (minutes a step)' };
      continue;
    }
    const res = await withBackend(be, () => ({ gpt2: qkvGpt2(), bert: qkvBert() }));
    if (res?.unavailable) for (const r of Object.values(rows)) r.cells[be.id] = { text: res.unavailable };
    else {
      fill(be.id, res);
      log(`hf: ${be.label}: GPT-2 forward ${fmtMs(res.gpt2.forwardMs)}, ${res.gpt2.generateTokensPerS.toFixed(1)} tok/s, step ${fmtMs(res.gpt2.fullStepMs)} / LoRA ${fmtMs(res.gpt2.loraStepMs)}; BERT forward ${fmtMs(res.bert.forwardMs)}`);
    }
  }
  if (ctx.peers.torch) {
    const t = torchRun('torch_hf.py', [], request, 1_800_000);
    if (t.error) for (const r of Object.values(rows)) r.cells.torch = { text: t.error.slice(0, 60) };
    else {
      fill('torch', t);
      ctx.notes.push(`hf: PyTorch ${t.torch} (${t.threads} threads) with transformers and peft, ${PYTHON}; OMP_WAIT_POLICY ${t.policy} gave its best numbers`);
    }
  } else for (const r of Object.values(rows)) r.cells.torch = { text: 'left out' };
  const o = await ortTimes(ctx);
  if (o.unavailable) for (const r of Object.values(rows)) r.cells.ort = { text: o.unavailable };
  else {
    rows.gpt2Forward.cells.ort = ms(o.gpt2Forward);
    rows.bertForward.cells.ort = ms(o.bertForward);
    rows.gpt2Generate.cells.ort = perS(o.gpt2TokensPerS);
    for (const k of ['gpt2Full', 'gpt2Lora', 'bertFull', 'bertLora']) rows[k].cells.ort = { text: 'no training' };
    ctx.notes.push(`hf: ONNX Runtime onnxruntime-node ${o.version} CPU, ${ctx.cores} intra-op threads, on qkv's opset 17 export of the same weights`);
  }
  // the targets: inference within 1.0x ONNX Runtime, a training step within 1.0x PyTorch
  for (const [k, r] of Object.entries(rows)) {
    const best = bestQkv(r);
    const peerId = k.includes('step') ? 'torch' : (r.cells.ort?.value !== undefined ? 'ort' : 'torch');
    const peer = r.cells[peerId]?.value;
    if (!best || peer === undefined) continue;
    const ratio = best.value / peer;
    r.target = { text: `<= 1.0x ${peerId === 'ort' ? 'ONNX Runtime' : 'PyTorch'}`, verdict: ratio <= 1 ? 'met' : 'not met', why: `qkv (${best.id}) takes ${fmtRatio(ratio)} the time` };
  }
  return Object.values(rows);
}
