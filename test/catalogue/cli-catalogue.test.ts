// The bad-input catalogue of the `qkv` command: every case must exit non-zero with one line on
// stderr (at most 300 characters, plus commander's usage hint for flag errors) that names the
// flag, file or path, no stack trace, and every file that existed before left as it was.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { changed, runCli, snapshot } from './run-cli.js';

const D = mkdtempSync(join(tmpdir(), 'qkv-catalogue-'));
const p = (...parts: string[]) => join(D, ...parts);
const w = (name: string, text: string): string => { writeFileSync(p(name), text); return p(name); };
const tiny = ['--max-steps', '1', '--eval-every', '1', '--batch-size', '4', '--layers', '1', '--d-model', '8', '--heads', '2'];

before(async () => {
  // three small trained models: words, frames, and a character language model
  const lines = Array.from({ length: 40 }, (_, i) => `the cat number ${i} sat on a mat and saw a dog`).join('\n') + '\n';
  w('text.txt', lines);
  for (const [name, args] of [
    ['tag', ['train', 'tag', '--builtin', 'ambiguity', '--n', '20', ...tiny]],
    ['speech', ['train', 'tag', '--builtin', 'speech', '--n', '20', ...tiny]],
    ['lm', ['train', 'lm', '--data', p('text.txt'), '--block-size', '8', '--n-embd', '8', '--n-head', '2', '--n-layer', '1', '--max-iters', '1',
      '--eval-interval', '1', '--eval-iters', '1', '--batch-size', '2']],
  ] as const) {
    const r = await runCli([...args, '--out', p(name), '--json']);
    assert.equal(r.code, 0, `${name}: ${r.stderr}`);
  }
  w('afile', 'not a directory\n');
  w('ok.conllu', '1\tI\t_\tPRON\t_\t_\t_\t_\t_\t_\n2\tsaw\t_\tVERB\t_\t_\t_\t_\t_\t_\n\n');
  // damaged copies of a checkpoint
  for (const [name, damage] of [
    ['no-model', (d: string) => rmSync(join(d, 'model.safetensors'))],
    ['model-dir', (d: string) => { rmSync(join(d, 'model.safetensors')); mkdirSync(join(d, 'model.safetensors')); }],
    ['model-short', (d: string) => writeFileSync(join(d, 'model.safetensors'), Buffer.from([1, 2, 3]))],
    ['config-bad', (d: string) => writeFileSync(join(d, 'config.json'), '{"task": ')],
    ['config-array', (d: string) => writeFileSync(join(d, 'config.json'), '[]')],
    ['no-marker', (d: string) => rmSync(join(d, 'COMPLETE'))],
  ] as const) {
    await copyCheckpoint(p('tag', 'best'), p(name));
    damage(p(name));
  }
  for (const [name, edit] of [
    ['config-no-model', (c: Record<string, unknown>) => { delete c.model; }],
    ['config-other-format', (c: Record<string, unknown>) => { c.format = 'something'; }],
    ['config-bad-vocab', (c: Record<string, unknown>) => { c.featurizer = { kind: 'tokens', words: 7 }; }],
  ] as const) {
    await copyCheckpoint(p('tag', 'best'), p(name));
    const c = JSON.parse((await import('node:fs')).readFileSync(p(name, 'config.json'), 'utf8')) as Record<string, unknown>;
    edit(c);
    writeFileSync(p(name, 'config.json'), JSON.stringify(c));
  }
  // runs whose last checkpoint cannot be resumed
  for (const [name, trainer] of [['resume-truncated', '{"state": {"st'], ['resume-empty', '{}'], ['resume-bad-step', '{"state": {"step": -1}}']] as const) {
    await copyCheckpoint(p('tag', 'last'), p(name, 'last'));
    writeFileSync(p(name, 'last', 'trainer.json'), trainer);
  }
  await copyCheckpoint(p('tag', 'best'), p('resume-no-trainer', 'last'));
});

after(() => rmSync(D, { recursive: true, force: true }));

async function copyCheckpoint(from: string, to: string): Promise<void> {
  const { cpSync } = await import('node:fs');
  cpSync(from, to, { recursive: true });
}

interface Case {
  args: () => string[];
  /** What the one line must say. */
  says: RegExp;
  setup?: () => void;
}

const cases: [string, Case][] = [];
const add = (name: string, args: () => string[], says: RegExp, setup?: () => void) => cases.push([name, { args, says, setup }]);

// ---- flags of every training command: each bad value names its flag (on the command line and in --config)
const trainTag = () => ['train', 'tag', '--builtin', 'ambiguity', '--out', p('never')];
const flagCases: [string, string, RegExp][] = [
  ['--lr', 'abc', /--lr/], ['--lr', '-1', /--lr/], ['--min-lr', 'x', /--min-lr/], ['--warmup', '-5', /--warmup/], ['--warmup', '1.5', /--warmup/],
  ['--decay-steps', '0', /--decay-steps/], ['--max-steps', '0', /--max-steps/], ['--max-steps', '1e3', /--max-steps/], ['--batch-size', '0', /--batch-size/],
  ['--accumulate', '0', /--accumulate/], ['--clip', '-1', /--clip/], ['--weight-decay', '-0.5', /--weight-decay/], ['--beta2', '1', /--beta2/],
  ['--label-smoothing', '1.5', /--label-smoothing/], ['--eval-every', '0', /--eval-every/], ['--seed', '-1', /--seed/], ['--seed', 'x', /--seed/],
  ['--d-model', '1', /--d-model/], ['--layers', '0', /--layers/], ['--heads', '0', /--heads/], ['--dropout', '2', /--dropout/], ['--dropout', 'NaN', /--dropout/],
  ['--window', '-1', /--window/], ['--kernel', '0', /--kernel/], ['--word-dropout', '-0.1', /--word-dropout/], ['--n', '5', /--n/],
  ['--optimizer', 'lbfgs', /--optimizer|lbfgs/], ['--schedule', 'step', /--schedule|step/], ['--model', 'mlp', /--model|mlp/], ['--attention', 'sparse', /--attention|sparse/],
  ['--pos', 'alibi', /--pos|alibi/], ['--format', 'xml', /--format|xml/], ['--column', 'lemma', /--column|lemma/], ['--cell', 'rnn', /--cell|rnn/],
];
for (const [flag, value, says] of flagCases) {
  add(`train tag ${flag} ${value}`, () => [...trainTag(), flag, value], says);
  add(`train tag --config {"${flag.slice(2)}": ${value}}`, () => {
    // numbers as JSON numbers, the rest as strings ("1e3" stays a string: as a number it would be a valid 1000)
    const json = JSON.stringify({ [flag.slice(2)]: /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value });
    return [...trainTag(), '--config', w(`config${flag}${value}.json`, json)];
  }, new RegExp(`--config .*${flag.slice(2)}`));
}
const lmFlags: [string, string][] = [
  ['--block-size', '0'], ['--n-layer', '0'], ['--n-head', '0'], ['--n-embd', '0'], ['--max-iters', '0'], ['--eval-iters', '0'], ['--eval-interval', '-2'],
  ['--beta1', '1'], ['--tokenize', 'bytes'], ['--attention', 'sparse'], ['--warmup-iters', 'x'], ['--lr-decay-iters', '0'],
];
for (const [flag, value] of lmFlags) add(`train lm ${flag} ${value}`, () => ['train', 'lm', '--data', p('text.txt'), '--out', p('never'), flag, value], new RegExp(flag));
const s2sFlags: [string, string][] = [['--ff', '0'], ['--builtin', 'shuffle'], ['--tokenize', 'bytes'], ['--d-model', 'big']];
for (const [flag, value] of s2sFlags) add(`train seq2seq ${flag} ${value}`, () => ['train', 'seq2seq', '--out', p('never'), flag, value], new RegExp(`${flag}|${value}`));
const genFlags: [string, string][] = [['--max-new-tokens', '-1'], ['--temperature', '-1'], ['--top-k', '0'], ['--top-p', '0'], ['--top-p', '2'], ['--num-samples', '0'], ['--seed', '1.5']];
for (const [flag, value] of genFlags) add(`generate ${flag} ${value}`, () => ['generate', '--model', p('lm'), flag, value], new RegExp(flag));
add('predict --beam 0', () => ['predict', '--model', p('tag'), '--beam', '0'], /--beam/);
add('--threads 0', () => ['--threads', '0', 'info', p('tag')], /--threads/);
add('--backend gpu', () => ['--backend', 'gpu', 'info', p('tag')], /--backend/);
add('unknown command', () => ['fly'], /unknown command|fly/);
add('unknown flag', () => ['train', 'tag', '--out', p('never'), '--learning-rate', '1'], /unknown option|--learning-rate/);
// commander would say "--out not specified" first; the typo is what the user needs to see
add('unknown flag, --out missing too', () => ['train', 'tag', '--builtin', 'ambiguity', '--learning-rate', '1'], /unknown option '--learning-rate'/);
add('--out missing', () => ['train', 'tag', '--builtin', 'ambiguity'], /required option '--out <dir>' not specified/);
add('train without a task', () => ['train', 'dance'], /unknown command|dance/);
add('eval without --data', () => ['eval', '--model', p('tag')], /--data/);
add('predict without --model', () => ['predict'], /--model/);
add('train tag without --out', () => ['train', 'tag', '--builtin', 'ambiguity'], /--out/);

// ---- model flags that only fail together: the message names the flags, not a module inside
add('--heads 3 with rope', () => [...trainTag(), '--heads', '3', '--d-model', '9'], /--pos rope.*--d-model 9.*--heads 3/);
add('--heads not dividing --d-model', () => [...trainTag(), '--heads', '3', '--d-model', '8'], /--heads 3 must divide --d-model 8/);
add('--kernel 2 for cnn', () => [...trainTag(), '--model', 'cnn', '--kernel', '2'], /--kernel/);
add('--model rnn with odd --d-model', () => [...trainTag(), '--model', 'rnn', '--d-model', '5'], /--d-model/);
add('seq2seq --heads not dividing', () => ['train', 'seq2seq', '--builtin', 'reverse', '--out', p('never'), '--heads', '5'], /--heads 5/);
add('--n-embd not a multiple of --n-head', () => ['train', 'lm', '--data', p('text.txt'), '--out', p('never'), '--n-embd', '10', '--n-head', '4'], /--n-embd 10.*--n-head 4/);
add('--n-embd 1000000000', () => ['train', 'lm', '--data', p('text.txt'), '--out', p('never'), '--n-embd', '1000000000', '--n-head', '1'], /--n-embd 1000000000.*needs about/);
add('--d-model 100000 --layers 100', () => [...trainTag(), '--d-model', '100000', '--heads', '2', '--layers', '100'], /--d-model 100000.*needs about/);
add('--block-size 100000000', () => ['train', 'lm', '--data', p('text.txt'), '--out', p('never'), '--block-size', '100000000'], /--block-size|block size/);
add('--builtin and --train', () => [...trainTag(), '--train', p('ok.conllu')], /--train or --builtin/);
add('neither --builtin nor --train', () => ['train', 'tag', '--out', p('never')], /--train/);
add('--builtin of another task', () => ['train', 'tag', '--builtin', 'reverse', '--out', p('never')], /reverse/);
add('--builtin unknown', () => ['train', 'tag', '--builtin', 'nope', '--out', p('never')], /nope/);
add('lm without --data', () => ['train', 'lm', '--out', p('never')], /--data/);

// ---- --config files
add('--config missing', () => [...trainTag(), '--config', p('nope.json')], /--config .*nope\.json/);
add('--config not JSON', () => [...trainTag(), '--config', w('c-bad.json', '{lr: 1')], /--config .*c-bad\.json/);
add('--config an array', () => [...trainTag(), '--config', w('c-arr.json', '[1]')], /--config .*JSON object/);
add('--config unknown key', () => [...trainTag(), '--config', w('c-key.json', '{"learning_rate": 1}')], /unknown option "learning_rate"/);
add('--config null value', () => [...trainTag(), '--config', w('c-null.json', '{"warmup": null}')], /"warmup"/);
add('--config string for a switch', () => [...trainTag(), '--config', w('c-sw.json', '{"json": "yes"}')], /"json" must be true or false/);
add('--config object value', () => [...trainTag(), '--config', w('c-obj.json', '{"lr": {"x": 1}}')], /"lr"/);
add('--config is a directory', () => [...trainTag(), '--config', D], /--config/);
add('--config names itself', () => [...trainTag(), '--config', w('c-self.json', '{"config": "x.json"}')], /unknown option "config"/);

// ---- the file system
add('--out names a file', () => ['train', 'tag', '--builtin', 'ambiguity', '--out', p('afile')], /--out .*afile: is a file/);
add('--out under a file', () => ['train', 'tag', '--builtin', 'ambiguity', '--out', p('afile', 'sub')], /--out .*afile\/sub/);
add('--out holds a run', () => ['train', 'tag', '--builtin', 'ambiguity', '--out', p('tag')], /already holds a run/);
add('demo --out names a file', () => ['demo', '--out', p('afile')], /--out .*afile/);
// root writes anywhere: the permission case runs for other users only
if (process.getuid?.() !== 0) add('--out not writable', () => ['train', 'tag', '--builtin', 'ambiguity', '--out', p('locked', 'run')], /--out .*locked/, () => {
  mkdirSync(p('locked'), { recursive: true });
  chmodSync(p('locked'), 0o500);
});
add('--model names a file', () => ['predict', '--model', p('afile'), '--input', p('afile')], /afile: is a file/);
add('--model missing', () => ['eval', '--model', p('nope'), '--data', p('ok.conllu')], /nope: no such directory/);
add('--model an empty directory', () => ['info', D + '/locked-empty'], /not a qkv model|no such/, () => mkdirSync(p('locked-empty'), { recursive: true }));
add('--model without model.safetensors', () => ['info', p('no-model')], /no-model\/model\.safetensors: is missing/);
add('model.safetensors is a directory', () => ['info', p('model-dir')], /model\.safetensors: is a directory/);
add('model.safetensors truncated', () => ['info', p('model-short')], /model\.safetensors/);
add('config.json truncated', () => ['info', p('config-bad')], /config\.json: not valid JSON/);
add('config.json an array', () => ['info', p('config-array')], /config\.json: must hold a JSON object/);
add('checkpoint without COMPLETE', () => ['info', p('no-marker')], /no-marker/);
add('config.json without "model"', () => ['predict', '--model', p('config-no-model'), '--input', p('text.txt')], /config\.json: no "model"/);
add('config.json of another format', () => ['predict', '--model', p('config-other-format'), '--input', p('text.txt')], /not a qkv checkpoint/);
add('config.json with a broken vocabulary', () => ['predict', '--model', p('config-bad-vocab'), '--input', p('text.txt')], /config\.json: cannot rebuild/);
add('--resume with truncated trainer.json', () => ['train', 'tag', '--builtin', 'ambiguity', ...tiny, '--out', p('resume-truncated'), '--resume'], /trainer\.json: not valid JSON/);
add('--resume with trainer.json {}', () => ['train', 'tag', '--builtin', 'ambiguity', ...tiny, '--out', p('resume-empty'), '--resume'], /trainer\.json: no "state"/);
add('--resume with a negative step', () => ['train', 'tag', '--builtin', 'ambiguity', ...tiny, '--out', p('resume-bad-step'), '--resume'], /trainer\.json: "state\.step"/);
add('--resume without trainer state', () => ['train', 'tag', '--builtin', 'ambiguity', ...tiny, '--out', p('resume-no-trainer'), '--resume'], /no optimizer or trainer state/);
add('--resume with nothing to resume', () => ['train', 'tag', '--builtin', 'ambiguity', '--out', p('empty-run'), '--resume'], /holds no checkpoint/);
add('--resume a run of another task', () => ['train', 'lm', '--data', p('text.txt'), '--out', p('tag'), '--resume'], /tag run, not lm/);
add('generate on a tagger', () => ['generate', '--model', p('tag')], /tag model.*language model/);
add('predict on a language model', () => ['predict', '--model', p('lm')], /qkv generate/);
add('--input missing', () => ['predict', '--model', p('tag'), '--input', p('nope.txt')], /nope\.txt: file not found/);
add('--input a directory', () => ['predict', '--model', p('tag'), '--input', D], /is a directory/);
add('--data missing', () => ['eval', '--model', p('tag'), '--data', p('nope.conllu')], /nope\.conllu: file not found/);
add('--train missing', () => ['train', 'tag', '--train', p('nope.conllu'), '--out', p('never')], /nope\.conllu: file not found/);
add('--data not UTF-8', () => ['train', 'lm', '--data', w('latin1.txt', '\xff\xfe\xfa'), '--out', p('never')], /latin1\.txt/, () => writeFileSync(p('latin1.txt'), Buffer.from([0x63, 0xff, 0xfe, 0x0a])));

// ---- data files: file:line and the reason
const data: [string, string, RegExp, string[]?][] = [
  ['few-fields.conllu', '1\tI\tPRON\n', /few-fields\.conllu:1: expected 10/],
  ['bad-id.conllu', 'x\tI\t_\tPRON\t_\t_\t_\t_\t_\t_\n', /bad-id\.conllu:1/],
  ['empty.conllu', '', /empty\.conllu: file is empty/],
  ['blank.conllu', '\n\n\n', /blank\.conllu: (file is empty|no )/],
  ['no-tag.conllu', '1\tI\t_\t_\t_\t_\t_\t_\t_\t_\n\n', /no-tag\.conllu:1/],
  ['one-col.conll', 'I\nsaw PRON\n', /one-col\.conll:1/],
  ['no-tab.tsv', 'great movie\n', /no-tab\.tsv:1: no tab/, ['classify']],
  ['empty-label.tsv', 'great movie\t\n', /empty-label\.tsv:1/, ['classify']],
  ['bad.jsonl', '{"frames": [[1, 2]], "labels": ["a"]}\nnot json\n', /bad\.jsonl:2: not valid JSON/],
  ['ragged.jsonl', '{"frames": [[1, 2], [3]], "labels": ["a", "b"]}\n', /ragged\.jsonl:1: frame 1 has 1 values/],
  ['strings.jsonl', '{"frames": [["a", 2]], "labels": ["a"]}\n', /strings\.jsonl:1: frame 0, value 0/],
  ['empty-frames.jsonl', '{"frames": [], "labels": []}\n', /empty-frames\.jsonl:1: "frames" is empty/],
  ['count.jsonl', '{"frames": [[1], [2]], "labels": ["a"]}\n', /count\.jsonl:1: 1 labels for 2 frames/],
  ['dims.jsonl', '{"frames": [[1, 2]], "labels": ["a"]}\n{"frames": [[1, 2, 3]], "labels": ["a"]}\n', /dims\.jsonl:2: frames have dimension 3/],
  ['edge-range.jsonl', '{"nodes": [[1], [2]], "edges": [[0, 2]], "labels": ["a", "b"]}\n', /edge-range\.jsonl:1: edge 0 \[0, 2\] is out of range/],
  ['edge-neg.jsonl', '{"nodes": [[1], [2]], "edges": [[-1, 0]], "labels": ["a", "b"]}\n', /edge-neg\.jsonl:1: edge 0/],
  ['edge-shape.jsonl', '{"nodes": [[1], [2]], "edges": [[0, 1, 1]], "labels": ["a", "b"]}\n', /edge-shape\.jsonl:1: edge 0 must be a pair/],
  ['no-edges.jsonl', '{"nodes": [[1]], "labels": ["a"]}\n{"nodes": [[1]], "edges": [], "labels": ["a"]}\n', /no-edges\.jsonl:1: no "edges"/, ['tag', '--format', 'graph']],
  ['both.jsonl', '{"frames": [[1]], "labels": ["a"], "label": "b"}\n', /both\.jsonl:1: has both/],
  ['nan.jsonl', '{"frames": [[1e999]], "labels": ["a"]}\n', /nan\.jsonl:1/],
  ['data.xyz', 'whatever\n', /data\.xyz: cannot tell the format/],
  ['wrong-format.tsv', 'a\tb\n', /wrong-format\.tsv: format tsv does not fit the tag task/],
];
for (const [file, text, says, extra] of data) {
  const task = extra?.[0] ?? 'tag';
  add(`train ${task} on ${file}`, () => ['train', task, '--train', w(file, text), '--out', p('never'), ...(extra?.slice(1) ?? [])], says);
}
add('eval on a file of another kind', () => ['eval', '--model', p('speech'), '--data', p('ok.conllu')], /ok\.conllu|frames|words/);
add('one example and no --dev', () => ['train', 'tag', '--train', p('ok.conllu'), '--out', p('never')], /ok\.conllu: needs at least 2 examples/);
add('lm text shorter than the block size', () => ['train', 'lm', '--data', w('short.txt', 'hello\n'), '--out', p('never'), '--block-size', '64'],
  /--data .*short\.txt: .*block size 64/);
add('lm empty text', () => ['train', 'lm', '--data', w('empty.txt', ''), '--out', p('never')], /empty\.txt/);
add('eval lm on a text with an unseen character', () => ['eval', '--model', p('lm'), '--data', w('unseen.txt', 'the cat\nsat on Z mat\n')],
  /unseen\.txt:2:8: .*"Z"/);
add('generate with an unseen prompt character', () => ['generate', '--model', p('lm'), '--prompt', 'QQ', '--max-new-tokens', '1'], /"Q"/);
add('viz a language model with an unseen prompt character', () => ['viz', '--model', p('lm'), '--export', p('never.html'), '--input', 'the Q'], /--input "the Q": .*"Q" .*at position 4/);
add('viz a language model with an empty prompt', () => ['viz', '--model', p('lm'), '--export', p('never.html'), '--input', ''], /--input "": the prompt is empty/);
add('viz more new tokens than the block size', () => ['viz', '--model', p('lm'), '--export', p('never.html'), '--input', 'the', '--max-new-tokens', '9'], /block size is 8: at most 6 new tokens/);
add('viz --seed without --temperature', () => ['viz', '--model', p('lm'), '--export', p('never.html'), '--input', 'the', '--seed', '3'], /--seed goes with --temperature > 0/);
add('viz --temperature on a tagger', () => ['viz', '--model', p('tag'), '--export', p('never.html'), '--temperature', '1'], /--temperature applies to lm and seq2seq models/);

// ---- predict reads inputs with the training readers' checks
const inputs: [string, string, RegExp][] = [
  ['string value', '{"frames": [["a", 1, 1, 1, 1, 1, 1, 1]]}\n', /:1: frame 0, value 0 is not a finite number/],
  ['ragged frames', '{"frames": [[1, 1, 1, 1, 1, 1, 1, 1], [1]]}\n', /:1: frame 1 has 1 values/],
  ['empty frames', '{"frames": []}\n', /:1: "frames" is empty/],
  ['wrong width', '{"frames": [[1, 2]]}\n', /:1: frames have 2 values each, but the model reads 8/],
  ['not JSON', '{"frames": [[1, 2\n', /:1: not valid JSON/],
  ['no frames', '{"labels": ["a"]}\n', /:1: "frames" or "nodes"/],
  ['edge out of range', `{"nodes": [${Array(2).fill('[1,1,1,1,1,1,1,1]').join(',')}], "edges": [[0, 5]]}\n`, /:1: edge 0 \[0, 5\] is out of range for 2 nodes/],
  ['negative edge', `{"nodes": [${Array(2).fill('[1,1,1,1,1,1,1,1]').join(',')}], "edges": [[-1, 0]]}\n`, /:1: edge 0/],
  ['fractional edge', `{"nodes": [${Array(2).fill('[1,1,1,1,1,1,1,1]').join(',')}], "edges": [[0.5, 1]]}\n`, /:1: edge 0 must be a pair of integer/],
  ['second line bad', '{"frames": [[1, 1, 1, 1, 1, 1, 1, 1]]}\n{"frames": [[1, 1]]}\n', /:2: /],
  ['only blank lines', '\n\n', /(: file is empty|: no input lines)/],
];
for (const [name, text, says] of inputs) {
  add(`predict frames: ${name}`, () => ['predict', '--model', p('speech'), '--input', w(`in-${name.replace(/ /g, '-')}.jsonl`, text)], new RegExp(`in-${name.replace(/ /g, '-')}\\.jsonl${says.source}`));
}
add('predict words: empty input', () => ['predict', '--model', p('tag'), '--input', w('in-empty.txt', '\n')], /in-empty\.txt: (file is empty|no input lines)/);

test(`the CLI catalogue has ${cases.length} cases`, () => assert.ok(cases.length >= 120, `${cases.length} cases`));

for (const [name, c] of cases) {
  test(`qkv: ${name}`, async () => {
    c.setup?.();
    const args = c.args();
    const before = snapshot(D);
    const r = await runCli(args);
    const lines = r.stderr.trim().split('\n');
    assert.notEqual(r.code, 0, `exit code 0 for ${args.join(' ')}; stdout:\n${r.stdout}`);
    assert.doesNotMatch(r.stderr, /\n\s+at /, `a stack trace:\n${r.stderr}`);
    assert.ok(lines.length === 1 || (lines.length === 2 && /--help for usage/.test(lines[1]!)), `one line, got:\n${r.stderr}`);
    assert.ok(lines[0]!.length <= 300 + 'error: '.length, `${lines[0]!.length} characters: ${lines[0]}`);
    assert.match(lines[0]!, c.says);
    assert.deepEqual(changed(before, snapshot(D)), [], 'files that existed are unchanged');
  });
}
