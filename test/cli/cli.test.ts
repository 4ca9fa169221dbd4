// The `qkv` command end to end: version, help, the demo, and clean errors for bad flags.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { version } from '../../src/index.js';

const bin = fileURLToPath(new URL('../../cli/qkv.js', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

test('qkv --version and --help', () => {
  const v = run('--version');
  assert.equal(v.status, 0);
  assert.equal(v.stdout.trim(), version);
  const h = run('--help');
  assert.equal(h.status, 0);
  assert.match(h.stdout, /Usage: qkv/);
  assert.match(h.stdout, /demo/);
});

test('qkv demo trains both taggers and self-attention resolves "saw"', () => {
  const r = run('demo', '--steps', '150', '--seed', '1');
  assert.equal(r.status, 0, r.stderr);
  const fc = /fully-connected.*on "saw" ([\d.]+)%/.exec(r.stdout);
  const sa = /self-attention.*on "saw" ([\d.]+)%/.exec(r.stdout);
  assert.ok(fc && sa, r.stdout);
  assert.ok(Number(sa[1]) >= Number(fc[1]) + 20, `self-attention ${sa[1]}% vs fully-connected ${fc[1]}% on "saw"`);
  assert.match(r.stdout, /attention weights alpha'/);
});

test('bad flags: one line on stderr, non-zero exit, no stack trace', () => {
  for (const args of [['--bogus'], ['demo', '--steps', 'x'], ['demo', '--steps', '0'], ['nosuchcommand']]) {
    const r = run(...args);
    assert.notEqual(r.status, 0, args.join(' '));
    assert.doesNotMatch(r.stderr, /\n\s+at /, `stack trace for ${args.join(' ')}`);
    assert.match(r.stderr.split('\n')[0]!, /^error: /);
  }
});
