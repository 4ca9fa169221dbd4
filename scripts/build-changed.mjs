// The build `npm start` runs: only the steps whose sources changed since the last build, so a
// second `npm start` starts at once (the full `npm run build` starts from an empty dist/).
//   TypeScript (src, cli, web, test, tsconfig.json) -> tsc, incremental
//   asm/       -> scripts/build-wasm.mjs      native/ -> scripts/build-native.mjs
//   web/       -> scripts/build-web.mjs (the viz page bundle, and the playground's static folder)
// Each step is stale when an output is missing or a source is newer than dist/.build-stamp (the
// time the last build finished, written at the end of `npm run build` and of this script).
// Usage: node scripts/build-changed.mjs [--dry-run] [--stamp]   (--stamp: only write the stamp)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The newest modification time under `path` (a file or a folder tree), 0 when absent. */
export function newest(path) {
  let s;
  try { s = statSync(path); } catch { return 0; }
  if (!s.isDirectory()) return s.mtimeMs;
  return readdirSync(path).reduce((t, f) => (f === 'node_modules' || f === 'build' ? t : Math.max(t, newest(join(path, f)))), s.mtimeMs);
}

/** The build steps, each with its sources and the outputs that must exist. */
export function steps(root) {
  return [
    { name: 'tsc', sources: ['src', 'cli', 'web', 'test', 'tsconfig.json', 'package.json'], outputs: ['dist/cli/qkv.js', 'dist/src/index.js'],
      run: [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json', '--incremental', '--tsBuildInfoFile', 'dist/.tsbuildinfo'] },
    { name: 'wasm', sources: ['asm', 'scripts/build-wasm.mjs'], outputs: ['dist/src/kernels/wasm/kernels-simd.wasm'], run: ['scripts/build-wasm.mjs'] },
    { name: 'native', sources: ['native/src', 'native/binding.gyp', 'scripts/build-native.mjs'], outputs: ['dist/src/kernels/native'], run: ['scripts/build-native.mjs'] },
    { name: 'web', sources: ['web', 'scripts/build-web.mjs', 'scripts/build-playground.mjs'], outputs: ['dist/web/viz.js', 'dist/web/viz.css', 'dist/web/playground-site/index.html'], run: ['scripts/build-web.mjs'] },
  ];
}

/** The names of the steps to run: an output missing, or a source newer than the stamp. */
export function staleSteps(root) {
  const stamp = newest(join(root, 'dist', '.build-stamp'));
  return steps(root)
    .filter((s) => !stamp || s.outputs.some((o) => !existsSync(join(root, o))) || s.sources.some((src) => newest(join(root, src)) > stamp))
    .map((s) => s.name);
}

function writeStamp(root) {
  mkdirSync(join(root, 'dist'), { recursive: true });
  writeFileSync(join(root, 'dist', '.build-stamp'), `${new Date().toISOString()}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  if (process.argv.includes('--stamp')) {
    writeStamp(root);
    process.exit(0);
  }
  const stale = staleSteps(root);
  if (process.argv.includes('--dry-run')) {
    console.log(stale.length ? `stale: ${stale.join(' ')}` : 'up to date');
    process.exit(0);
  }
  const started = Date.now();
  for (const s of steps(root).filter((x) => stale.includes(x.name))) {
    const r = spawnSync(process.execPath, s.run, { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) {
      console.error(`build: ${s.name} failed (exit ${r.status})`);
      process.exit(r.status ?? 1);
    }
  }
  writeStamp(root);
  if (stale.length) console.error(`build: ${stale.join(', ')} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}
