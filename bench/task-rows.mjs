// The train section's task rows (issue 23): a training step of each task model at realistic
// shapes (bench/workloads.mjs: seq2seq, word tagger, text classifier, ViT, speech tagger), qkv's
// backends against the same models in plain PyTorch (bench/peers/torch_tasks.py) trained on the
// very batches qkv draws (length-bucketed where the task buckets, seeded). The notes give each
// side's parameter count and the untrained model's loss on the first batch (the same model and
// init scale land within dropout's noise of each other).
// The reference backend is left out: at these shapes one of its steps takes tens of seconds.
import { fmtMs, fmtRatio, log, makeRow, median, timeIt, torchTasksPeer, withBackend } from './lib.mjs';
import { workload } from './workloads.mjs';

const ROWS = [
  ['seq2seq', (s) => `seq2seq ms/step (${s.vocab}-word vocabularies, d ${s.dModel}, ${s.layers}+${s.layers} layers, batch ${s.batch})`],
  ['tagger', (s) => `word tagger ms/step (char CNN, ${s.vocab} words, transformer d ${s.dModel}, ${s.layers} layers, batch ${s.batch})`],
  ['classify', (s) => `text classifier ms/step (char CNN, ${s.vocab} words, transformer d ${s.dModel}, ${s.layers} layers, mean pool, batch ${s.batch})`],
  ['vit', (s) => `ViT ms/step (${s.side}×${s.side} RGB, ${s.patch}×${s.patch} patches, class token, d ${s.dModel}, ${s.layers} layers, batch ${s.batch})`],
  ['speech', (s) => `speech tagger ms/step (${s.frames} frames × ${s.dim} features, linear front end, d ${s.dModel}, ${s.layers} layers, batch ${s.batch})`],
];

/** What each peer is, for the notes. */
const PEERS = {
  seq2seq: 'nn.Transformer (pre-LN, ReLU) with scaled embeddings and sinusoidal positions',
  tagger: 'word embedding + char CNN, sinusoidal positions, nn.TransformerEncoder (pre-LN, GELU, final norm)',
  classify: 'the tagger\'s input and encoder, the mean of the real positions, a Linear',
  vit: 'Conv2d patches (stride = patch), learned row + column positions, class token, nn.TransformerEncoder (pre-LN, GELU), a Linear on the class token',
  speech: 'Linear(features, d) + sinusoidal positions, nn.TransformerEncoder (pre-LN, GELU), a Linear per frame',
};

export async function taskRows(ctx) {
  const warmup = ctx.quick ? 1 : 3;
  const reps = ctx.quick ? 2 : 10;
  const maxMs = ctx.quick ? 2000 : 30000;
  const rounds = ctx.quick ? 1 : 3;
  const rows = [];
  for (const [name, label] of ROWS.filter(([n]) => !ctx.workloads || ctx.workloads.includes(n))) {
    let row = null;
    const runs = new Map();
    const take = (id, r) => { if (!runs.has(id)) runs.set(id, []); runs.get(id).push(r); };
    for (let round = 0; round < rounds; round++) {
      for (const be of ctx.backends.filter((b) => b.id !== 'ref')) {
        const res = await withBackend(be, () => {
          const w = workload(name, { tiny: ctx.quick, steps: round === 0 && !row ? warmup + reps : 0 });
          if (!row) {
            row = makeRow('train', `train.${name}`, label(w.shape));
            row.peerRequest = w.peer;
          }
          const { ms } = timeIt(w.step, { warmup, reps, maxMs });
          const out = { ms, loss: w.loss(), loss0: w.loss0(), params: w.params };
          w.dispose();
          return out;
        });
        take(be.id, res?.unavailable ? { unavailable: res.unavailable } : res);
      }
      if (ctx.peers.torch && row?.peerRequest) {
        const p = row.peerRequest;
        take('torch', torchTasksPeer(name, { shape: p.shape, sizes: p.sizes, batches: p.batches, warmup, reps, maxMs, threads: ctx.cores, seed: 1 }));
      }
    }
    if (!row) continue;
    if (row.peerRequest?.padded) ctx.notes.push(`train: ${name}: ${(100 * row.peerRequest.padded).toFixed(1)}% of the ${name === 'classify' ? 'input' : 'label'} positions of the timed batches are padding${name === 'classify' ? '' : ' (length-bucketed batches)'}`);
    delete row.peerRequest;
    const pt = runs.get('torch')?.find((r) => r.params !== undefined);
    const ours = [...runs].find(([id, rs]) => id !== 'torch' && rs[0]?.params !== undefined)?.[1][0];
    if (pt) {
      const same = ours ? (ours.params === pt.params ? 'the same count' : `qkv ${ours.params.toLocaleString('en-US')}`) : 'no qkv count';
      ctx.notes.push(`train: ${name}: PyTorch peer: ${PEERS[name]}; ${pt.params.toLocaleString('en-US')} parameters (${same}); loss of the untrained model on the first batch qkv ${ours?.loss0?.toFixed(3) ?? '?'}, PyTorch ${pt.loss0?.toFixed(3) ?? '?'}`);
    }
    for (const [id, rs] of runs) {
      if (rs[0].unavailable) { row.cells[id] = { text: rs[0].unavailable }; continue; }
      const failed = rs.find((r) => r.error);
      if (failed) { row.cells[id] = { text: `error: ${failed.error}` }; continue; }
      const ms = median(rs.map((r) => r.ms));
      row.cells[id] = { value: ms, ms, text: fmtMs(ms), loss: rs.at(-1).loss };
      log(`train: ${name}: ${id}: ${rs.map((r) => fmtMs(r.ms)).join(', ')}`);
    }
    const best = ctx.best(row);
    const torch = row.cells.torch?.value;
    row.target = { text: '≤ 0.8× PyTorch CPU time', verdict: 'n/a' };
    if (!best) row.target.why = 'no qkv number';
    else if (torch === undefined) row.target.why = 'no PyTorch number';
    else Object.assign(row.target, { verdict: best.ms <= 0.8 * torch ? 'PASS' : 'FAIL', why: `${best.id}: ${fmtRatio(best.ms / torch)} PyTorch's time` });
    rows.push(row);
  }
  return rows;
}
