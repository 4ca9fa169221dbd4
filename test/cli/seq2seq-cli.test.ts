// `qkv train seq2seq`, then `qkv eval` and `qkv predict` (greedy and --beam, text and --json)
// on a tiny TSV of pairs; bad data and bad flags are one line on stderr, no stack trace.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';

const bin = fileURLToPath(new URL('../../cli/qkv.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'qkv-seq2seq-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const run = (args: string[], input?: string) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir, input });

const rows = ['abc\tcba', 'hello\tolleh', 'xyz\tzyx', 'qkv\tvkq', 'ab\tba', 'test\ttset', 'attention\tnoitnetta', 'decoder\tredoced'];
writeFileSync(join(dir, 'small.tsv'), rows.join('\n') + '\n');
writeFileSync(join(dir, 'words.tsv'), 'the cat sat\tsat cat the\na dog ran\tran dog a\nthe dog sat\tsat dog the\n');
writeFileSync(join(dir, 'bad.tsv'), 'abc\tcba\nno tab here\n');
const small = ['--d-model', '16', '--heads', '2', '--layers', '1', '--seed', '1'];

function oneLineError(r: ReturnType<typeof run>, pattern: RegExp): void {
  assert.notEqual(r.status, 0);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  // commander adds its usage hint on a second line to flag errors
  const lines = r.stderr.trim().split('\n').filter((l) => !/^\(add --help for usage\)$/.test(l));
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, pattern);
}

test('train seq2seq on a TSV, then eval and predict (greedy, beam, json)', () => {
  const tr = run(['train', 'seq2seq', '--train', 'small.tsv', '--out', 'run', '--max-steps', '20', '--eval-every', '10', '--json', ...small]);
  assert.equal(tr.status, 0, tr.stderr);
  const summary = JSON.parse(tr.stdout) as { task: string; steps: number; metrics: Record<string, number>; best: { metric: string } };
  assert.equal(summary.task, 'seq2seq');
  assert.equal(summary.steps, 20);
  assert.equal(summary.best.metric, 'exactMatch');
  for (const k of ['exactMatch', 'tokenAccuracy', 'bleu', 'chrF']) assert.equal(typeof summary.metrics[k], 'number', k);

  const ev = run(['eval', '--model', 'run', '--data', 'small.tsv', '--json']);
  assert.equal(ev.status, 0, ev.stderr);
  const e = JSON.parse(ev.stdout) as { task: string; examples: number; metrics: Record<string, number> };
  assert.equal(e.task, 'seq2seq');
  assert.equal(e.examples, rows.length);
  assert.ok(e.metrics.exactMatch! >= 0 && e.metrics.exactMatch! <= 1);
  assert.match(run(['eval', '--model', 'run', '--data', 'small.tsv']).stdout, /exactMatch .* bleu .* chrF/);

  const input = 'abc\nhello\n\nxyz\n';
  const greedy = run(['predict', '--model', 'run'], input);
  assert.equal(greedy.status, 0, greedy.stderr);
  assert.equal(greedy.stdout.split('\n').length - 1, 4); // one line per input line, the empty one empty
  assert.equal(greedy.stdout.split('\n')[2], '');
  for (const beam of ['1', '3']) {
    const p = run(['predict', '--model', 'run', '--json', '--beam', beam], input);
    assert.equal(p.status, 0, p.stderr);
    const all = p.stdout.trim().split('\n').map((l) => JSON.parse(l) as { source: string; output: string } | null);
    assert.equal(all[2], null);
    const outs = all.filter((o) => o !== null);
    assert.deepEqual(outs.map((o) => o.source), ['abc', 'hello', 'xyz']);
    for (const o of outs) assert.equal(typeof o.output, 'string');
    if (beam === '1') assert.deepEqual(outs.map((o) => o.output), greedy.stdout.split('\n').slice(0, -1).filter((_l, i) => i !== 2)); // beam 1 = greedy
  }
  oneLineError(run(['predict', '--model', 'run', '--beam', '0'], input), /--beam/);
});

test('train seq2seq with --tokenize words: outputs are words joined by spaces', () => {
  const tr = run(['train', 'seq2seq', '--train', 'words.tsv', '--dev', 'words.tsv', '--tokenize', 'words', '--out', 'wrun', '--max-steps', '5', '--json', ...small]);
  assert.equal(tr.status, 0, tr.stderr);
  const ev = run(['eval', '--model', 'wrun', '--data', 'words.tsv', '--json']);
  assert.equal(ev.status, 0, ev.stderr);
  const p = run(['predict', '--model', 'wrun', '--json'], 'the cat ran\n');
  assert.equal(p.status, 0, p.stderr);
  const o = JSON.parse(p.stdout) as { source: string; output: string };
  assert.equal(o.source, 'the cat ran');
  assert.ok(o.output === '' || o.output.split(' ').every((w) => ['the', 'cat', 'sat', 'a', 'dog', 'ran', '<unk>'].includes(w)), o.output);
});

test('a TSV row without a tab, and bad flags: one line, non-zero exit, no stack trace', () => {
  oneLineError(run(['train', 'seq2seq', '--train', 'bad.tsv', '--out', 'bad', '--max-steps', '2']), /bad\.tsv:2: .*tab/);
  oneLineError(run(['train', 'seq2seq', '--builtin', 'reverse', '--train', 'small.tsv', '--out', 'x']), /--train or --builtin/);
  oneLineError(run(['train', 'seq2seq', '--builtin', 'reverse', '--d-model', '30', '--heads', '4', '--out', 'x']), /--heads/);
  oneLineError(run(['train', 'seq2seq', '--builtin', 'ambiguity', '--out', 'x']), /--builtin/);
});
