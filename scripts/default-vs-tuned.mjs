#!/usr/bin/env node
// Default vs tuned (issue 25, item 6): `qkv train tag` with no tuning flags against the same
// model with a tuned length (default --epochs 30), on a CoNLL-U treebank, scored on its test
// file. Prints one Markdown row per training size: accuracy and seconds of each run, the gap
// in points and the time ratio, and whether the default is within 1 point in at most twice the
// time. A benchmark, not a test: run it on a quiet machine (after `npm run build`).
//
//   node scripts/default-vs-tuned.mjs --train en_ewt-ud-train.conllu --dev en_ewt-ud-dev.conllu \
//     --test en_ewt-ud-test.conllu --sizes 2000,10000 [--tuned "--epochs 30"] [--out runs/dvt] [--extra "--d-model 64"]
//
// (UD English EWT: https://github.com/UniversalDependencies/UD_English-EWT, the three .conllu files.)
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../dist/cli/qkv.js', import.meta.url));
const args = process.argv.slice(2);
const flag = (name, def) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : def; };
const train = flag('--train');
const dev = flag('--dev');
const test = flag('--test');
if (!train || !test) {
  console.error('usage: node scripts/default-vs-tuned.mjs --train TRAIN.conllu [--dev DEV.conllu] --test TEST.conllu [--sizes 2000,10000] [--tuned "--epochs 30"] [--extra "..."] [--out DIR]');
  process.exit(1);
}
const sizes = flag('--sizes', '2000').split(',').map(Number);
const tuned = flag('--tuned', '--epochs 30').split(/\s+/).filter(Boolean);
const extra = flag('--extra', '').split(/\s+/).filter(Boolean);
const out = flag('--out', 'runs/default-vs-tuned');
mkdirSync(out, { recursive: true });

/** The first `n` sentences of a CoNLL-U file (blank-line separated). */
function firstSentences(file, n) {
  const sentences = readFileSync(file, 'utf8').split(/\n\s*\n/).filter((s) => s.trim());
  if (sentences.length < n) throw new Error(`${file} has ${sentences.length} sentences, fewer than ${n}`);
  return { text: sentences.slice(0, n).join('\n\n') + '\n\n', total: sentences.length };
}

const qkv = (...a) => JSON.parse(execFileSync(process.execPath, [bin, ...a], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 }));

console.log('| training sentences | default: test UPOS, time | tuned (' + tuned.join(' ') + '): test UPOS, time | gap (points) | time ratio | within 1 point in ≤ 2× time |');
console.log('|---|---|---|---|---|---|');
for (const n of sizes) {
  const subset = join(out, `train-${n}.conllu`);
  writeFileSync(subset, firstSentences(train, n).text);
  const runs = {};
  for (const [name, flags] of [['default', []], ['tuned', tuned]]) {
    const dir = join(out, `${name}-${n}`);
    rmSync(dir, { recursive: true, force: true });
    const s = qkv('train', 'tag', '--train', subset, ...(dev ? ['--dev', dev] : []), '--out', dir, ...extra, ...flags, '--json');
    const e = qkv('eval', '--model', dir, '--data', test, '--json');
    runs[name] = { accuracy: e.metrics.accuracy, seconds: s.seconds, steps: s.steps, stop: s.stop?.message ?? '' };
  }
  const gap = (runs.tuned.accuracy - runs.default.accuracy) * 100;
  const ratio = runs.default.seconds / runs.tuned.seconds;
  const ok = gap <= 1 && ratio <= 2;
  console.log(`| ${n} | ${runs.default.accuracy.toFixed(3)}, ${runs.default.seconds.toFixed(0)} s (${runs.default.steps} steps: ${runs.default.stop}) | ${runs.tuned.accuracy.toFixed(3)}, ${runs.tuned.seconds.toFixed(0)} s (${runs.tuned.steps} steps) | ${gap.toFixed(1)} | ${ratio.toFixed(2)}× | ${ok ? 'yes' : 'no'} |`);
}
