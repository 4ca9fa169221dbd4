// `npm run bench -- --profile train`: where each task's training step time goes, per kernel, on
// each qkv backend (every kernel call of the step timed; "JS" is the rest: ops, autograd,
// allocation). The baby GPT (lm), then seq2seq, the word tagger with its char CNN, text
// classification, a ViT on 32×32 images and a speech tagger on 300 frames, at the shapes in
// bench/workloads.mjs (--quick: tiny shapes, a check that everything runs). A profile, not a
// measurement for targets: timing each call adds a little to it.
import { fmtMs, log, q, tokenIds, withBackend } from './lib.mjs';
import { babyGptTrainer, GPT_SHAPE } from './train.mjs';
import { shapes, workload, WORKLOADS } from './workloads.mjs';

/** What each profiled step is, for the heading. */
function describe(name, s) {
  switch (name) {
    case 'gpt': return 'baby GPT (lm): 4 layers, 4 heads, 128 dims, block 64, batch 12, vocab 65';
    case 'seq2seq': return `seq2seq: ${s.vocab}-word vocabularies, ${s.lo}-${s.hi} words, d ${s.dModel}, ${s.layers}+${s.layers} layers, ff ${s.ff}, batch ${s.batch}, length-bucketed`;
    case 'tagger': return `word tagger (char CNN): ${s.vocab} words, ${s.tags} tags, ${s.lo}-${s.hi} words, transformer d ${s.dModel}, ${s.layers} layers, batch ${s.batch}, length-bucketed`;
    case 'classify': return `text classifier: ${s.vocab} words, ${s.lo}-${s.hi} words, transformer d ${s.dModel}, ${s.layers} layers, batch ${s.batch}`;
    case 'vit': return `ViT: ${s.side}×${s.side} RGB, patches ${s.patch}×${s.patch}, d ${s.dModel}, ${s.layers} layers, ${s.classes} classes, batch ${s.batch}`;
    case 'speech': return `speech tagger: ${s.frames} frames × ${s.dim}, ${s.phones} labels, transformer d ${s.dModel}, ${s.layers} layers, batch ${s.batch}`;
    default: return name;
  }
}

/** Times every kernel call of `steps` steps of the stepper `make()` makes on `backend`. */
function profileOn(backend, make, warmup, steps) {
  const stats = new Map();
  const saved = { ...backend.kernels };
  for (const [name, f] of Object.entries({ ...q.referenceBackend.kernels, ...backend.kernels })) {
    backend.kernels[name] = (...args) => {
      const t0 = performance.now();
      try {
        return f(...args);
      } finally {
        const s = stats.get(name) ?? { ms: 0, calls: 0 };
        s.ms += performance.now() - t0;
        s.calls++;
        stats.set(name, s);
      }
    };
  }
  try {
    const t = make();
    for (let i = 0; i < warmup; i++) t.step();
    stats.clear();
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) t.step();
    const total = (performance.now() - t0) / steps;
    t.dispose();
    return { total, stats };
  } finally {
    for (const name of Object.keys(backend.kernels)) {
      if (name in saved) backend.kernels[name] = saved[name];
      else delete backend.kernels[name];
    }
  }
}

function table(label, total, stats, steps) {
  const rows = [...stats].map(([name, s]) => ({ name, ms: s.ms / steps, calls: s.calls / steps })).sort((a, b) => b.ms - a.ms);
  const kernelMs = rows.reduce((a, r) => a + r.ms, 0);
  return [`${label}: ${fmtMs(total)} per step (mean of ${steps}, each kernel call timed)`,
    '| kernel | calls/step | ms/step | share |', '|---|---|---|---|',
    ...rows.filter((r) => r.ms >= 0.005).map((r) => `| ${r.name} | ${r.calls} | ${r.ms.toFixed(2)} | ${((100 * r.ms) / total).toFixed(1)}% |`),
    `| JS (ops, autograd, allocation, dispatch) | | ${(total - kernelMs).toFixed(2)} | ${((100 * (total - kernelMs)) / total).toFixed(1)}% |`].join('\n');
}

export async function profileTrain(ctx) {
  const tiny = ctx.quick;
  const steps = ctx.quick ? 2 : 8;
  const warmup = ctx.quick ? 1 : 3;
  const c = GPT_SHAPE;
  const ids = tokenIds(c.seed, (steps + warmup) * c.batch * (c.blockSize + 1), c.vocabSize);
  const makers = {
    gpt: () => babyGptTrainer(ids, c),
    ...Object.fromEntries(WORKLOADS.map((w) => [w, () => workload(w, { tiny })])),
  };
  const wanted = ctx.workloads ?? Object.keys(makers);
  const out = [];
  for (const name of wanted) {
    out.push(`## ${describe(name, shapes(tiny)[name])}`);
    for (const be of ctx.backends.filter((b) => b.id !== 'ref')) {
      const res = await withBackend(be, (backend) => profileOn(backend, makers[name], warmup, steps));
      if (res?.unavailable) { out.push(`${be.label}: ${res.unavailable}`); continue; }
      out.push(table(be.label, res.total, res.stats, steps));
      log(`profile: ${name}: ${be.label} done`);
    }
  }
  return out.join('\n\n');
}
