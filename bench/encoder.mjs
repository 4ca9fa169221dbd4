// Transformer encoder forward (inference): 4 post-LN layers (torch.nn.TransformerEncoderLayer
// semantics), d=256, 4 heads, feed-forward 1024, ReLU, dropout 0; input batch 8 × N=256.
import { fmtMs, fmtRatio, log, makeRow, nodePeer, q, timeOn, torchPeer, withBackend } from './lib.mjs';

export const title = 'Transformer encoder forward (4 layers, d=256, 4 heads, ff 1024, N=256, batch 8)';

/** This section times the webgpu column too (to the end of the device's queue). */
export const webgpu = true;

export const ENCODER_SHAPE = { layers: 4, dModel: 256, nhead: 4, dimFeedforward: 1024, n: 256, batch: 8, seed: 7 };

export async function run(ctx) {
  const c = ENCODER_SHAPE;
  const timing = { warmup: 1, reps: ctx.quick ? 3 : 10, maxMs: ctx.quick ? 3000 : 20000 };
  const row = makeRow('encoder', 'encoder.forward', 'encoder forward ms');
  for (const be of ctx.backends) {
    const res = await withBackend(be, async (backend) => {
      const g = new q.Generator(c.seed);
      const enc = new q.nn.TransformerEncoder(
        () => new q.nn.TransformerEncoderLayer(c.dModel, c.nhead, { dimFeedforward: c.dimFeedforward, dropout: 0, generator: g }), c.layers).eval();
      const x = q.randn([c.batch, c.n, c.dModel], { generator: g });
      const { ms } = await timeOn(be, backend, () => q.noGrad(() => enc.forward(x).dispose()), timing);
      x.dispose();
      enc.dispose();
      row.cells[be.id] = { value: ms, ms, text: fmtMs(ms) };
      log(`encoder: ${be.label}: ${fmtMs(ms)}`);
    });
    if (res?.unavailable) row.cells[be.id] = { text: res.unavailable };
  }
  const request = { ...c, ...timing };
  if (ctx.peers.tfjs) {
    const r = nodePeer('tfjs-encoder.mjs', request);
    ctx.noteTfjs(r);
    row.cells.tfjs = r.error ? { text: `error: ${r.error}` } : { value: r.ms, ms: r.ms, text: fmtMs(r.ms) };
    log(`encoder: TF.js wasm: ${row.cells.tfjs.text}`);
  }
  if (ctx.peers.torch) {
    const r = torchPeer('encoder', { ...request, threads: ctx.cores });
    row.cells.torch = r.error ? { text: `error: ${r.error}` } : { value: r.ms, ms: r.ms, text: fmtMs(r.ms) };
    log(`encoder: PyTorch: ${row.cells.torch.text}`);
  }
  // issue 15: ≤ 1.0× PyTorch's time; and how qkv stands against TF.js
  const best = ctx.best(row);
  const tf = row.cells.tfjs?.value;
  const torch = row.cells.torch?.value;
  const vsTf = best && tf !== undefined ? `; ${fmtRatio(tf / best.ms)} faster than TF.js` : '';
  row.target = { text: '≤ 1.0× PyTorch CPU time', verdict: 'n/a', why: best ? '' : 'no qkv number' };
  if (best && torch === undefined) row.target.why = `no PyTorch number${vsTf}`;
  else if (best) Object.assign(row.target, { verdict: best.ms <= torch ? 'PASS' : 'FAIL', why: `${best.id}: ${fmtRatio(best.ms / torch)} PyTorch's time${vsTf}` });
  return [row];
}
