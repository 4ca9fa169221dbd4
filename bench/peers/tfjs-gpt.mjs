// The baby GPT in TF.js ops on the wasm backend, shaped like nanoGPT (pre-LN blocks, fused q/k/v
// projection, causal softmax attention, GELU (erf) MLP, tied lm_head, dropout 0), trained with
// tf.train.adam plus decoupled weight decay (= AdamW). Token embedding is a one-hot matmul: the
// wasm backend has no UnsortedSegmentSum kernel, which tf.gather's gradient needs.
import { peer, tf, timeIt } from './tfjs-setup.mjs';

await peer((c) => {
  const { vocabSize: V, blockSize: T, nLayer, nHead: nh, nEmbd: C, batch: B } = c;
  const hs = C / nh;
  const init = (shape, std) => tf.variable(tf.randomNormal(shape, 0, std, 'float32', c.seed));
  const zeros = (n) => tf.variable(tf.zeros([n]));
  const ones = (n) => tf.variable(tf.ones([n]));
  const projStd = 0.02 / Math.sqrt(2 * nLayer);
  const wte = init([V, C], 0.02);
  const wpe = init([T, C], 0.02);
  const layers = Array.from({ length: nLayer }, () => ({
    ln1: [ones(C), zeros(C)], attnW: init([C, 3 * C], 0.02), attnB: zeros(3 * C), projW: init([C, C], projStd), projB: zeros(C),
    ln2: [ones(C), zeros(C)], fcW: init([C, 4 * C], 0.02), fcB: zeros(4 * C), fc2W: init([4 * C, C], projStd), fc2B: zeros(C),
  }));
  const lnF = [ones(C), zeros(C)];
  const vars = [wte, wpe, ...lnF, ...layers.flatMap((l) => [...l.ln1, l.attnW, l.attnB, l.projW, l.projB, ...l.ln2, l.fcW, l.fcB, l.fc2W, l.fc2B])];
  const mask = tf.keep(tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([T, T]), -1, 0)), -1e9)); // -1e9 above the diagonal
  const scale = 1 / Math.sqrt(hs);

  const layerNorm = (x, [g, b]) => {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5))), g), b);
  };
  const gelu = (x) => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
  const linear = (x, W, b) => tf.fused.matMul({ a: x, b: W, bias: b }); // matmul + bias in one kernel
  const heads = (t) => tf.transpose(tf.reshape(t, [B, T, nh, hs]), [0, 2, 1, 3]); // (B, nh, T, hs)
  const block = (x, l) => { // x (B·T, C)
    const h = layerNorm(x, l.ln1);
    const [qq, kk, vv] = tf.split(linear(h, l.attnW, l.attnB), 3, -1).map(heads);
    const att = tf.softmax(tf.add(tf.mul(tf.matMul(qq, kk, false, true), scale), mask));
    const y = tf.reshape(tf.transpose(tf.matMul(att, vv), [0, 2, 1, 3]), [B * T, C]);
    const x1 = tf.add(x, linear(y, l.projW, l.projB));
    const m = gelu(linear(layerNorm(x1, l.ln2), l.fcW, l.fcB));
    return tf.add(x1, linear(m, l.fc2W, l.fc2B));
  };
  const lossOf = (xOne, yOne) => {
    let x = tf.reshape(tf.add(tf.reshape(tf.matMul(xOne, wte), [B, T, C]), wpe), [B * T, C]);
    for (const l of layers) x = block(x, l);
    const logits = tf.matMul(layerNorm(x, lnF), wte, false, true); // (B·T, V), tied to wte
    return tf.neg(tf.mean(tf.sum(tf.mul(yOne, tf.logSoftmax(logits)), -1)));
  };

  const opt = tf.train.adam(c.lr, 0.9, 0.999, 1e-8);
  const perBatch = B * (T + 1);
  let s = 0;
  let loss = NaN;
  const step = () => {
    const chunk = c.tokens.slice(s * perBatch, (s + 1) * perBatch);
    s++;
    const xs = [];
    const ys = [];
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) { xs.push(chunk[b * (T + 1) + t]); ys.push(chunk[b * (T + 1) + t + 1]); }
    tf.tidy(() => {
      const xOne = tf.oneHot(tf.tensor1d(xs, 'int32'), V);
      const yOne = tf.oneHot(tf.tensor1d(ys, 'int32'), V);
      for (const v of vars) v.assign(tf.mul(v, 1 - c.lr * c.weightDecay)); // AdamW's decoupled decay
      const cost = opt.minimize(() => lossOf(xOne, yOne), true, vars);
      loss = cost.dataSync()[0];
    });
  };
  const ms = timeIt(step, { warmup: c.warmup, reps: c.reps, maxMs: c.maxMs });
  return { ms, loss };
});
