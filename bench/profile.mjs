// `npm run bench -- --profile train`: where one baby GPT training step's time goes, per kernel,
// on each qkv backend (every kernel call of the step timed; "JS" is the rest: ops, autograd,
// allocation). A profile, not a measurement for targets: timing each call adds a little to it.
import { fmtMs, log, q, tokenIds, withBackend } from './lib.mjs';
import { babyGptTrainer, GPT_SHAPE } from './train.mjs';

export async function profileTrain(ctx) {
  const c = GPT_SHAPE;
  const steps = ctx.quick ? 2 : 8;
  const warmup = ctx.quick ? 1 : 3;
  const ids = tokenIds(c.seed, (steps + warmup) * c.batch * (c.blockSize + 1), c.vocabSize);
  const out = [];
  for (const be of ctx.backends.filter((b) => b.id !== 'ref')) {
    const res = await withBackend(be, (backend) => {
      const stats = new Map();
      const own = new Set(Object.keys(backend.kernels));
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
        const t = babyGptTrainer(ids, c);
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
        void own;
      }
    });
    if (res?.unavailable) { out.push(`${be.label}: ${res.unavailable}`); continue; }
    const { total, stats } = res;
    const rows = [...stats].map(([name, s]) => ({ name, ms: s.ms / steps, calls: s.calls / steps })).sort((a, b) => b.ms - a.ms);
    const kernelMs = rows.reduce((a, r) => a + r.ms, 0);
    const lines = [`${be.label}: ${fmtMs(total)} per step (mean of ${steps}, each kernel call timed)`,
      '| kernel | calls/step | ms/step | share |', '|---|---|---|---|',
      ...rows.filter((r) => r.ms >= 0.005).map((r) => `| ${r.name} | ${r.calls} | ${r.ms.toFixed(2)} | ${((100 * r.ms) / total).toFixed(1)}% |`),
      `| JS (ops, autograd, allocation, dispatch) | | ${(total - kernelMs).toFixed(2)} | ${((100 * (total - kernelMs)) / total).toFixed(1)}% |`];
    out.push(lines.join('\n'));
    log(`profile: ${be.label} done`);
  }
  return out.join('\n\n');
}
