// TensorFlow.js on its WebAssembly backend in Node, loading the .wasm files from node_modules
// (nothing is downloaded). Every tfjs peer reads a JSON request on stdin and prints one JSON line.
import { readFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import wasm from '@tensorflow/tfjs-backend-wasm';
import { timeIt as timeRuns } from '../timing.mjs';

// tfjs-core's node bundle has no gradients; its ES-module gradient files register into the same
// global registry (and run on the same engine) once Node can load them: see tfjs-hooks.mjs.
register('./tfjs-hooks.mjs', import.meta.url);
await import('@tensorflow/tfjs-core/dist/register_all_gradients.js');

export { tf };

/** Sets the wasm backend up; returns what it runs with (SIMD, threads) for the machine line. */
export async function tfjsWasm() {
  const require = createRequire(import.meta.url);
  const dist = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep;
  wasm.setWasmPaths(dist);
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  wasm.setThreadsCount(cores); // used only when the threaded build loads (it does not in Node: no SharedArrayBuffer workers)
  if (!(await tf.setBackend('wasm'))) throw new Error('tfjs: the wasm backend did not initialise');
  await tf.ready();
  return {
    version: tf.version_core,
    backend: tf.getBackend(),
    simd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT'),
    threads: tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT') ? wasm.getThreadsCount() : 1,
  };
}

export const request = () => JSON.parse(readFileSync(0, 'utf8') || '{}');

/** bench/timing.mjs's timeIt, returning the median ms. */
export function timeIt(fn, options) {
  return timeRuns(fn, options).ms;
}

/** Runs main(request, flags) and prints its result (or the error) as one JSON line. */
export async function peer(main) {
  try {
    const flags = await tfjsWasm();
    const out = await main(request(), flags);
    process.stdout.write(JSON.stringify({ ...out, tfjs: flags }) + '\n');
  } catch (e) {
    process.stdout.write(JSON.stringify({ error: String(e?.message ?? e).split('\n')[0] }) + '\n');
    process.exitCode = 1;
  }
}
