// The `qkv` command end to end: version, help, the demo, and clean errors for bad flags.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { nativeAvailable, version } from '../../src/index.js';

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

test('qkv demo (the main job) trains both taggers, and self-attention resolves the ambiguous words', () => {
  const out = mkdtempSync(join(tmpdir(), 'qkv-demo-'));
  const r = run('demo', '--steps', '200', '--seed', '1', '--out', out);
  assert.equal(r.status, 0, r.stderr);
  const row = (name: string) => {
    const m = new RegExp(`^${name}\\s+([\\d.]+)%\\s+([\\d.]+)%`, 'm').exec(r.stdout);
    assert.ok(m, `no ${name} row in:\n${r.stdout}`);
    return { all: Number(m[1]), ambiguous: Number(m[2]) };
  };
  const fc = row('fully-connected');
  const sa = row('self-attention');
  assert.ok(sa.ambiguous >= fc.ambiguous + 20, `self-attention ${sa.ambiguous}% vs fully-connected ${fc.ambiguous}% on ambiguous words`);
  assert.match(r.stdout, /^I\/PRON saw\/VERB a\/DET saw\/NOUN$/m);
  assert.match(r.stdout, /attention weights alpha'/);
  assert.ok(existsSync(join(out, 'ambiguity-attention', 'best', 'model.safetensors')), 'the attention model is saved');
});

test('bad flags: one line on stderr, non-zero exit, no stack trace', () => {
  for (const args of [['--bogus'], ['demo', '--steps', 'x'], ['demo', '--steps', '0'], ['nosuchcommand']]) {
    const r = run(...args);
    assert.notEqual(r.status, 0, args.join(' '));
    assert.doesNotMatch(r.stderr, /\n\s+at /, `stack trace for ${args.join(' ')}`);
    assert.match(r.stderr.split('\n')[0]!, /^error: /);
  }
});

test('--backend and --threads pick the kernels; the default is native (else wasm) on every core; bad values are one line', () => {
  const line = (r: ReturnType<typeof run>) => r.stdout.split('\n')[0]!;
  const best = nativeAvailable() ? 'native \\((avx512|avx2|generic)' : 'wasm \\((relaxed-)?simd';
  const ref = run('demo', '--steps', '1', '--backend', 'ref', '--out', mkdtempSync(join(tmpdir(), 'qkv-demo-')));
  assert.equal(ref.status, 0, ref.stderr);
  assert.match(line(ref), /\(backend ref\)$/);
  const one = run('--threads', '1', 'demo', '--steps', '1', '--out', mkdtempSync(join(tmpdir(), 'qkv-demo-')));
  assert.equal(one.status, 0, one.stderr);
  assert.match(line(one), new RegExp(`\\(backend ${best}, 1 thread\\)\\)$`));
  const wasm = run('--backend', 'wasm', '--threads', '1', 'demo', '--steps', '1', '--out', mkdtempSync(join(tmpdir(), 'qkv-demo-')));
  assert.equal(wasm.status, 0, wasm.stderr);
  assert.match(line(wasm), /\(backend wasm \((relaxed-)?simd, 1 thread\)\)$/);
  const byDefault = run('demo', '--steps', '1', '--out', mkdtempSync(join(tmpdir(), 'qkv-demo-')));
  assert.match(line(byDefault), new RegExp(`\\(backend ${best}, ${availableParallelism()} threads?\\)\\)$`));
  for (const args of [['demo', '--backend', 'gpu'], ['demo', '--threads', '0']]) {
    const r = run(...args);
    assert.notEqual(r.status, 0, args.join(' '));
    assert.doesNotMatch(r.stderr, /\n\s+at /, `stack trace for ${args.join(' ')}`);
    assert.match(r.stderr.split('\n')[0]!, /^(error|qkv): .*(--backend must be native, wasm, ref or webgpu|--threads must be an integer >= 1)/);
  }
});

test('a closed pipe (qkv ... | head) ends quietly, without a stack trace', () => {
  // `| true`: the reader is gone before qkv (slower to start) writes anything
  const r = spawnSync('bash', ['-c', `"${process.execPath}" "${bin}" train lm --help | true; exit \${PIPESTATUS[0]}`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /EPIPE|\n\s+at /);
});
