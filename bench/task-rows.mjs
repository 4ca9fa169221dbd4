// The train section's task rows (issue 23): a seq2seq step and a word-tagger step at realistic
// shapes (bench/workloads.mjs), qkv's backends against the same models in plain PyTorch
// (bench/peers/torch_tasks.py) trained on the very batches qkv draws (length-bucketed, seeded).
// The reference backend is left out: at these shapes one of its steps takes tens of seconds.
import { fmtMs, fmtRatio, log, makeRow, median, timeIt, torchTasksPeer, withBackend } from './lib.mjs';
import { workload } from './workloads.mjs';

const ROWS = [
  ['seq2seq', (s) => `seq2seq ms/step (${s.vocab}-word vocabularies, d ${s.dModel}, ${s.layers}+${s.layers} layers, batch ${s.batch})`],
  ['tagger', (s) => `word tagger ms/step (char CNN, ${s.vocab} words, transformer d ${s.dModel}, ${s.layers} layers, batch ${s.batch})`],
];

export async function taskRows(ctx) {
  const warmup = ctx.quick ? 1 : 3;
  const reps = ctx.quick ? 2 : 10;
  const maxMs = ctx.quick ? 2000 : 30000;
  const rounds = ctx.quick ? 1 : 3;
  const rows = [];
  for (const [name, label] of ROWS) {
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
          const loss = w.loss();
          w.dispose();
          return { ms, loss };
        });
        take(be.id, res?.unavailable ? { unavailable: res.unavailable } : res);
      }
      if (ctx.peers.torch && row?.peerRequest) {
        const p = row.peerRequest;
        take('torch', torchTasksPeer(name, { shape: p.shape, sizes: p.sizes, batches: p.batches, warmup, reps, maxMs, threads: ctx.cores, seed: 1 }));
      }
    }
    if (!row) continue;
    if (row.peerRequest) ctx.notes.push(`train: ${name}: ${(100 * row.peerRequest.paddedLabels).toFixed(1)}% of the label positions of the timed batches are padding (length-bucketed batches)`);
    delete row.peerRequest;
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
