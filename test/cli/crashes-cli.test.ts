// Crashes of the bad-input catalogue, each now one line (or the right result): a
// CoNLL-U file given as a pipe, an --out or --report under /proc, `qkv experiment --from` a
// JSON without its measures.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { failsWith, ok } from './expect.js';

const bin = fileURLToPath(new URL('../../cli/qkv.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'qkv-crashes-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const run = (args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir, timeout: 60_000 });
const tiny = ['--max-steps', '2', '--eval-every', '2', '--d-model', '8', '--layers', '1', '--heads', '2'];

test('a CoNLL-U file given as a pipe (--train <(cat x.conllu)) trains', () => {
  ok(run(['data', '--builtin', 'ambiguity', '--out', 'ud.conllu', '--n', '60']), 'qkv data');
  const r = spawnSync('bash', ['-c', `"${process.execPath}" "${bin}" train tag --train <(cat ud.conllu) --format conllu --out piped ${tiny.join(' ')}`], { encoding: 'utf8', cwd: dir, timeout: 60_000 });
  ok(r, 'train from a pipe');
  assert.ok(existsSync(join(dir, 'piped', 'best')));
});

test('--out and --report under /proc are refused at once (mkdir -p there spins forever)', () => {
  failsWith(run(['train', 'tag', '--builtin', 'ambiguity', '--out', '/proc/qkv-run', ...tiny]), /^qkv: --out \/proc\/qkv-run: refusing to write under \/proc/);
  failsWith(run(['experiment', 'positions', '--quick', '--seeds', '1', '--report', '/proc/self/qkv-report']), /^qkv: --report \/proc\/self\/qkv-report: refusing to write under \/proc/);
  failsWith(run(['demo', '--out', '/sys/qkv']), /^qkv: --out \/sys\/qkv: refusing to write under \/sys/);
});

test('experiment --from a JSON without its measures is one line', () => {
  writeFileSync(join(dir, 'positions.json'), JSON.stringify({ name: 'positions', summary: [], charts: [] }));
  failsWith(run(['experiment', 'positions', '--from', '.', '--report', 'out']), /^qkv: --from .*positions\.json: no "measures" object/);
});
