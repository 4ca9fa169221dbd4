// Times one ISA's native GEMM without Node (native/test/gemm-bench.cc: the kernel table's own
// plan and tasks on the addon's pool), for tuning the blocking and micro-tiles: builds
// native/build/gemm-bench-ISA with the addon's flags (again only when a source is newer), runs it.
// Usage: node scripts/gemm-bench.mjs avx512|avx2|generic THREADS m,n,k[,transA,transB] ...
//   (CXXFLAGS_EXTRA='-DQKV_GEMM_TASKS_PER_THREAD=8' tries another grid; REPS=n sets the repetitions)
// BENCH=gemv builds and runs native/test/gemv-bench.cc instead: a GPT-2 small decoding step's GEMVs
// against a plain sum over the same weights (arguments: ISA THREADS [STEPS]).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const [isa = 'avx2', threads = '1', ...shapes] = process.argv.slice(2);
const ISA_FLAGS = {
  avx512: ['-DQKV_W=16', '-mavx512f', '-mavx512dq', '-mavx512bw', '-mavx512vl', '-mavx2', '-mfma', '-mprefer-vector-width=512'],
  avx2: ['-DQKV_W=8', '-mavx2', '-mfma'],
  generic: ['-DQKV_W=4'],
};
if (!ISA_FLAGS[isa]) {
  console.error(`gemm-bench: ISA ${isa}: expected avx512, avx2 or generic`);
  process.exit(1);
}
const src = join(root, 'native', 'src');
const bench = process.env.BENCH ?? 'gemm';
const out = join(root, 'native', 'build', `${bench}-bench-${isa}`);
const extra = (process.env.CXXFLAGS_EXTRA ?? '').split(' ').filter(Boolean);
const flags = ['-std=gnu++17', '-O3', '-fno-math-errno', '-fno-trapping-math', '-ffp-contract=fast', `-DQKV_ISA=${isa}`, `-DQKV_BENCH_ISA=${isa}`, ...ISA_FLAGS[isa], ...extra];
const bin = join(out, `${bench}-bench`);
const benchSrc = join(root, 'native', 'test', `${bench}-bench.cc`);
const sources = [benchSrc, join(root, 'native', 'test', 'bench-common.h'), ...readdirSync(src).map((f) => join(src, f))];
mkdirSync(out, { recursive: true });
// the flags of the binary's build: a build with other flags (a tuning run's CXXFLAGS_EXTRA) is rebuilt
const stamp = join(out, 'flags');
const built = existsSync(stamp) ? readFileSync(stamp, 'utf8') : '';
if (built !== flags.join(' ') || !existsSync(bin) || statSync(bin).mtimeMs < Math.max(...sources.map((f) => statSync(f).mtimeMs))) {
  const step = (args) => {
    const r = spawnSync(process.env.CXX || 'g++', args, { encoding: 'utf8' });
    if (r.status !== 0) {
      console.error(`gemm-bench: g++ ${args.join(' ')} failed:\n${r.stderr}`);
      process.exit(1);
    }
  };
  step([...flags, '-c', join(src, 'isa.cc'), '-o', join(out, 'isa.o')]);
  step(['-std=gnu++17', '-O2', '-c', join(src, 'pool.cc'), '-o', join(out, 'pool.o')]);
  step([...flags, '-c', benchSrc, '-o', join(out, 'bench.o')]);
  step([join(out, 'bench.o'), join(out, 'isa.o'), join(out, 'pool.o'), '-lpthread', '-o', bin]);
  writeFileSync(stamp, flags.join(' '));
}
const r = spawnSync(bin, [threads, ...shapes], { stdio: 'inherit' });
process.exit(r.status ?? 1);
