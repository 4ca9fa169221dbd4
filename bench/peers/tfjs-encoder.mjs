// The Transformer encoder of bench/encoder.mjs in TF.js ops on the wasm backend: post-LN layers,
// x = LN(x + MHA(x)), x = LN(x + W2·relu(W1·x)), forward only (inference);
// linear layers are tf.fused.matMul (matmul + bias + activation in one kernel).
import { peer, tf, timeIt } from './tfjs-setup.mjs';

await peer((c) => {
  const { layers: L, dModel: C, nhead: nh, dimFeedforward: F, n: T, batch: B } = c;
  const hs = C / nh;
  const w = (shape) => tf.keep(tf.randomNormal(shape, 0, 1 / Math.sqrt(shape[0]), 'float32', c.seed));
  const z = (k) => tf.keep(tf.zeros([k]));
  const o = (k) => tf.keep(tf.ones([k]));
  const params = Array.from({ length: L }, () => ({
    inW: w([C, 3 * C]), inB: z(3 * C), outW: w([C, C]), outB: z(C), w1: w([C, F]), b1: z(F), w2: w([F, C]), b2: z(C),
    n1: [o(C), z(C)], n2: [o(C), z(C)],
  }));
  const layerNorm = (x, [g, b]) => {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5))), g), b);
  };
  const linear = (x, W, b, activation = 'linear') => tf.fused.matMul({ a: x, b: W, bias: b, activation }); // one kernel
  const heads = (t) => tf.transpose(tf.reshape(t, [B, T, nh, hs]), [0, 2, 1, 3]);
  const layer = (x, p) => { // x (B·T, C)
    const [qq, kk, vv] = tf.split(linear(x, p.inW, p.inB), 3, -1).map(heads);
    const att = tf.softmax(tf.mul(tf.matMul(qq, kk, false, true), 1 / Math.sqrt(hs)));
    const y = tf.reshape(tf.transpose(tf.matMul(att, vv), [0, 2, 1, 3]), [B * T, C]);
    const x1 = layerNorm(tf.add(x, linear(y, p.outW, p.outB)), p.n1);
    const ff = linear(linear(x1, p.w1, p.b1, 'relu'), p.w2, p.b2);
    return layerNorm(tf.add(x1, ff), p.n2);
  };
  const x = tf.randomNormal([B * T, C], 0, 1, 'float32', c.seed);
  const ms = timeIt(() => tf.tidy(() => { let h = x; for (const p of params) h = layer(h, p); h.dataSync(); }), c);
  return { ms };
});
