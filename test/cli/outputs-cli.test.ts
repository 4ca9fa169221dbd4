// The CLI's outputs never destroy what they replace: `qkv export` and `qkv viz --export` refuse
// to write over the checkpoint they read, write devices and pipes in place (the node survives),
// and an empty --export path is refused instead of starting a server.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { failsWith, ok } from './expect.js';

const bin = fileURLToPath(new URL('../../cli/qkv.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'qkv-outputs-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const run = (args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir, timeout: 60_000 });
const hasMkfifo = spawnSync('mkfifo', ['--version']).status === 0;

describe('outputs of qkv export and qkv viz --export', () => {
  before(() => {
    ok(run(['train', 'tag', '--builtin', 'ambiguity', '--n', '100', '--out', 'amb', '--max-steps', '2', '--eval-every', '2', '--d-model', '8', '--layers', '1', '--heads', '2']), 'train');
  });

  test('export into the model\'s own files is refused and the checkpoint still loads', () => {
    const weights = readFileSync(join(dir, 'amb', 'best', 'model.safetensors'));
    failsWith(run(['export', '--model', 'amb', '--onnx', 'amb/best/model.safetensors']), /^qkv: --onnx amb\/best\/model\.safetensors: amb\/best\/model\.safetensors is a file this run reads; write the output elsewhere$/);
    failsWith(run(['export', '--model', 'amb', '--torch', 'amb/best']), /^qkv: --torch amb\/best: amb\/best\/model\.safetensors is a file this run reads/);
    failsWith(run(['viz', '--model', 'amb', '--export', 'amb/best/config.json']), /^qkv: --export amb\/best\/config\.json: is a file this run reads/);
    assert.deepEqual(readFileSync(join(dir, 'amb', 'best', 'model.safetensors')), weights);
    ok(run(['info', 'amb']), 'the checkpoint still loads');
  });

  test('export --onnx /dev/null and viz --export /dev/null write in place; the device survives', () => {
    ok(run(['export', '--model', 'amb', '--onnx', '/dev/null']), 'export to /dev/null');
    ok(run(['viz', '--model', 'amb', '--export', '/dev/null']), 'viz --export /dev/null');
    assert.ok(statSync('/dev/null').isCharacterDevice());
  });

  test('viz --export /dev/full is one line; the device survives', { skip: !existsSync('/dev/full') && 'no /dev/full' }, () => {
    failsWith(run(['viz', '--model', 'amb', '--export', '/dev/full']), /^qkv: --export \/dev\/full: cannot write full: no space left on the device \(ENOSPC\)$/);
    assert.ok(statSync('/dev/full').isCharacterDevice());
  });

  test('export --onnx /dev/stdout writes the graph to standard output', () => {
    const r = spawnSync(process.execPath, [bin, 'export', '--model', 'amb', '--onnx', '/dev/stdout', '--json'], { cwd: dir, timeout: 60_000 });
    assert.equal(r.status, 0, String(r.stderr));
    assert.ok(r.stdout.length > 1000, `${r.stdout.length} bytes on stdout`);
  });

  test('viz --export to a named pipe: the reader gets the page', { skip: !hasMkfifo && 'no mkfifo' }, async () => {
    const fifo = join(dir, 'page.fifo');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    const reader = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'inherit'] });
    let got = '';
    reader.stdout.on('data', (d: Buffer) => { got += d.toString(); });
    const readerDone = new Promise((resolve) => reader.on('close', resolve));
    const qkv = spawn(process.execPath, [bin, 'viz', '--model', 'amb', '--export', fifo], { cwd: dir, stdio: 'ignore' });
    const code = await new Promise((resolve) => qkv.on('close', resolve));
    await readerDone;
    assert.equal(code, 0);
    assert.match(got, /^<!doctype html>/i);
    assert.ok(statSync(fifo).isFIFO());
  });

  test("viz --export '' is refused instead of starting a server", () => {
    failsWith(run(['viz', '--model', 'amb', '--export', '']), /^qkv: --export: the path is empty/);
  });
});
