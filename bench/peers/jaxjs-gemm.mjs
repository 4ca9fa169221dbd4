// jax-js peer for the GEMM rows: `@jax-js/jax` (devDependency) on its wasm device, n×n·n×n float32
// matmul at each size; median ms. Request on stdin: {sizes, reps, maxMs}; one JSON line out.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { timeIt } from '../timing.mjs';

const request = JSON.parse(readFileSync(0, 'utf8'));
try {
  // jax-js is written for browsers: Node 20 has no global navigator (Node 21+ does)
  globalThis.navigator ??= { hardwareConcurrency: availableParallelism(), userAgent: `Node.js/${process.version}` };
  const jax = await import('@jax-js/jax');
  const devices = await jax.init();
  if (!devices.includes('wasm')) throw new Error(`no wasm device (devices: ${devices.join(', ')})`);
  jax.defaultDevice('wasm');
  const { numpy: np } = jax;
  const ms = {};
  for (const n of request.sizes) {
    const data = Float32Array.from({ length: n * n }, (_, i) => Math.sin(i));
    const a = np.array(data).reshape([n, n]);
    const b = np.array(data).reshape([n, n]);
    // dataSync() runs the pending product and reads it back (its read of n² floats is part of the cost)
    const r = timeIt(() => { np.matmul(a.ref, b.ref).dataSync(); }, { warmup: 1, reps: request.reps, maxMs: request.maxMs });
    ms[n] = r.ms;
    a.dispose();
    b.dispose();
  }
  let version = 'unknown';
  try { version = JSON.parse(readFileSync(new URL('../../node_modules/@jax-js/jax/package.json', import.meta.url), 'utf8')).version; } catch { /* keep unknown */ }
  console.log(JSON.stringify({ ms, jaxjs: { version, device: 'wasm' } }));
} catch (e) {
  console.log(JSON.stringify({ error: String(e.message ?? e).split('\n')[0].slice(0, 200) }));
}
