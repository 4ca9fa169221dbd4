// The README's `qkv` commands run as printed on the sample files `qkv data` writes: the
// "Sample files" block is run as it is, then every command of the command block after it
// (training ones with a short length appended, so the suite stays fast; `qkv demo`, the viz
// server and the one line that needs the user's own aligned WAVs are left out).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';

const bin = fileURLToPath(new URL('../../cli/qkv.js', import.meta.url));
const root = fileURLToPath(new URL('../../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'qkv-readme-commands-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const readme = readFileSync(join(root, 'README.md'), 'utf8');
const at = readme.indexOf('**Sample files.**');
const blocks = [...readme.slice(at).matchAll(/```sh\n([\s\S]*?)```/g)].slice(0, 2).map((m) => m[1]!.split('\n').map((l) => l.replace(/\s+#.*$/, '').trim()).filter(Boolean));
const [samples, commands] = [blocks[0] ?? [], blocks[1] ?? []];

const sh = (line: string) => spawnSync('bash', ['-c', `qkv() { "${process.execPath}" "${bin}" "$@"; }\n${line}`], { encoding: 'utf8', cwd: dir, timeout: 300_000 });
/** A training command with a short length: the point is that the files read, not the accuracy. */
const short = (line: string) => {
  if (!/^qkv train /.test(line)) return line;
  return /^qkv train lm /.test(line) ? `${line} --max-iters 2 --eval-interval 2 --eval-iters 1` : `${line} --max-steps 2 --eval-every 2`;
};

describe('README commands on the sample files', () => {
  test('the README has a sample-files block and a command block', () => {
    assert.ok(samples.length >= 8 && samples.every((l) => l.startsWith('qkv data ')), samples.join('\n'));
    assert.ok(commands.length >= 15, commands.join('\n'));
  });
  for (const line of samples) {
    test(line, () => {
      const r = sh(line);
      assert.equal(r.status, 0, `${line}\n${r.stderr}`);
    });
  }
  for (const line of commands) {
    const skip = /^qkv (demo|viz)\b/.test(line) ? 'needs no file (or serves a page)' : /frames\.tsv/.test(line) ? 'needs aligned WAVs of your own' : false;
    test(line, { skip }, () => {
      const r = sh(short(line));
      assert.equal(r.status, 0, `${short(line)}\n${r.stderr}`);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    });
  }
});
