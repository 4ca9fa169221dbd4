// Causal attention forward+backward, B=1, 4 heads, d=64: naive softmax (the N×N matrix), fused
// softmax (flashAttention, when the public API has it) and causal linear attention. Time and the
// extra peak memory (engine's peakBytes above the inputs). Naive runs are skipped when the
// memory extrapolated from the last size run (×(N/N')²) passes the cap, or the time passes the budget.
import { fmtBytes, fmtMs, fmtRatio, log, makeRow, q, timeOn, withBackend } from './lib.mjs';

export const title = 'attention forward+backward (causal, B=1, 4 heads, d=64): time, extra peak memory';

/** This section times the webgpu column too (to the end of the device's queue). */
export const webgpu = true;

const H = 4;
const D = 64;

/** The three kinds; `fn` is null when this build does not have the op. */
export function attentionKinds() {
  const flash = q.flashAttention ?? q.nn?.flashAttention ?? null; // slots in when the fused op is exported
  return [
    { id: 'naive', label: 'naive softmax', quadratic: true, fn: (Q, K, V) => q.nn.scaledDotProductAttention(Q, K, V, { attnMask: q.nn.causalMask(Q.shape[2]) }).b },
    { id: 'fused', label: 'fused softmax', fn: flash && ((Q, K, V) => flash(Q, K, V, { causal: true })), why: 'not available' },
    { id: 'linear', label: 'linear', fn: (Q, K, V) => q.linearAttention(Q, K, V, { causal: true }) },
  ];
}

/** One forward+backward at length N; returns {ms, extra} (extra peak bytes above q, k, v). `on`: timeOn's backend entry and backend. */
export async function measure(fn, N, timing, on) {
  const g = new q.Generator(1);
  const [Q, K, V] = [0, 1, 2].map(() => q.randn([1, H, N, D], { generator: g, requiresGrad: true }));
  const step = () => {
    q.tidy(() => q.sum(fn(Q, K, V)).backward());
    for (const t of [Q, K, V]) t.zeroGrad();
  };
  try {
    const base = q.memory().bytes;
    q.resetPeak();
    const t = performance.now();
    step(); // warm-up, and the memory measurement
    if (on.be.device) await on.backend.sync();
    const first = performance.now() - t;
    const extra = q.memory().peakBytes - base;
    const { ms } = first >= timing.maxMs ? { ms: first } : await timeOn(on.be, on.backend, step, { warmup: 0, ...timing }); // a slow case runs once
    return { ms, extra };
  } finally {
    for (const t of [Q, K, V]) t.dispose(); // also when a size runs out of memory
  }
}

export async function run(ctx) {
  const sizes = ctx.quick ? [256, 1024, 4096, 16384] : [256, 512, 1024, 2048, 4096, 8192, 16384];
  const memCap = ctx.memCap;
  const budgetMs = ctx.quick ? 3000 : 30000; // the most one forward+backward may take (predicted ×(N/N')²)
  const timing = { reps: ctx.quick ? 2 : 5, maxMs: ctx.quick ? 2000 : 15000 };
  const kinds = attentionKinds();
  ctx.notes.push('attention memory = engine peak bytes above q, k, v during one forward+backward (memory().peakBytes after resetPeak())',
    `naive attention is skipped when its peak memory, extrapolated ×(N/N')² from the last size run, passes ${fmtBytes(memCap)} (--mem-cap), ` +
    `or one run would pass ${budgetMs / 1000} s; linear likewise (×N/N') for time`);
  if (!kinds[1].fn) ctx.notes.push('fused softmax: not available: the public API has no flashAttention yet (bench/attention.mjs calls it when exported)');
  const rows = [];
  for (const kind of kinds) for (const N of sizes) rows.push(makeRow('attention', `attention.${kind.id}.${N}`, `${kind.label} N=${N}`));
  const rowOf = (kind, N) => rows.find((r) => r.key === `attention.${kind.id}.${N}`);

  for (const be of ctx.backends) {
    const res = await withBackend(be, async (backend) => {
      for (const kind of kinds) {
        let last = null; // {N, ms, extra} of the last size run
        for (const N of sizes) {
          const row = rowOf(kind, N);
          if (!kind.fn) { row.cells[be.id] = { text: kind.why }; continue; }
          const grow = last ? (kind.quadratic ? (N / last.N) ** 2 : N / last.N) : 1;
          const needBytes = last ? last.extra * grow : 0;
          const needMs = last ? last.ms * grow * (kind.quadratic ? 1 : 1.5) : 0;
          if (last && needBytes > memCap) { row.cells[be.id] = { skipped: 'memory', text: `skipped: would need ~${fmtBytes(needBytes)} > cap ${fmtBytes(memCap)}` }; continue; }
          if (last && needMs > budgetMs) { row.cells[be.id] = { skipped: 'time', text: `skipped: ~${fmtMs(needMs)} > budget ${fmtMs(budgetMs)}` }; continue; }
          try {
            const { ms, extra } = await measure(kind.fn, N, timing, { be, backend });
            last = { N, ms, extra };
            row.cells[be.id] = { value: ms, ms, peakBytes: extra, text: `${fmtMs(ms)}, ${fmtBytes(extra)}` };
          } catch (e) {
            row.cells[be.id] = { skipped: 'error', text: `failed: ${String(e.message).split('\n')[0].slice(0, 80)}` };
            last = null;
            break; // out of memory: larger sizes would fail too
          }
          log(`attention: ${be.label} ${kind.label} N=${N}: ${row.cells[be.id].text}`);
        }
      }
    });
    if (res?.unavailable) for (const r of rows) r.cells[be.id] = { text: res.unavailable };
  }

  // target: fused runs at 16384 where naive does not, and its extra memory grows linearly in N
  const top = sizes[sizes.length - 1];
  const fusedTop = ctx.best(rowOf(kinds[1], top));
  const target = { text: `fused runs at N=${top} where naive cannot; extra memory linear in N`, verdict: 'n/a' };
  if (!fusedTop) target.why = kinds[1].fn ? `fused did not run at N=${top}` : 'no fused number (flashAttention not available)';
  else {
    const naiveTop = rowOf(kinds[0], top).cells[fusedTop.id];
    const first = rowOf(kinds[1], sizes[0]).cells[fusedTop.id];
    const growth = fusedTop.peakBytes / first.peakBytes / (top / sizes[0]);
    const naiveFails = naiveTop?.value === undefined;
    target.verdict = naiveFails && growth <= 1.25 ? 'PASS' : 'FAIL';
    target.why = `${fusedTop.id}: naive ${naiveFails ? 'skipped/failed' : 'ran'}; memory ${fmtRatio(growth)} linear from N=${sizes[0]}`;
  }
  rowOf(kinds[1], top).target = target;
  // issue 15: fused forward+backward at N=4096 on native ≥ 2× faster than on wasm
  if (sizes.includes(4096)) {
    const row = rowOf(kinds[1], 4096);
    const nat = row.cells.native?.value;
    const wasm = ctx.bestWasm(row);
    row.target = { text: 'native ≥ 2× faster than wasm', verdict: 'n/a' };
    if (nat === undefined || !wasm) row.target.why = nat === undefined ? 'no native number' : 'no wasm number';
    else Object.assign(row.target, { verdict: wasm.ms >= 2 * nat ? 'PASS' : 'FAIL', why: `native ${fmtRatio(wasm.ms / nat)} faster than ${wasm.id}` });
  }
  return rows;
}
