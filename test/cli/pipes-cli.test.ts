// Every data input given as a pipe (bash process substitution, /dev/fd/N: stat says 0 bytes and
// the bytes can be read once): training files of each format and task, --dev, eval --data,
// predict --input, lm --data, --config, WAV and image lists. Each works as the same file does.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { data, encodePng, Generator } from '../../src/index.js';
import { ok } from './expect.js';

const bin = fileURLToPath(new URL('../../cli/qkv.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'qkv-pipes-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const spoken = fileURLToPath(new URL('../../../data/spoken/', import.meta.url));
const tiny = '--max-steps 2 --eval-every 2 --d-model 8 --layers 1 --heads 2 --json';
/** `qkv ARGS` under bash, where <(cat FILE) is a pipe. */
const sh = (args: string) => spawnSync('bash', ['-c', `"${process.execPath}" "${bin}" ${args}`], { encoding: 'utf8', cwd: dir, timeout: 120_000 });

before(() => {
  for (const [set, file] of [['ambiguity', 'ud.conllu'], ['ambiguity', 'two.conll'], ['ambiguity', 'sent.tsv'], ['speech', 'frames.jsonl'], ['graph', 'graph.jsonl'], ['reverse', 'pairs.tsv']]) {
    ok(sh(`data --builtin ${set} --out ${file} --n 60`), `data ${file}`);
  }
  writeFileSync(join(dir, 'text.txt'), 'the cat sat on the mat and saw a dog\n'.repeat(40));
  writeFileSync(join(dir, 'sentences.txt'), 'I saw a saw\n\nthe saw\n');
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ 'max-steps': 2, 'eval-every': 2 }));
  const wavs = readdirSync(spoken).filter((f) => f.endsWith('.wav')).slice(0, 12);
  writeFileSync(join(dir, 'wav.tsv'), wavs.map((f) => `${join(spoken, f)}\t${f.slice(0, 3)}`).join('\n') + '\n');
  mkdirSync(join(dir, 'img'));
  const g = new Generator(1);
  const shapes = ['disk', 'plus', 'cross', 'square'] as const;
  const rows = Array.from({ length: 12 }, (_, i) => {
    const file = join(dir, 'img', `${i}.png`);
    writeFileSync(file, encodePng(data.drawShape(shapes[i % 4]!, g)));
    return `${file}\t${shapes[i % 4]}`;
  });
  writeFileSync(join(dir, 'img.tsv'), rows.join('\n') + '\n');
});

const cases: [string, string][] = [
  ['tag --train CoNLL-U', `train tag --train <(cat ud.conllu) --format conllu --out p-conllu ${tiny}`],
  ['tag --train and --dev, two-column CoNLL', `train tag --train <(cat two.conll) --dev <(head -c 400 two.conll) --format conll --out p-conll ${tiny}`],
  ['tag --train JSONL frames', `train tag --train <(cat frames.jsonl) --format frames --out p-frames ${tiny}`],
  ['tag --train JSONL graphs', `train tag --train <(cat graph.jsonl) --format graph --out p-graph ${tiny}`],
  ['classify --train TSV', `train classify --train <(cat sent.tsv) --format tsv --out p-tsv ${tiny}`],
  ['classify --train a WAV list', `train classify --train <(cat wav.tsv) --format wav --out p-wav ${tiny}`],
  ['classify --train an image list', `train classify --train <(cat img.tsv) --format image --out p-img ${tiny}`],
  ['seq2seq --train TSV pairs', `train seq2seq --train <(cat pairs.tsv) --out p-pairs --max-steps 2 --eval-every 2 --json`],
  ['lm --data', 'train lm --data <(cat text.txt) --out p-lm --block-size 8 --n-embd 8 --n-head 2 --n-layer 1 --max-iters 2 --eval-interval 2 --eval-iters 1 --batch-size 2 --json'],
  ['--config', `train tag --builtin ambiguity --n 40 --config <(cat config.json) --out p-config --d-model 8 --layers 1 --heads 2 --json`],
];

for (const [name, args] of cases) {
  test(`a pipe: ${name}`, () => {
    const r = sh(args);
    ok(r, name);
    const s = JSON.parse(r.stdout);
    assert.ok(s.steps >= 1 || s.iters >= 1 || s.best, `${name}: ${r.stdout.slice(0, 200)}`);
  });
}

test('a pipe: eval --data and predict --input on a model trained from a file', () => {
  ok(sh(`train tag --train ud.conllu --out from-file ${tiny}`), 'train');
  const e = sh('eval --model from-file --data <(cat ud.conllu) --format conllu --json');
  ok(e, 'eval from a pipe');
  assert.equal(JSON.parse(e.stdout).metrics.accuracy, JSON.parse(sh('eval --model from-file --data ud.conllu --json').stdout).metrics.accuracy);
  const p = sh('predict --model from-file --input <(cat sentences.txt)');
  ok(p, 'predict from a pipe');
  assert.equal(p.stdout, sh('predict --model from-file --input sentences.txt').stdout);
  assert.equal(p.stdout.split('\n').length, 4, 'one line per input line, the empty one kept');
});
