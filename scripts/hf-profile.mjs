// Where the Hugging Face bench rows' time goes (GPT-2 small and BERT base shapes, random weights,
// the shapes of bench/hf.mjs): every kernel call timed, MatMul split by shape and transposes,
// Copy by shape; "JS" is the rest (ops, autograd, allocation). A profile, not a measurement for
// targets: timing each call adds a little to it. Run after `npm run build`:
//   node scripts/hf-profile.mjs [--rows gpt2.forward,gpt2.generate,gpt2.full,gpt2.lora,bert.forward,bert.full,bert.lora]
//                               [--steps N] [--top N] [--quick] [--dist DIR (another build's dist/, to compare)]
import { greedyTokens } from '../bench/greedy.mjs';
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : process.argv[i + 1];
};
const dist = arg('dist', new URL('../dist', import.meta.url).pathname);
const q = await import(`${dist}/src/index.js`);
const quick = process.argv.includes('--quick');
const steps = Number(arg('steps', 2));
const top = Number(arg('top', 14));
const rows = arg('rows', 'gpt2.forward,gpt2.generate,gpt2.full,gpt2.lora,bert.forward,bert.full,bert.lora').split(',');
const S = quick
  ? { gpt2: { n_embd: 64, n_layer: 2, n_head: 2, vocab_size: 1000, n_positions: 128 }, bert: { hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 256, vocab_size: 1000 }, T: 32, B: 2, newTokens: 8 }
  : { gpt2: { n_embd: 768, n_layer: 12, n_head: 12, vocab_size: 50257, n_positions: 1024 }, bert: { hidden_size: 768, num_hidden_layers: 12, num_attention_heads: 12, intermediate_size: 3072, vocab_size: 30522 }, T: 128, B: 4, newTokens: 32 };
const be = q.getBackend();

const idRows = (B, T, V) => Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, t) => (t * 31 + b * 7) % V));
const ids = (B, T, V) => q.tensor(idRows(B, T, V), { dtype: 'int32' });

/** Runs `run` once to warm up, then `steps` times with every kernel call timed. */
function profile(label, run) {
  run();
  const stats = new Map();
  const saved = { ...be.kernels };
  const add = (key, ms) => {
    const s = stats.get(key) ?? { ms: 0, n: 0 };
    s.ms += ms;
    s.n++;
    stats.set(key, s);
  };
  for (const [name, f] of Object.entries(be.kernels)) {
    be.kernels[name] = (...a) => {
      const t0 = performance.now();
      try {
        return f(...a);
      } finally {
        const ms = performance.now() - t0;
        if (name === 'MatMul') {
          const x = a[0];
          // a product with B shared by a stack of A's runs as one of batch·m rows (gemmLayout)
          const folded = x.batch > 1 && x.bBatchStride === 0 && !x.transA && x.aBatchStride === x.m * x.k;
          const [batch, m] = folded ? [1, x.batch * x.m] : [x.batch, x.m];
          add(`MatMul ${batch > 1 ? `${batch}× ` : ''}${m}×${x.k}·${x.k}×${x.n}${x.transA ? ' Aᵀ' : ''}${x.transB ? ' Bᵀ' : ''}`, ms);
          add('(all MatMul)', ms);
        } else if (name === 'Copy') {
          add(`Copy [${a[2].join(',')}]`, ms);
          add('(all Copy)', ms);
        } else add(name, ms);
      }
    };
  }
  const t0 = performance.now();
  try {
    for (let i = 0; i < steps; i++) run();
  } finally {
    Object.assign(be.kernels, saved);
  }
  const total = (performance.now() - t0) / steps;
  const kernels = [...stats].filter(([k]) => !k.startsWith('(') && !k.startsWith('MatMul ') && !k.startsWith('Copy ')).reduce((s, [, v]) => s + v.ms, 0) +
    (stats.get('(all MatMul)')?.ms ?? 0) + (stats.get('(all Copy)')?.ms ?? 0);
  console.log(`\n${label}: ${total.toFixed(1)} ms (kernels ${(kernels / steps).toFixed(1)}, JS ${((total * steps - kernels) / steps).toFixed(1)})`);
  const share = (pred) => (100 * [...stats].filter(([k]) => pred(k)).reduce((s, [, v]) => s + v.ms, 0)) / steps / total;
  const [gemm, transB, copies, attention] = [share((k) => k === '(all MatMul)'), share((k) => k.startsWith('MatMul ') && k.endsWith('Bᵀ')),
    share((k) => k === '(all Copy)'), share((k) => k.startsWith('FlashAttention'))];
  const js = (100 * (total * steps - kernels)) / steps / total;
  const pct = (x) => `${x.toFixed(0)}%`;
  console.log(`  GEMM ${pct(gemm)} (B transposed ${pct(transB)}), copies ${pct(copies)}, attention ${pct(attention)}, other kernels ${pct(100 - gemm - copies - attention - js)}, JS ${pct(js)}`);
  for (const [k, s] of [...stats].sort((a, b) => b[1].ms - a[1].ms).slice(0, top)) {
    console.log(`  ${k.padEnd(44)} ${(s.ms / steps).toFixed(1).padStart(8)} ms ${String(s.n / steps).padStart(6)} calls ${(100 * s.ms / steps / total).toFixed(1).padStart(5)}%`);
  }
}

function stepper(m, params, loss) {
  const opt = new q.AdamW(params, { lr: 1e-4 });
  return () => {
    q.tidy(() => loss().backward());
    opt.step();
    opt.zeroGrad();
  };
}

const gpt2Config = () => q.hf.gpt2ConfigFromJson({ ...S.gpt2, resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0 });
const bertConfig = () => q.hf.bertConfigFromJson({ ...S.bert, num_labels: 2, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 });
console.log(`backend ${q.describeBackend?.() ?? be.name}; ${dist}; ${steps} timed runs after one warm-up`);

if (rows.some((r) => r.startsWith('gpt2'))) {
  const c = gpt2Config();
  if (rows.includes('gpt2.forward') || rows.includes('gpt2.generate')) {
    const m = new q.hf.GPT2LMHeadModel(c, new q.Generator(1));
    m.eval();
    const x = ids(1, S.T, c.vocabSize);
    if (rows.includes('gpt2.forward')) profile(`GPT-2 forward 1 × ${S.T}`, () => q.noGrad(() => q.tidy(() => { m.forward(x); })));
    const prompt = ids(1, 16, c.vocabSize);
    if (rows.includes('gpt2.generate')) {
      profile(`GPT-2 greedy generation, ${S.newTokens} tokens after 16 (per run)`, () => greedyTokens(q, m, prompt, S.newTokens));
    }
    m.dispose();
  }
  const xb = ids(S.B, S.T, c.vocabSize);
  const yb = ids(S.B, S.T, c.vocabSize);
  if (rows.includes('gpt2.full')) {
    const m = new q.hf.GPT2LMHeadModel(c, new q.Generator(1));
    m.train();
    profile(`GPT-2 AdamW step, full, ${S.B} × ${S.T}`, stepper(m, m.parameters(), () => m.forward(xb, { targets: yb }).loss));
    m.dispose();
  }
  if (rows.includes('gpt2.lora')) {
    const m = new q.hf.GPT2LMHeadModel(c, new q.Generator(1));
    m.train();
    q.hf.addLora(m, { r: 8, alpha: 16, targets: ['c_attn'] });
    profile(`GPT-2 AdamW step, LoRA r=8 on c_attn, ${S.B} × ${S.T}`, stepper(m, q.hf.freezeForLora(m), () => m.forward(xb, { targets: yb }).loss));
    m.dispose();
  }
}

if (rows.some((r) => r.startsWith('bert'))) {
  const c = bertConfig();
  const x = ids(S.B, S.T, c.vocabSize);
  const labels = q.tensor(Array.from({ length: S.B }, (_, i) => i % 2), { dtype: 'int32' });
  if (rows.includes('bert.forward')) {
    const m = new q.hf.BertForSequenceClassification(c, new q.Generator(2));
    m.eval();
    profile(`BERT forward ${S.B} × ${S.T}`, () => q.noGrad(() => q.tidy(() => { m.forward({ inputIds: x }); })));
    m.dispose();
  }
  if (rows.includes('bert.full')) {
    const m = new q.hf.BertForSequenceClassification(c, new q.Generator(2));
    m.train();
    profile(`BERT AdamW step, full, ${S.B} × ${S.T}`, stepper(m, m.parameters(), () => m.forward({ inputIds: x, labels }).loss));
    m.dispose();
  }
  if (rows.includes('bert.lora')) {
    const m = new q.hf.BertForSequenceClassification(c, new q.Generator(2));
    m.train();
    q.hf.addLora(m, { r: 8, alpha: 16, targets: ['query', 'value'] });
    profile(`BERT AdamW step, LoRA r=8 on query,value (+ classifier), ${S.B} × ${S.T}`, stepper(m, q.hf.freezeForLora(m, ['classifier']), () => m.forward({ inputIds: x, labels }).loss));
    m.dispose();
  }
}
