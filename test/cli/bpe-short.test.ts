// A BPE vocabulary that stops short of --vocab-size (the data has too few repeated pairs) is
// said on stderr, with the size the model got; one that reaches it says nothing.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { ok } from './expect.js';
import { syntheticText } from '../tasks/lm-text.js';

const bin = fileURLToPath(new URL('../../cli/qkv.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'qkv-bpe-short-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const run = (args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir });
const short = /^qkv: --vocab-size (\d+): the training data gives only (\d+) tokens \(\d+ merges; a merge needs a pair seen at least twice\), so the vocabulary is \2$/m;

test('tag --tokenize bpe --vocab-size 4000 on a small set says how many tokens it got', () => {
  const r = run(['train', 'tag', '--builtin', 'ambiguity', '--n', '200', '--tokenize', 'bpe', '--vocab-size', '4000', '--out', 'tag', '--max-steps', '2', '--eval-every', '2', '--d-model', '8', '--layers', '1', '--heads', '2']);
  ok(r, 'train');
  const m = short.exec(r.stderr);
  assert.ok(m, r.stderr);
  assert.equal(m[1], '4000');
  assert.ok(Number(m[2]) < 4000);
  const info = run(['info', 'tag']);
  assert.match(info.stdout, new RegExp(`byte-level BPE, ${m[2]} tokens`));
});

test('lm: the default size (1000) stopping short is said too; a size reached is silent', () => {
  writeFileSync(join(dir, 'small.txt'), syntheticText(3000, 2));
  const lm = ['train', 'lm', '--data', 'small.txt', '--tokenize', 'bpe', '--n-layer', '1', '--n-head', '2', '--n-embd', '16', '--block-size', '16', '--batch-size', '2', '--eval-iters', '1', '--max-iters', '1', '--eval-interval', '1'];
  const r = run([...lm, '--out', 'lm']);
  ok(r, 'train lm');
  assert.match(r.stderr, /^qkv: --vocab-size 1000: the training data gives only \d+ tokens/m);
  const fits = run([...lm, '--vocab-size', '270', '--out', 'lm2']);
  ok(fits, 'train lm, small vocabulary');
  assert.doesNotMatch(fits.stderr, /--vocab-size/);
});
