// `--resume` keeps the run's model: a model flag that differs from the run's is refused in one
// line naming each one; a training flag or a length that differs is named on stderr; the same
// flags (or none) resume without a word.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { failsWith, ok } from './expect.js';
import { syntheticText } from '../tasks/lm-text.js';

const bin = fileURLToPath(new URL('../../cli/qkv.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'qkv-resume-flags-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const run = (args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir });
const tag = ['train', 'tag', '--builtin', 'ambiguity', '--n', '200', '--out', 'amb', '--eval-every', '4', '--layers', '1', '--heads', '2'];

test('tag: changed model flags are refused, each named with the run\'s value', () => {
  ok(run([...tag, '--max-steps', '4', '--d-model', '16']), 'train');
  failsWith(run([...tag, '--resume', '--max-steps', '8', '--d-model', '32']), /^qkv: --resume: --d-model 32 \(the run has 16\): a resumed run keeps the model in amb\/last/);
  failsWith(run([...tag, '--resume', '--max-steps', '8', '--d-model', '16', '--attention', 'relu', '--tokenize', 'bpe']),
    /^qkv: --resume: --attention relu \(the run has softmax\), --tokenize bpe \(the run has words\): .*drop those flags/);
  writeFileSync(join(dir, 'wide.json'), JSON.stringify({ 'd-model': 24 }));
  failsWith(run([...tag, '--resume', '--max-steps', '8', '--config', 'wide.json']), /--d-model 24 \(the run has 16\)/);
});

test('tag: the same flags resume silently; a changed --max-steps or --lr is named', () => {
  const same = run([...tag, '--resume', '--max-steps', '4', '--d-model', '16']);
  ok(same, 'resume, same flags');
  assert.doesNotMatch(same.stderr, /--resume/);
  const longer = run([...tag, '--resume', '--max-steps', '8', '--lr', '0.002']);
  ok(longer, 'resume, longer');
  assert.match(longer.stderr, /^qkv: --resume: --lr 0\.002 \(was 0\.005\): the rest of the run trains with the new value$/m);
  assert.match(longer.stderr, /^qkv: --resume: the run is now 8 steps \(it was 4; --max-steps changed it\): the learning-rate schedule is laid over the new length from step 4$/m);
  const kept = run([...tag, '--resume']);
  ok(kept, 'resume without a length flag');
  assert.doesNotMatch(kept.stderr, /the run is now/, 'no length flag: the run keeps its 8 steps');
});

test('lm: a changed --n-embd is refused', () => {
  writeFileSync(join(dir, 'small.txt'), syntheticText(2000, 1));
  const lm = ['train', 'lm', '--data', 'small.txt', '--out', 'lm', '--n-layer', '1', '--n-head', '2', '--block-size', '16', '--batch-size', '4', '--eval-iters', '1', '--max-iters', '2', '--eval-interval', '2'];
  ok(run([...lm, '--n-embd', '16']), 'train lm');
  failsWith(run([...lm, '--resume', '--n-embd', '32']), /^qkv: --resume: --n-embd 32 \(the run has 16\)/);
});
