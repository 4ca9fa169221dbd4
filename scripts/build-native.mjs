// Builds the native kernels (native/, a Node-API addon in C++17) with node-gyp and the machine's
// C++ compiler, and puts qkv_native.node next to the JS that loads it (dist/src/kernels/native/).
// Never fails the install: without a compiler, Node headers or a working build it writes the
// reason to build-note.txt there, and qkv runs on the WebAssembly backend and says why.
// Nothing is downloaded: node-gyp gets --nodedir (the headers next to node, or Debian's /usr).
// Usage: node scripts/build-native.mjs [--out DIR]   (CXX=... picks the compiler, as for make)
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const outArg = process.argv.indexOf('--out');
const outDir = outArg > 0 ? resolve(process.argv[outArg + 1]) : join(root, 'dist', 'src', 'kernels', 'native');
const nativeDir = join(root, 'native');
const started = Date.now();
mkdirSync(outDir, { recursive: true });
rmSync(join(outDir, 'qkv_native.node'), { force: true });
rmSync(join(outDir, 'build-note.txt'), { force: true });

function giveUp(reason, log = '') {
  writeFileSync(join(outDir, 'build-note.txt'), `${reason}\n`);
  if (log) writeFileSync(join(outDir, 'build-log.txt'), log);
  console.error(`build-native: ${reason}; qkv will run on the WebAssembly backend`);
  process.exit(0);
}

// the compiler make will run: $CXX, else c++ (node-gyp's Makefile default is g++; check both)
const cxx = process.env.CXX || (spawnSync('c++', ['--version']).status === 0 ? 'c++' : 'g++');
const probe = spawnSync(cxx, ['--version'], { encoding: 'utf8', shell: /\s/.test(cxx) });
if (probe.error || probe.status !== 0) {
  giveUp(`no C++ compiler: \`${cxx} --version\` ${probe.error ? `failed (${probe.error.code ?? probe.error.message})` : `exited with ${probe.status}`}` +
    `${process.env.CXX !== undefined ? ` (CXX=${process.env.CXX})` : ''}; install g++ (Debian: apt-get install g++)`);
}

// Node's headers: next to this node (official tarballs) or Debian's /usr/include/node
const nodedirs = [process.env.QKV_NODEDIR, resolve(dirname(process.execPath), '..'), '/usr'].filter(Boolean);
const nodedir = nodedirs.find((d) => existsSync(join(d, 'include', 'node', 'node_api.h')) && existsSync(join(d, 'include', 'node', 'common.gypi')));
if (!nodedir) giveUp(`no Node headers (include/node/node_api.h and common.gypi) under ${nodedirs.join(', ')}; install them (Debian: apt-get install libnode-dev) or set QKV_NODEDIR`);

let gyp;
try {
  gyp = createRequire(join(root, 'package.json')).resolve('node-gyp/bin/node-gyp.js');
} catch {
  giveUp('node-gyp is not installed (npm install installs it)');
}

const run = (args) => spawnSync(process.execPath, [gyp, ...args, `--nodedir=${nodedir}`], { cwd: nativeDir, encoding: 'utf8', env: process.env });
const newest = (dir) => readdirSync(dir).reduce((t, f) => Math.max(t, statSync(join(dir, f)).mtimeMs), 0);
const makefile = join(nativeDir, 'build', 'Makefile');
let log = '';
if (!existsSync(makefile) || statSync(join(nativeDir, 'binding.gyp')).mtimeMs > statSync(makefile).mtimeMs) {
  const c = run(['configure']);
  log += c.stdout + c.stderr;
  if (c.status !== 0) giveUp(`node-gyp configure failed: ${lastError(c.stdout + c.stderr)}`, log);
}
const b = run(['build', '-j', String(Math.max(1, availableParallelism()))]);
log += b.stdout + b.stderr;
const built = join(nativeDir, 'build', 'Release', 'qkv_native.node');
if (b.status !== 0 || !existsSync(built)) giveUp(`the C++ build failed: ${lastError(log)} (full log: ${join(outDir, 'build-log.txt')})`, log);
if (statSync(built).mtimeMs < newest(join(nativeDir, 'src'))) giveUp('the C++ build left an addon older than its sources', log);
copyFileSync(built, join(outDir, 'qkv_native.node'));
console.error(`build-native: qkv_native.node (${((Date.now() - started) / 1000).toFixed(1)} s)`);

function lastError(text) {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.find((l) => /error/i.test(l) && !/^gyp (ERR|info)/.test(l)) ?? lines.filter((l) => !/^gyp info/.test(l)).slice(-1)[0] ?? 'no output';
}
