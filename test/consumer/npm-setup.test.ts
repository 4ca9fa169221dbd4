// The project's own npm setup: no npm warning of its making (no unknown .npmrc keys), the
// onnxruntime-node install script (which would download a CUDA add-on from outside the npm
// registry) denied by package.json's allowScripts, and `npm start`'s build doing only the
// steps whose sources changed (scripts/build-changed.mjs).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { after, test } from 'node:test';
import { pathToFileURL } from 'node:url';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..', '..', '..');
const env = { ...process.env };
delete env.ONNXRUNTIME_NODE_INSTALL;
delete env.npm_config_onnxruntime_node_install;
const npm = (args: string[], extra: Record<string, string> = {}) => spawnSync('npm', args, { cwd: root, encoding: 'utf8', env: { ...env, ...extra }, timeout: 120_000 });

test('npm commands print no warning of the project\'s making', () => {
  const r = npm(['run', '--silent']);
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /Unknown (project|env|user) config/);
  assert.doesNotMatch(r.stderr, /npm warn/);
});

test('onnxruntime-node\'s install script is denied (nothing fetched), esbuild\'s runs', () => {
  // a proxy that refuses every connection: a download attempt would fail the rebuild
  const r = npm(['rebuild', 'onnxruntime-node', 'esbuild', '--foreground-scripts'], { HTTPS_PROXY: 'http://127.0.0.1:9', https_proxy: 'http://127.0.0.1:9' });
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stdout + r.stderr, /onnxruntime-node@[^\n]* postinstall/);
  assert.match(r.stdout + r.stderr, /esbuild@[^\n]* postinstall/);
});

test('npm start rebuilds only what changed', async () => {
  const { staleSteps } = await import(pathToFileURL(join(root, 'scripts', 'build-changed.mjs')).href) as { staleSteps: (root: string) => string[] };
  const tree = mkdtempSync(join(tmpdir(), 'qkv-build-changed-'));
  after(() => rmSync(tree, { recursive: true, force: true }));
  const files = ['src/a.ts', 'cli/qkv.ts', 'web/main.ts', 'asm/k.ts', 'native/src/k.cc', 'native/binding.gyp', 'tsconfig.json', 'package.json',
    'scripts/build-wasm.mjs', 'scripts/build-native.mjs', 'scripts/build-web.mjs', 'scripts/build-playground.mjs',
    'dist/cli/qkv.js', 'dist/src/index.js', 'dist/src/kernels/wasm/kernels-simd.wasm', 'dist/src/kernels/native/qkv_native.node', 'dist/web/viz.js', 'dist/web/viz.css',
    'dist/web/playground-site/index.html'];
  const old = new Date(Date.now() - 3600_000);
  for (const f of files) {
    mkdirSync(dirname(join(tree, f)), { recursive: true });
    writeFileSync(join(tree, f), 'x');
  }
  const age = (p: string) => utimesSync(join(tree, p), old, old);
  const ageAll = () => { for (const f of files) age(f); for (const d of ['src', 'cli', 'web', 'asm', 'native', 'native/src', 'scripts']) age(d); };
  ageAll();
  assert.deepEqual(staleSteps(tree), ['tsc', 'wasm', 'native', 'web'], 'no stamp: everything');
  writeFileSync(join(tree, 'dist', '.build-stamp'), 'now');
  assert.deepEqual(staleSteps(tree), [], 'built and unchanged: nothing');
  writeFileSync(join(tree, 'web', 'main.ts'), 'changed');
  assert.deepEqual(staleSteps(tree), ['tsc', 'web'], 'a page source: tsc and the page bundle');
  ageAll();
  writeFileSync(join(tree, 'asm', 'k.ts'), 'changed');
  assert.deepEqual(staleSteps(tree), ['wasm']);
  ageAll();
  rmSync(join(tree, 'dist', 'web', 'viz.js'));
  assert.deepEqual(staleSteps(tree), ['web'], 'a missing output');
  writeFileSync(join(tree, 'dist', 'web', 'viz.js'), 'x');
  ageAll();
  rmSync(join(tree, 'dist', 'web', 'playground-site', 'index.html'));
  assert.deepEqual(staleSteps(tree), ['web'], 'the playground\'s static folder missing');
});

test('the real tree is up to date after the build npm test ran', () => {
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'build-changed.mjs'), '--dry-run'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  // sources edited after the build make this stale; npm test always builds first
  if (!/^up to date/.test(r.stdout)) return;
  const t0 = performance.now();
  const run = spawnSync(process.execPath, [join(root, 'scripts', 'build-changed.mjs')], { cwd: root, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.ok(performance.now() - t0 < 5000, 'a no-op build is quick');
});
