// Every size a user can pass is checked before anything is allocated or looped over: absurd
// values are one line naming the flag, within seconds (before: out-of-memory messages that
// named no flag, hangs, or an internal error).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { encodePng } from '../../src/index.js';
import { failsWith, ok } from './expect.js';

const bin = fileURLToPath(new URL('../../cli/qkv.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'qkv-size-flags-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const run = (args: string[], input?: string) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir, input, timeout: 30_000 });
const tiny = ['--max-steps', '2', '--eval-every', '2', '--d-model', '8', '--layers', '1', '--heads', '2'];

describe('size flags at absurd values', () => {
  before(() => {
    for (const [label, v] of [['dark', 0], ['light', 255]] as const) {
      mkdirSync(join(dir, 'imgs', label), { recursive: true });
      for (let i = 0; i < 3; i++) writeFileSync(join(dir, 'imgs', label, `${i}.png`), encodePng({ width: 4, height: 4, channels: 1, data: new Float32Array(16).fill(v / 255) }));
    }
    ok(run(['train', 'tag', '--builtin', 'ambiguity', '--n', '100', '--out', 'tag', ...tiny]), 'train tag');
    ok(run(['train', 'seq2seq', '--builtin', 'reverse', '--n', '100', '--out', 'rev', ...tiny]), 'train seq2seq');
  });

  const cases: [string, () => string[], RegExp, string?][] = [
    ['--image-size 100000', () => ['train', 'classify', '--train', 'imgs', '--image-size', '100000', '--out', 'i1', ...tiny], /^qkv: --image-size 100000x100000: one image is 111\.8 GiB as float32/],
    ['--image-size 2000 (patches)', () => ['train', 'classify', '--train', 'imgs', '--image-size', '2000', '--out', 'i2', ...tiny], /^qkv: --image-size 2000x2000, --patch 4, --batch-size 32: this model needs about .* TiB/],
    ['--vocab-size 1000000000', () => ['train', 'tag', '--builtin', 'ambiguity', '--tokenize', 'bpe', '--vocab-size', '1000000000', '--out', 'v1'], /--vocab-size must be an integer from 260 to 4194303/],
    ['--max-len 100000000', () => ['export', '--model', 'tag', '--onnx', 'x.onnx', '--max-len', '100000000'], /--max-len must be an integer from 1 to 1048576/],
    ['--beam 100000', () => ['predict', '--model', 'rev', '--beam', '100000'], /--beam must be an integer from 1 to 1024/, 'abc\n'],
    ['--viz with 3000 words', () => ['train', 'tag', '--builtin', 'ambiguity', '--out', 'z1', ...tiny, '--viz', Array(3000).fill('saw').join(' ')], /^qkv: --viz: the probe has 3000 words, more than 512/],
    ['--viz with 3000 characters (seq2seq)', () => ['train', 'seq2seq', '--builtin', 'reverse', '--out', 'z2', ...tiny, '--viz', `${'a'.repeat(3000)} => b`], /^qkv: --viz: the probe has 3000 characters/],
    ['--n 1000000000', () => ['train', 'tag', '--builtin', 'ambiguity', '--n', '1000000000', '--out', 'n1'], /--n must be an integer from 10 to 1000000/],
    ['--sample-rate 1000000000', () => ['train', 'classify', '--builtin', 'spoken', '--sample-rate', '1000000000', '--out', 's1'], /--sample-rate must be an integer from 1000 to 384000/],
    ['--mel-bins 1000000', () => ['train', 'classify', '--builtin', 'spoken', '--mel-bins', '1000000', '--out', 'm1'], /--mel-bins must be an integer from 1 to 1024/],
    ['viz --max-positions 100000000', () => ['viz', '--model', 'tag', '--max-positions', '100000000', '--export', 'p.html'], /--max-positions must be an integer from 1 to 8192/],
    ['viz --max-new-tokens 100000000', () => ['viz', '--model', 'rev', '--max-new-tokens', '100000000', '--export', 'p.html'], /--max-new-tokens must be an integer from 1 to 4096/],
    ['--batch-size 100000000', () => ['train', 'tag', '--builtin', 'ambiguity', '--batch-size', '100000000', '--out', 'b1'], /^qkv: --d-model 64, --layers 2, --batch-size 100000000: this model needs/],
    ['--block-size 100000000', () => ['train', 'lm', '--data', 'text.txt', '--block-size', '100000000', '--out', 'l1'], /--block-size 100000000.*this model needs/],
  ];
  for (const [name, args, says, input] of cases) {
    test(name, () => {
      writeFileSync(join(dir, 'text.txt'), 'to be or not to be\n'.repeat(50));
      const t0 = performance.now();
      const r = run(args(), input);
      assert.notEqual(r.signal, 'SIGTERM', `${name}: still running after 30 s`);
      failsWith(r, says);
      assert.ok(performance.now() - t0 < 20_000, `${name}: refused in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    });
  }
});
