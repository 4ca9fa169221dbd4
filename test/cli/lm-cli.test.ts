// `qkv train lm`, `qkv generate`, and `qkv eval` of a language model end to end on a small
// synthetic text; one-line errors for a missing --data, an unknown flag, generate on a tag
// model, and predict on a language model.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { syntheticText } from '../tasks/lm-text.js';
import { failsWith, ok } from './expect.js';

const bin = fileURLToPath(new URL('../../cli/qkv.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'qkv-lm-cli-'));
const run = (args: string[], input?: string) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', input: input ?? '', cwd: dir });
const text = syntheticText(6000, 7);
const data = join(dir, 'small.txt');
writeFileSync(data, text);
const out = join(dir, 'lm-run');
const model = ['--n-layer', '1', '--n-head', '2', '--n-embd', '32', '--block-size', '32', '--batch-size', '8', '--eval-iters', '5', '--lr', '1e-2', '--warmup-iters', '5'];

test('qkv train lm: JSON summary, checkpoints, a falling val loss; --resume continues', () => {
  const r = run(['train', 'lm', '--data', data, '--max-iters', '30', '--eval-interval', '10', '--out', out, '--json', ...model]);
  ok(r, 'train');
  const s = JSON.parse(r.stdout);
  assert.equal(s.task, 'lm');
  assert.equal(s.steps, 30);
  assert.equal(s.best.metric, 'valLoss');
  const V = new Set(text).size;
  assert.ok(s.metrics.valLoss < Math.log(V) - 0.8, `val loss ${s.metrics.valLoss} vs ln(${V}) = ${Math.log(V)}`);
  assert.ok(Math.abs(s.metrics.valPerplexity - Math.exp(s.metrics.valLoss)) < 1e-6);
  const evals = readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.type === 'eval');
  assert.deepEqual(evals.map((e) => e.step), [10, 20, 30]);
  const config = JSON.parse(readFileSync(join(out, 'best', 'config.json'), 'utf8'));
  assert.deepEqual(config.model, { blockSize: 32, nLayer: 1, nHead: 2, nEmbd: 32, dropout: 0, bias: false, attention: 'softmax', vocabSize: V });
  assert.equal(config.training.beta2, 0.99);
  assert.equal(config.training.decaySteps, 30, '--lr-decay-iters defaults to --max-iters');
  failsWith(run(['train', 'lm', '--data', data, '--max-iters', '30', '--out', out, ...model]), /already holds a run; pass --resume/);
  const resumed = run(['train', 'lm', '--data', data, '--max-iters', '40', '--eval-interval', '10', '--out', out, '--json', '--resume', ...model]);
  ok(resumed, 'resume');
  assert.equal(JSON.parse(resumed.stdout).steps, 10);
});

test('qkv generate: the prompt plus N characters, deterministic for a seed, cached = uncached', () => {
  const g = run(['generate', '--model', out, '--max-new-tokens', '50', '--seed', '1', '--prompt', 'the ']);
  ok(g, 'generate');
  assert.ok(g.stdout.startsWith('the '));
  assert.equal(g.stdout.length, 4 + 50 + 1, JSON.stringify(g.stdout));
  for (const c of g.stdout.slice(4, -1)) assert.ok(text.includes(c), `character ${JSON.stringify(c)} comes from the training text`);
  assert.equal(run(['generate', '--model', out, '--max-new-tokens', '50', '--seed', '1', '--prompt', 'the ']).stdout, g.stdout);
  assert.notEqual(run(['generate', '--model', out, '--max-new-tokens', '50', '--seed', '2', '--prompt', 'the ']).stdout, g.stdout);
  // default prompt "\n" (nanoGPT's sample.py); 100 tokens run past the block size of 32
  const d = run(['generate', '--model', out, '--max-new-tokens', '100', '--seed', '1']);
  ok(d, 'default prompt');
  assert.equal(d.stdout.length, 1 + 100 + 1);
  assert.ok(d.stdout.startsWith('\n'));
  const greedy = ['generate', '--model', out, '--max-new-tokens', '80', '--temperature', '0', '--prompt', 'a dog'];
  assert.equal(run([...greedy, '--no-cache']).stdout, run(greedy).stdout);
  const j = run(['generate', '--model', out, '--max-new-tokens', '20', '--num-samples', '2', '--json', '--top-p', '0.9']);
  ok(j, 'json');
  const js = JSON.parse(j.stdout);
  assert.equal(js.samples.length, 2);
  assert.ok(js.samples.every((t: string) => t.length === 20));
});

test('qkv eval of a language model: loss and perplexity of a whole text', () => {
  const r = run(['eval', '--model', out, '--data', data, '--json']);
  ok(r, 'eval');
  const m = JSON.parse(r.stdout).metrics;
  assert.equal(m.tokens, text.length - 1);
  assert.ok(m.loss > 0 && m.loss < Math.log(new Set(text).size));
  assert.ok(Math.abs(m.perplexity - Math.exp(m.loss)) < 1e-9);
  const plain = run(['eval', '--model', out, '--data', data]);
  ok(plain, 'eval (text)');
  assert.match(plain.stdout, /\(1 text, \d+ tokens, [\d.]+ s\)/);
  failsWith(run(['eval', '--model', out, '--data', writeText('other.txt', 'XYZ unknown')]), /character "X".*not in the model's vocabulary/);
});

function writeText(name: string, t: string): string {
  const p = join(dir, name);
  writeFileSync(p, t);
  return p;
}

test('one-line errors: no --data, unknown flag, predict on an lm, generate on a tag model', () => {
  failsWith(run(['train', 'lm', '--out', join(dir, 'x')]), /^qkv: give --data FILE/);
  failsWith(run(['train', 'lm', '--data', data, '--bogus']), /^error: unknown option '--bogus'/);
  failsWith(run(['train', 'lm', '--data', data, '--n-embd', '30', '--n-head', '4', '--out', join(dir, 'y')]), /--n-embd 30 must be a multiple of --n-head 4/);
  failsWith(run(['generate', '--model', out, '--top-k', '0']), /^error: .*--top-k must be an integer >= 1/);
  failsWith(run(['predict', '--model', out], 'the cat\n'), /^qkv: predict does not run language models; .*qkv generate/);
  const tag = join(dir, 'tag-run');
  ok(run(['train', 'tag', '--builtin', 'ambiguity', '--max-steps', '2', '--eval-every', '2', '--d-model', '8', '--layers', '1', '--heads', '2', '--out', tag, '--json']), 'tag');
  failsWith(run(['generate', '--model', tag]), /this is a tag model; qkv generate needs a language model/);
  failsWith(run(['generate', '--model', join(dir, 'nothing')]), /no such directory/);
});
