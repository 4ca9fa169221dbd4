// Outputs never destroy what they replace: regular files are replaced whole (temp + rename),
// devices and named pipes are written in place and survive, /proc and block devices are
// refused, several files are replaced together or not at all.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { QkvError, saveOnnx, writeFileAtomic, writeFilesTogether } from '../../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'qkv-atomic-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const bytes = (s: string) => [new TextEncoder().encode(s)];
const fail = (m: string) => new QkvError(m);
const hasMkfifo = spawnSync('mkfifo', ['--version']).status === 0;

test('a new path and a regular file are written whole; no temporary file stays', () => {
  const p = join(dir, 'a.txt');
  writeFileAtomic(p, bytes('one'), fail);
  writeFileAtomic(p, bytes('two'), fail);
  assert.equal(readFileSync(p, 'utf8'), 'two');
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('a.txt')), ['a.txt']);
});

test('a symbolic link to a file stays a link; the file it points to is replaced', () => {
  const target = join(dir, 'target.txt');
  const link = join(dir, 'link.txt');
  writeFileSync(target, 'old');
  symlinkSync(target, link);
  writeFileAtomic(link, bytes('new'), fail);
  assert.ok(lstatSync(link).isSymbolicLink());
  assert.equal(readlinkSync(link), target);
  assert.equal(readFileSync(target, 'utf8'), 'new');
});

test('/dev/null is written in place and stays a character device', () => {
  writeFileAtomic('/dev/null', bytes('x'.repeat(10000)), fail);
  assert.ok(statSync('/dev/null').isCharacterDevice());
});

test('/dev/full: one line saying the device is full, and the device survives', { skip: !existsSync('/dev/full') && 'no /dev/full here' }, () => {
  assert.throws(() => writeFileAtomic('/dev/full', bytes('x'), (m) => new QkvError(`out.html: ${m}`)), /^QkvError: out\.html: cannot write full: no space left on the device \(ENOSPC\)$/);
  assert.ok(statSync('/dev/full').isCharacterDevice());
});

test('a named pipe is written in place: its reader gets the bytes and it stays a pipe', { skip: !hasMkfifo && 'no mkfifo here' }, async () => {
  const fifo = join(dir, 'pipe');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  const reader = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'inherit'] });
  let got = '';
  reader.stdout.on('data', (d: Buffer) => { got += d.toString(); });
  const closed = new Promise((resolve) => reader.on('close', resolve));
  writeFileAtomic(fifo, bytes('through the pipe'), fail); // blocks until cat opens its end
  await closed;
  assert.equal(got, 'through the pipe');
  assert.ok(statSync(fifo).isFIFO());
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('pipe.')), [], 'no temporary file beside the pipe');
});

test('/proc, a directory and a socket-like target are refused in one line', () => {
  assert.throws(() => writeFileAtomic('/proc/self/comm-qkv', bytes('x'), fail), /^QkvError: cannot write comm-qkv: refusing to write under \/proc/);
  assert.throws(() => writeFileAtomic('/proc/sys/vm/drop_caches', bytes('3'), fail), /refusing to write under \/proc/);
  mkdirSync(join(dir, 'adir'));
  assert.throws(() => writeFileAtomic(join(dir, 'adir'), bytes('x'), fail), /cannot write adir: is a directory \(EISDIR\)/);
});

test('x.onnx is not replaced when its decoder cannot be written (a directory is in the way)', () => {
  const onnx = join(dir, 'gpt.onnx');
  writeFileSync(onnx, 'old model');
  mkdirSync(join(dir, 'gpt.decoder.onnx'));
  assert.throws(() => saveOnnx(onnx, [{ role: 'model', bytes: new Uint8Array([1, 2, 3]) }, { role: 'decoder', bytes: new Uint8Array([4]) }]), /gpt\.decoder\.onnx: cannot write gpt\.decoder\.onnx: is a directory/);
  assert.equal(readFileSync(onnx, 'utf8'), 'old model');
  assert.deepEqual(readdirSync(dir).filter((f) => /\.(tmp|old)-/.test(f)), []);
});

test('several files: a failed rename puts back the ones already replaced', () => {
  const a = join(dir, 'pair-a');
  const b = join(dir, 'pair-b');
  writeFileSync(a, 'old a');
  writeFileSync(b, 'old b');
  // the second file's bytes fail while being written: nothing is replaced
  const broken = (function* () { yield new Uint8Array([1]); throw Object.assign(new Error('disk gone'), { code: 'EIO' }); })();
  assert.throws(() => writeFilesTogether([{ path: a, chunks: bytes('new a'), fail }, { path: b, chunks: broken, fail }]), /cannot write pair-b: EIO/);
  assert.equal(readFileSync(a, 'utf8'), 'old a');
  assert.equal(readFileSync(b, 'utf8'), 'old b');
  writeFilesTogether([{ path: a, chunks: bytes('new a'), fail }, { path: b, chunks: bytes('new b'), fail }]);
  assert.equal(readFileSync(a, 'utf8') + readFileSync(b, 'utf8'), 'new anew b');
  assert.deepEqual(readdirSync(dir).filter((f) => /^pair-.*\.(tmp|old)-/.test(f)), []);
});
