// SIGTERM and SIGINT during `qkv export`, `qkv viz --export` and `qkv experiment`, at several
// moments from start-up to the end of writing: afterwards each output is absent or whole (the
// same bytes as an uninterrupted run writes, or JSON that parses), and no temporary file is left.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { ok } from './expect.js';

const bin = fileURLToPath(new URL('../../cli/qkv.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'qkv-signals-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const run = (args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir, timeout: 120_000 });

/** Runs qkv and sends `signal` after `ms`; resolves with the exit code (or the signal that ended it). */
function interrupted(args: string[], signal: NodeJS.Signals, ms: number): Promise<{ code: number | null; killedBy: string | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: dir });
    let stderr = '';
    child.stderr.on('data', (c) => { stderr += String(c); });
    const timer = setTimeout(() => child.kill(signal), ms);
    child.on('exit', (code, killedBy) => { clearTimeout(timer); resolve({ code, killedBy, stderr }); });
  });
}

const temps = (d: string) => readdirSync(d).filter((f) => /\.tmp-\d+-/.test(f));
const DELAYS = [150, 400, 700, 1000, 1400, 2000];

before(() => {
  ok(run(['train', 'tag', '--builtin', 'ambiguity', '--n', '80', '--out', 'model', '--max-steps', '2', '--eval-every', '2']), 'train');
  ok(run(['export', '--model', 'model', '--onnx', 'reference.onnx']), 'reference export');
  ok(run(['viz', '--model', 'model', '--export', 'reference.html']), 'reference page');
});

test('a signal during qkv export leaves the ONNX file whole or absent, and no temporary file', async () => {
  const reference = readFileSync(join(dir, 'reference.onnx'));
  for (const [i, ms] of DELAYS.entries()) {
    const out = join(dir, `export-${i}`);
    mkdirSync(out);
    const r = await interrupted(['export', '--model', 'model', '--onnx', join(out, 'm.onnx')], i % 2 ? 'SIGINT' : 'SIGTERM', ms);
    assert.ok(r.code === 0 || r.code === 130 || r.code === 143 || r.killedBy !== null, `exit ${r.code} ${r.killedBy}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    assert.deepEqual(temps(out), [], `after ${ms} ms: no temporary file`);
    if (existsSync(join(out, 'm.onnx'))) assert.ok(readFileSync(join(out, 'm.onnx')).equals(reference), `after ${ms} ms: the file is whole`);
  }
});

test('a signal during qkv viz --export leaves the page whole or absent, and no temporary file', async () => {
  const reference = readFileSync(join(dir, 'reference.html'), 'utf8');
  for (const [i, ms] of DELAYS.entries()) {
    const out = join(dir, `viz-${i}`);
    mkdirSync(out);
    const r = await interrupted(['viz', '--model', 'model', '--export', join(out, 'page.html')], i % 2 ? 'SIGTERM' : 'SIGINT', ms);
    assert.ok(r.code === 0 || r.code === 130 || r.code === 143 || r.killedBy !== null, `exit ${r.code} ${r.killedBy}: ${r.stderr}`);
    assert.deepEqual(temps(out), [], `after ${ms} ms: no temporary file`);
    if (existsSync(join(out, 'page.html'))) assert.equal(readFileSync(join(out, 'page.html'), 'utf8'), reference, `after ${ms} ms: the page is whole`);
  }
});

test('a signal during qkv experiment leaves its results whole or absent, and no temporary file', async () => {
  for (const [i, ms] of [500, 2500, 4500].entries()) {
    const out = join(dir, `exp-${i}`);
    const r = await interrupted(['experiment', 'graph', '--quick', '--seeds', '1', '--out', out, '--no-png', '--report', join(out, 'report')], 'SIGTERM', ms);
    assert.ok(r.code === 0 || r.code === 143 || r.killedBy !== null, `exit ${r.code} ${r.killedBy}: ${r.stderr}`);
    for (const d of [out, join(out, 'report')]) if (existsSync(d)) assert.deepEqual(temps(d), [], `after ${ms} ms: no temporary file in ${d}`);
    if (existsSync(join(out, 'graph.json'))) assert.equal(JSON.parse(readFileSync(join(out, 'graph.json'), 'utf8')).name, 'graph');
    if (existsSync(join(out, 'report', 'index.html'))) assert.match(readFileSync(join(out, 'report', 'index.html'), 'utf8'), /<\/html>\s*$/);
  }
});
