// `qkv train / eval / predict / info` end to end on small files in every input format, and
// clean one-line errors for bad input.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { failsWith, ok } from './expect.js';

const bin = fileURLToPath(new URL('../../cli/qkv.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'qkv-cli-'));
const run = (args: string[], input?: string) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', input, cwd: dir });
const file = (name: string, text: string) => { const p = join(dir, name); writeFileSync(p, text); return p; };
const small = ['--max-steps', '6', '--eval-every', '3', '--d-model', '8', '--layers', '1', '--heads', '2', '--batch-size', '4', '--json'];

const conllu = ['# sent_id = 1', '1\tI\tI\tPRON\tPRP\t_\t2\tnsubj\t_\t_', '2\tsaw\tsee\tVERB\tVBD\t_\t0\troot\t_\t_', '3\ta\ta\tDET\tDT\t_\t4\tdet\t_\t_', '4\tsaw\tsaw\tNOUN\tNN\t_\t2\tobj\t_\t_', ''].join('\n');
const sentences = (n: number) => Array.from({ length: n }, () => conllu).join('\n');

test('tag: CoNLL-U (UPOS and XPOS), train, eval with per-tag table, predict, info', () => {
  const train = file('train.conllu', sentences(6));
  const out = join(dir, 'tag-run');
  const r = run(['train', 'tag', '--train', train, '--out', out, ...small]);
  ok(r, 'train');
  const summary = JSON.parse(r.stdout);
  assert.equal(summary.task, 'tag');
  assert.equal(summary.steps, 6);
  assert.ok(summary.positionsPerSecond > 0 && summary.seconds > 0);
  assert.ok('accuracy' in summary.metrics);
  const ev = run(['eval', '--model', out, '--data', train, '--json']);
  ok(ev, 'eval');
  const m = JSON.parse(ev.stdout);
  assert.deepEqual(m.perTag.map((t: { label: string }) => t.label), ['DET', 'NOUN', 'PRON', 'VERB']);
  assert.equal(run(['eval', '--model', out, '--data', train]).stdout.split('\n').filter((l) => /^(DET|NOUN|PRON|VERB) /.test(l)).length, 4);
  const p = run(['predict', '--model', out], 'I saw a saw\nthe sawing\n');
  ok(p, 'predict');
  assert.match(p.stdout.split('\n')[0]!, /^I\/\w+ saw\/\w+ a\/\w+ saw\/\w+$/);
  assert.match(p.stdout.split('\n')[1]!, /^the\/\w+ sawing\/\w+$/, 'unseen words get a tag');
  const pj = run(['predict', '--model', out, '--json'], 'I saw\n');
  assert.deepEqual(Object.keys(JSON.parse(pj.stdout.trim())), ['tokens', 'tags']);
  const info = run(['info', out, '--json']);
  ok(info, 'info');
  assert.equal(JSON.parse(info.stdout).task, 'tag');
  ok(run(['train', 'tag', '--train', train, '--column', 'xpos', '--out', join(dir, 'xpos-run'), ...small]), 'xpos');
  // --resume continues the run; without it an existing run is refused
  failsWith(run(['train', 'tag', '--train', train, '--out', out, ...small]), /already holds a run; pass --resume/);
  const resumed = run(['train', 'tag', '--train', train, '--out', out, '--resume', ...small.map((a) => (a === '6' ? '9' : a))]);
  ok(resumed, 'resume');
  assert.equal(JSON.parse(resumed.stdout).steps, 3);
});

test('tag: two-column CoNLL, JSONL frames, JSONL graphs; classify: TSV and frames; --config', () => {
  const conll = file('train.conll', Array.from({ length: 5 }, () => 'I PRON\nsaw VERB\na DET\nsaw NOUN\n').join('\n'));
  ok(run(['train', 'tag', '--train', conll, '--out', join(dir, 'conll'), ...small]), 'conll');
  const frames = file('frames.jsonl', Array.from({ length: 6 }, (_, i) => JSON.stringify({ frames: [[i, 1], [0, 1], [1, 0]], labels: ['a', 'b', 'a'] })).join('\n'));
  const fr = join(dir, 'frames');
  ok(run(['train', 'tag', '--train', frames, '--out', fr, '--model', 'cnn', ...small]), 'frames');
  assert.match(run(['predict', '--model', fr], '{"frames": [[1, 1], [0, 2]]}\n').stdout, /^[ab] [ab]\n$/);
  const graph = file('graph.jsonl', Array.from({ length: 6 }, () => JSON.stringify({ nodes: [[1, 0], [0, 1], [1, 1]], edges: [[0, 1], [1, 2]], labels: ['x', 'y', 'x'] })).join('\n'));
  ok(run(['train', 'tag', '--train', graph, '--out', join(dir, 'graph'), ...small]), 'graph');
  const tsv = file('train.tsv', Array.from({ length: 8 }, (_, i) => (i % 2 ? 'a fine film\tpos' : 'a dull film\tneg')).join('\n'));
  const cl = join(dir, 'classify');
  ok(run(['train', 'classify', '--train', tsv, '--out', cl, '--model', 'rnn', ...small]), 'classify tsv');
  assert.match(run(['predict', '--model', cl], 'a fine film\n').stdout, /^(pos|neg)\n$/);
  const cframes = file('cframes.jsonl', Array.from({ length: 6 }, (_, i) => JSON.stringify({ frames: [[i, 0], [1, 1]], label: i % 2 ? 'p' : 'q' })).join('\n'));
  ok(run(['train', 'classify', '--train', cframes, '--out', join(dir, 'cframes'), '--model', 'fc', ...small]), 'classify frames');
  const config = file('config.json', JSON.stringify({ 'max-steps': 2, evalEvery: 1, 'd-model': 8, layers: 1, heads: 2, model: 'fc' }));
  const c = run(['train', 'classify', '--train', tsv, '--out', join(dir, 'cfg'), '--config', config, '--max-steps', '3', '--json']);
  ok(c, 'config');
  assert.equal(JSON.parse(c.stdout).steps, 3, 'the flag wins over the config file');
});

test('bad input: one clear line, non-zero exit, no stack trace', () => {
  const out = join(dir, 'bad');
  failsWith(run(['train', 'tag', '--train', file('bad.conllu', '1\tI\tPRON\n'), '--out', out]), /bad\.conllu:1: expected 10 tab-separated fields, found 3/);
  failsWith(run(['train', 'classify', '--train', file('bad.tsv', 'good\tpos\nno tab here\n'), '--out', out]), /bad\.tsv:2: no tab: expected text<TAB>label/);
  failsWith(run(['train', 'tag', '--train', file('empty.conllu', ''), '--out', out]), /empty\.conllu: file is empty/);
  failsWith(run(['train', 'tag', '--train', join(dir, 'missing.conllu'), '--out', out]), /missing\.conllu: file not found/);
  failsWith(run(['train', 'tag', '--builtin', 'ambiguity', '--out', out, '--bogus']), /unknown option '--bogus'/);
  failsWith(run(['train', 'tag', '--builtin', 'ambiguity', '--out', out, '--model', 'mlp']), /argument 'mlp' is invalid. Allowed choices are fc, window-fc, cnn, rnn, transformer/);
  failsWith(run(['train', 'tag', '--builtin', 'ambiguity', '--out', out, '--lr', 'fast']), /--lr must be a number/);
  failsWith(run(['train', 'tag', '--builtin', 'reverse', '--out', out]), /--builtin reverse is a seq2seq set, not for tag/);
  failsWith(run(['train', 'tag', '--out', out]), /give --train FILE \(or --builtin NAME\)/);
  failsWith(run(['train', 'tag', '--builtin', 'ambiguity', '--out', out, '--config', file('c.json', '{"nope": 1}')]), /--config .*c\.json: unknown option "nope"/);
  // a checkpoint from another task
  failsWith(run(['eval', '--model', join(dir, 'classify'), '--data', file('x.conllu', conllu)]), /format conllu does not fit the classify task/);
  failsWith(run(['train', 'classify', '--train', file('t2.tsv', 'a\tb\nc\td\n'), '--out', join(dir, 'tag-run'), '--resume', ...small]), /is a tag run, not classify/);
  failsWith(run(['predict', '--model', join(dir, 'nothing-here')], ''), /nothing-here: no such directory/);
  failsWith(run(['predict', '--model', join(dir, 'frames')], 'not json\n'), /<stdin>:1: not valid JSON/);
});

test('a model or input flag nothing reads is named on stderr, from the command line or --config; the defaults say nothing', () => {
  const base = ['train', 'tag', '--builtin', 'ambiguity', '--n', '20', ...small];
  const fc = run([...base, '--model', 'fc', '--cell', 'gru', '--patch', '8', '--out', join(dir, 'ignored-fc')]);
  ok(fc, 'fc with --cell');
  const lines = fc.stderr.split('\n').filter((l) => l.includes('is ignored'));
  assert.deepEqual(lines, [
    'qkv: --heads is ignored: it applies only to --model transformer, and this run trains --model fc on text input',
    'qkv: --cell is ignored: it applies only to --model rnn, and this run trains --model fc on text input',
    'qkv: --patch is ignored: it applies only to image input with --model transformer, and this run trains --model fc on text input',
  ]);
  const viaConfig = run([...base, '--model', 'rnn', '--config', file('ignored.json', '{"window": 3}'), '--out', join(dir, 'ignored-config')]);
  ok(viaConfig, 'rnn with window in --config');
  assert.match(viaConfig.stderr, /qkv: --window is ignored: it applies only to --model transformer on sequences/);
  const plain = run([...base, '--out', join(dir, 'ignored-none')]);
  ok(plain, 'defaults');
  assert.doesNotMatch(plain.stderr, /is ignored/);
});
