// TF.js wasm GEMM: median ms of tf.matMul on n×n float32 matrices (the wasm backend computes synchronously, into its heap, as qkv does).
import { peer, tf, timeIt } from './tfjs-setup.mjs';

await peer(({ sizes = [256, 512, 1024], reps = 5, maxMs = Infinity }) => {
  const ms = {};
  for (const n of sizes) {
    const a = tf.randomNormal([n, n]);
    const b = tf.randomNormal([n, n]);
    ms[n] = timeIt(() => { tf.matMul(a, b).dispose(); }, { warmup: 1, reps, maxMs });
    a.dispose();
    b.dispose();
  }
  return { ms };
});
