// Builds the WebAssembly kernels (asm/*.ts, AssemblyScript) into dist/src/kernels/wasm/, next to
// the JS that loads them: kernels-simd.wasm (128-bit SIMD, what every SIMD engine runs) and
// kernels-relaxed-simd.wasm (+ relaxed SIMD: fused multiply-add), picked at run time, and the
// same two on a shared memory (*-shared.wasm) for worker threads.
// Results are cached in node_modules/.cache/qkv-wasm by a hash of the sources, the compiler
// version and the flags, so `npm test` (which rebuilds dist/) does not recompile unchanged kernels.
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import asc from 'assemblyscript/asc';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const outDir = join(root, 'dist', 'src', 'kernels', 'wasm');
const cacheDir = join(root, 'node_modules', '.cache', 'qkv-wasm');
const common = ['asm/index.ts', '-O3', '--noAssert', '--runtime', 'stub', '--importMemory', '--noExportMemory'];
// Each instruction set twice: on a private memory (one thread, or a browser page that is not
// cross-origin isolated) and on a shared memory that worker threads instantiate the same module on.
const shared = ['--sharedMemory', '--maximumMemory', '65536'];
const builds = [
  { file: 'kernels-simd.wasm', flags: ['--enable', 'simd'], required: true },
  { file: 'kernels-relaxed-simd.wasm', flags: ['--enable', 'simd,relaxed-simd'], required: false },
  { file: 'kernels-simd-shared.wasm', flags: ['--enable', 'simd,threads', ...shared], required: false },
  { file: 'kernels-relaxed-simd-shared.wasm', flags: ['--enable', 'simd,relaxed-simd,threads', ...shared], required: false },
];

const sources = readdirSync(join(root, 'asm')).filter((f) => f.endsWith('.ts') || f.endsWith('.json')).sort();
const ascVersion = JSON.parse(readFileSync(join(root, 'node_modules', 'assemblyscript', 'package.json'), 'utf8')).version;
mkdirSync(outDir, { recursive: true });
mkdirSync(cacheDir, { recursive: true });

let failed = false;
for (const { file, flags, required } of builds) {
  const args = [...common, ...flags];
  const hash = createHash('sha256').update(ascVersion).update(JSON.stringify(args));
  for (const f of sources) hash.update(f).update(readFileSync(join(root, 'asm', f)));
  const cached = join(cacheDir, `${hash.digest('hex').slice(0, 16)}-${file}`);
  if (!existsSync(cached)) {
    const started = Date.now();
    let log = '';
    const sink = { write: (s) => { log += s; return true; } };
    const { error } = await asc.main([...args, '--outFile', cached], { stdout: sink, stderr: sink });
    if (error) {
      console.error(`build:wasm: ${file} failed: ${error.message}\n${log}`);
      if (required) failed = true;
      continue;
    }
    console.log(`build:wasm: compiled ${file} (asc ${ascVersion}, ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  }
  copyFileSync(cached, join(outDir, file));
}
if (failed) process.exit(1);
