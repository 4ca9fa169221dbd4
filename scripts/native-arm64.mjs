// The native kernels on ARM64 (NEON) without an ARM machine: cross-compiles the generic kernel
// table (isa.cc with 4-float GCC vectors, which GCC turns into NEON on aarch64) and the
// stand-alone harness (native/test/harness.cc: every kernel family against float64 references)
// with aarch64-linux-gnu-g++, statically, and runs it under qemu-aarch64. On an ARM64 machine it
// builds and runs the harness natively instead. Exits 0 when every check passes, 1 when one
// fails, and 2 (saying why) when the tools are missing: Debian: apt-get install qemu-user
// g++-aarch64-linux-gnu (.ci/run installs them). The build is kept in native/build/harness-arm64
// and redone only when a source is newer.
// Usage: node scripts/native-arm64.mjs
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { arch } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const src = join(root, 'native', 'src');
const harness = join(root, 'native', 'test', 'harness.cc');
const out = join(root, 'native', 'build', 'harness-arm64');
const native = arch() === 'arm64';
const cxx = process.env.QKV_ARM64_CXX || (native ? 'g++' : 'aarch64-linux-gnu-g++');
const runner = native ? [] : [process.env.QKV_QEMU_AARCH64 || 'qemu-aarch64'];

const has = (cmd) => spawnSync(cmd, ['--version'], { encoding: 'utf8' }).status === 0;
const missing = [cxx, ...runner].filter((c) => !has(c));
if (missing.length) {
  console.log(`native-arm64: skipped: ${missing.join(' and ')} not found (Debian: apt-get install qemu-user g++-aarch64-linux-gnu)`);
  process.exit(2);
}

// the addon's flags (native/binding.gyp); the harness itself at -O1: GCC 12's aarch64 vectorizer
// crashes on its float64 reference loops at -O3, and they need no speed
const flags = ['-std=gnu++17', '-fno-math-errno', '-fno-trapping-math', '-ffp-contract=fast'];
const bin = join(out, 'harness');
const newest = Math.max(statSync(harness).mtimeMs, ...readdirSync(src).map((f) => statSync(join(src, f)).mtimeMs));
mkdirSync(out, { recursive: true });
const step = (args) => {
  const r = spawnSync(cxx, args, { encoding: 'utf8' });
  if (r.status !== 0) {
    console.log(`native-arm64: ${cxx} ${args.join(' ')} failed:\n${(r.stderr || r.stdout || String(r.error)).trim().split('\n').slice(-15).join('\n')}`);
    process.exit(1);
  }
};
if (!existsSync(bin) || statSync(bin).mtimeMs < newest) {
  const t = Date.now();
  step([...flags, '-O3', '-DQKV_ISA=generic', '-DQKV_W=4', '-c', join(src, 'isa.cc'), '-o', join(out, 'isa.o')]);
  step([...flags, '-O1', '-c', harness, '-o', join(out, 'harness.o')]);
  step([join(out, 'harness.o'), join(out, 'isa.o'), ...(native ? [] : ['-static']), '-o', bin]);
  console.log(`native-arm64: built ${bin} with ${cxx} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
}
const r = spawnSync(runner.length ? runner[0] : bin, runner.length ? [bin] : [], { encoding: 'utf8' });
process.stdout.write(r.stdout);
if (r.stderr) process.stderr.write(r.stderr);
console.log(`native-arm64: ${native ? 'ran natively' : `ran under ${runner[0]}`}: ${r.status === 0 ? 'passed' : `failed (exit ${r.status ?? r.signal})`}`);
process.exit(r.status === 0 ? 0 : 1);
