// Hugging Face shapes on random weights (nothing downloaded): GPT-2 small (124M) and BERT base,
// qkv (default backend) against PyTorch + transformers in the same run, when the interpreter in
// QKV_BENCH_PYTHON (default /usr/bin/python3) has both. Not part of `npm run bench`'s sections yet.
//   node bench/hf.mjs            GPT-2 small / BERT base: forward, greedy generation on the KV cache,
//                                one fine-tuning step (AdamW) full and LoRA r=8
//   node bench/hf.mjs --tiny     the same at toy sizes (a check that it runs, not a measurement)
//   --no-torch                   qkv only
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as q from '../dist/src/index.js';
import { median } from './timing.mjs';

const tiny = process.argv.includes('--tiny');
const PYTHON = process.env.QKV_BENCH_PYTHON || '/usr/bin/python3';
const S = tiny
  ? { gpt2: { n_embd: 64, n_layer: 2, n_head: 2, vocab_size: 1000, n_positions: 128 }, bert: { hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 256, vocab_size: 1000 }, T: 32, B: 2, newTokens: 8, reps: 2 }
  : { gpt2: { n_embd: 768, n_layer: 12, n_head: 12, vocab_size: 50257, n_positions: 1024 }, bert: { hidden_size: 768, num_hidden_layers: 12, num_attention_heads: 12, intermediate_size: 3072, vocab_size: 30522 }, T: 128, B: 4, newTokens: 32, reps: 5 };
const request = { ...S, lora: 8 };

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

const ids = (B, T, V) => q.tensor(Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, t) => (t * 31 + b * 7) % V)), { dtype: 'int32' });

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
  const genMs = time(() => q.noGrad(() => {
    const caches = m.makeCaches(1);
    let next = prompt;
    for (let i = 0; i < S.newTokens; i++) {
      const id = q.tidy(() => { const l = m.forward(next, { caches }).logits; return l.select(1, l.shape[1] - 1).argmax(-1).toTypedArray()[0]; });
      next = q.tensor([[id]], { dtype: 'int32' });
    }
    caches.forEach((k) => k.dispose());
  }), 2);
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

function torchPeer() {
  if (process.argv.includes('--no-torch')) return { skipped: '--no-torch' };
  const script = fileURLToPath(new URL('./peers/torch_hf.py', import.meta.url));
  const r = spawnSync(PYTHON, [script], { input: JSON.stringify(request), encoding: 'utf8', timeout: 1_800_000 });
  if (r.status !== 0) return { unavailable: (r.stderr || r.error?.message || '').trim().split('\n').pop() };
  return JSON.parse(r.stdout);
}

const result = { backend: q.describeBackend(), sizes: tiny ? 'tiny' : 'GPT-2 small (124M), BERT base', batch: S.B, tokens: S.T, qkv: { gpt2: qkvGpt2(), bert: qkvBert() }, torch: torchPeer() };
console.log(JSON.stringify(result, null, 2));
