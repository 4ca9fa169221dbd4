// Step-by-step decoding, one attention layer (B=1, 4 heads, d=64), time per token at position P:
// softmax over a KVCache (append k, v; attend with the causal mask, as GPT decodes) against the
// recurrent state of linear attention (LinearAttentionState.step). Both are advanced to P first.
import { fmtMs, fmtRatio, log, makeRow, q, timeOn, withBackend } from './lib.mjs';

export const title = 'decoding, one attention layer (B=1, 4 heads, d=64): time per token at position P';

/** This section times the webgpu column too (each token to the end of the device's queue). */
export const webgpu = true;

const H = 4;
const D = 64;

export async function run(ctx) {
  const positions = ctx.quick ? [128, 1024, 8192] : [128, 256, 512, 1024, 2048, 4096, 8192];
  const timing = { warmup: 2, reps: ctx.quick ? 20 : 200, maxMs: ctx.quick ? 300 : 2000 };
  const kinds = [{ id: 'softmax', label: 'softmax + KV cache' }, { id: 'linear', label: 'recurrent linear' }];
  const rows = [];
  for (const k of kinds) for (const P of positions) rows.push(makeRow('decode', `decode.${k.id}.${P}`, `${k.label} P=${P}`));
  const rowOf = (id, P) => rows.find((r) => r.key === `decode.${id}.${P}`);

  for (const be of ctx.backends) {
    const res = await withBackend(be, async (backend) => {
      const g = new q.Generator(2);
      const token = () => [0, 1, 2].map(() => q.randn([1, H, 1, D], { generator: g })); // q, k, v of one new position
      const [q1, k1, v1] = token();
      // softmax: the cache is filled up to P in one append (untimed); the warm-up steps take any regrowth
      const cache = new q.nn.KVCache();
      for (const P of positions) {
        if (cache.length < P) {
          q.tidy(() => {
            const n = P - cache.length;
            cache.append(q.randn([1, H, n, D], { generator: g }), q.randn([1, H, n, D], { generator: g }));
          });
        }
        const { ms } = await timeOn(be, backend, () => q.noGrad(() => q.tidy(() => {
          const kv = cache.append(k1, v1);
          return q.nn.scaledDotProductAttention(q1, kv.k, kv.v, { attnMask: q.nn.causalMask(1, kv.k.shape[2]) }).b.dispose();
        })), timing);
        rowOf('softmax', P).cells[be.id] = { value: ms, ms, text: fmtMs(ms) };
        log(`decode: ${be.label} softmax+KV P=${P}: ${fmtMs(ms)}`);
      }
      cache.dispose();
      // linear: the state is stepped (untimed) up to P, then timed
      const [q3, k3, v3] = [q1, k1, v1].map((t) => q.reshape(t, [1, H, D]));
      const state = new q.LinearAttentionState(1, H, D, D);
      for (const P of positions) {
        while (state.steps < P) state.step(q3, k3, v3).dispose();
        const { ms } = await timeOn(be, backend, () => state.step(q3, k3, v3).dispose(), timing);
        rowOf('linear', P).cells[be.id] = { value: ms, ms, text: fmtMs(ms) };
        log(`decode: ${be.label} recurrent linear P=${P}: ${fmtMs(ms)}`);
      }
      state.dispose();
      for (const t of [q1, k1, v1, q3, k3, v3]) t.dispose();
    });
    if (res?.unavailable) for (const r of rows) r.cells[be.id] = { text: res.unavailable };
  }

  // target: linear flat from the first to the last position (≤ 1.2×) and ≥ 20× faster than softmax there
  const [first, last] = [positions[0], positions[positions.length - 1]];
  const lin = ctx.best(rowOf('linear', last));
  const target = { text: `linear flat ${first}→${last} (≤ 1.2×), ≥ 20× faster than softmax+KV at ${last}`, verdict: 'n/a' };
  if (!lin) target.why = 'no number';
  else {
    const flat = lin.ms / rowOf('linear', first).cells[lin.id].ms;
    const soft = rowOf('softmax', last).cells[lin.id].ms;
    const speedup = soft / lin.ms;
    target.verdict = flat <= 1.2 && speedup >= 20 ? 'PASS' : 'FAIL';
    target.why = `${lin.id}: ${fmtRatio(flat)} from P=${first}, ${fmtRatio(speedup)} faster`;
  }
  rowOf('linear', last).target = target;
  return rows;
}
