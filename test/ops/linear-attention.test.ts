// Linear attention ("Transformers are RNNs", Katharopoulos et al., 2020): the O(N) forms
// against the naive materialised formula, its gradients, the RNN form, key padding, memory
// that grows like N (not N·dk·dv), and errors; on every backend.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as q from '../../src/index.js';
import { LinearAttentionState, linearAttention, memory, resetPeak, tidy, type Tensor } from '../../src/index.js';
import { assertClose, forEachBackend, gradcheck, leaf, throwsOp, values } from '../helpers.js';

const phi = (x: Tensor): Tensor => q.add(q.elu(x), 1);

/** The N×N way: A = φ(Q)φ(K)ᵀ (lower-triangular when causal), rows normalised, times V. */
function naive(Q: Tensor, K: Tensor, V: Tensor, causal: boolean, eps = 1e-6): Tensor {
  let A = q.matmul(phi(Q), q.transpose(phi(K)));
  if (causal) {
    const n = Q.shape[2]!;
    const upper = q.greater(q.reshape(q.arange(0, n), [1, n]), q.reshape(q.arange(0, n), [n, 1])); // j > i
    A = q.maskedFill(A, upper, 0);
  }
  return q.div(q.matmul(A, V), q.add(q.sum(A, -1, true), eps));
}

function qkv(B: number, H: number, n: number, dk: number, dv: number, seed: number, nk = n): [Tensor, Tensor, Tensor] {
  return [leaf([B, H, n, dk], seed), leaf([B, H, nk, dk], seed + 1), leaf([B, H, nk, dv], seed + 2)];
}

forEachBackend('linearAttention', () => {
  test('non-causal equals the materialised formula (self- and cross-attention)', () => tidy(() => {
    const [Q, K, V] = qkv(2, 3, 7, 5, 4, 1);
    assertClose(values(linearAttention(Q, K, V)), values(naive(Q, K, V, false)), 'self', 1e-6, 1e-5);
    const [Q2, K2, V2] = qkv(2, 2, 3, 4, 6, 10, 9);
    assertClose(values(linearAttention(Q2, K2, V2)), values(naive(Q2, K2, V2, false)), 'cross', 1e-6, 1e-5);
  }));

  test('causal equals the materialised formula with a lower-triangular mask', () => tidy(() => {
    const [Q, K, V] = qkv(2, 3, 9, 5, 4, 20);
    assertClose(values(linearAttention(Q, K, V, { causal: true })), values(naive(Q, K, V, true)), 'causal', 1e-6, 1e-5);
    const eps = 0.5; // the normaliser's eps goes where the formula says
    assertClose(values(linearAttention(Q, K, V, { causal: true, eps })), values(naive(Q, K, V, true, eps)), 'eps', 1e-6, 1e-5);
  }));

  test('causal gradient (q, k, v) equals the gradient through the materialised formula', () => tidy(() => {
    const [Q, K, V] = qkv(2, 2, 16, 6, 5, 30);
    const w = leaf([2, 2, 16, 5], 33).requiresGrad_(false);
    const grads = (f: () => Tensor): number[][] => {
      for (const x of [Q, K, V]) x.zeroGrad();
      f().backward(w);
      return [Q, K, V].map((x) => values(x.grad!));
    };
    const fused = grads(() => linearAttention(Q, K, V, { causal: true }));
    const ref = grads(() => naive(Q, K, V, true));
    ['q', 'k', 'v'].forEach((name, i) => assertClose(fused[i]!, ref[i]!, `d${name}`, 1e-6, 1e-5));
  }));

  test('gradcheck: causal, non-causal, key padding, transposed views, one input', () => {
    const [Q, K, V] = qkv(1, 2, 4, 3, 2, 40);
    gradcheck('causal', (a, b, c) => linearAttention(a, b, c, { causal: true }), [Q, K, V]);
    gradcheck('non-causal', (a, b, c) => linearAttention(a, b, c), [Q, K, V]);
    const mask = q.tensor([[0, 1, 0, 1]], { dtype: 'int32' });
    gradcheck('causal, padded', (a, b, c) => linearAttention(a, b, c, { causal: true, keyPaddingMask: mask }), [Q, K, V]);
    const [Qt, Kt, Vt] = [leaf([1, 2, 3, 4], 44), leaf([1, 2, 3, 4], 45), leaf([1, 2, 2, 4], 46)];
    gradcheck('causal of transposed views', (a, b, c) => linearAttention(a.transpose(), b.transpose(), c.transpose(), { causal: true }), [Qt, Kt, Vt]);
    gradcheck('causal, only k wants a gradient', (b) => linearAttention(Q.detach(), b, V.detach(), { causal: true }), [K]);
  });

  test('the recurrent form, step by step, equals the causal parallel form', () => tidy(() => {
    const [B, H, n, dk, dv] = [2, 3, 12, 5, 4];
    const [Q, K, V] = qkv(B, H, n, dk, dv, 50);
    const mask = q.tensor([[0, 0, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0]], { dtype: 'int32' });
    for (const keyPaddingMask of [null, mask]) {
      const parallel = linearAttention(Q, K, V, { causal: true, keyPaddingMask });
      const state = new LinearAttentionState(B, H, dk, dv);
      const outs = Array.from({ length: n }, (_, t) =>
        state.step(Q.select(2, t), K.select(2, t), V.select(2, t), keyPaddingMask?.select(1, t)));
      assert.equal(state.steps, n);
      assert.equal(outs[0]!.requiresGrad, false);
      assertClose(values(q.stack(outs, 2)), values(parallel), `recurrent (mask: ${keyPaddingMask !== null})`, 1e-6, 1e-5);
      state.reset();
      assertClose(values(state.step(Q.select(2, 0), K.select(2, 0), V.select(2, 0))), values(parallel.select(2, 0)), 'after reset', 1e-6, 1e-5);
      state.dispose();
      assert.ok(state.S.isDisposed && state.z.isDisposed);
    }
  }));

  test('key padding: values at padded positions do not change outputs at real positions', () => tidy(() => {
    const [B, H, n] = [2, 2, 6];
    const mask = q.tensor([[0, 0, 0, 0, 1, 1], [0, 1, 0, 0, 0, 1]], { dtype: 'int32' });
    const run = (seed: number): number[] => {
      const [Q, K, V] = qkv(B, H, n, 4, 3, 60);
      const [Q2, K2, V2] = qkv(B, H, n, 4, 3, seed).map((x) => q.mul(x, 100));
      const pad = q.reshape(mask, [B, 1, n, 1]);
      const mix = (a: Tensor, b: Tensor): Tensor => q.where(pad, b, a); // other values only where padded
      return values(linearAttention(mix(Q, Q2), mix(K, K2), mix(V, V2), { keyPaddingMask: mask }));
    };
    const a = run(70);
    const b = run(80);
    const real = values(q.equal(q.reshape(mask, [B, 1, n, 1]).expand([B, H, n, 3]), 0));
    assert.notDeepEqual(a, b); // padded queries do see the other values
    assertClose(a.filter((_, i) => real[i]), b.filter((_, i) => real[i]), 'real positions', 1e-6, 1e-5);
    // and padding keys equals leaving them out
    const [Q, K, V] = qkv(1, 2, 5, 4, 3, 90);
    const dropped = linearAttention(Q, K.slice(2, 0, 3), V.slice(2, 0, 3));
    const padded = linearAttention(Q, K, V, { keyPaddingMask: q.tensor([[0, 0, 0, 1, 1]]) });
    assertClose(values(padded), values(dropped), 'padding = leaving out', 1e-6, 1e-5);
  }));

  test('peak memory of causal forward+backward grows like N, not N·dk·dv', () => {
    const [B, H, d] = [1, 2, 32];
    const extraPeak = (n: number): number => tidy(() => {
      const [Q, K, V] = qkv(B, H, n, d, d, 100);
      const w = leaf([B, H, n, d], 103).requiresGrad_(false);
      const base = memory().bytes;
      resetPeak();
      tidy(() => linearAttention(Q, K, V, { causal: true }).backward(w));
      const extra = memory().peakBytes - base;
      for (const x of [Q, K, V]) x.zeroGrad();
      assert.equal(memory().bytes, base, 'everything but the inputs is freed');
      return extra;
    });
    const small = extraPeak(64);
    const large = extraPeak(512);
    const materialised = 512 * d * d * 4 * B * H; // one dk×dv state per position
    console.log(`linear attention extra peak bytes: N=64 ${small}, N=512 ${large} (ratio ${(large / small).toFixed(2)}); ` +
      `an N×dk×dv state would be ${materialised}`);
    assert.ok(large / small < 12, `ratio ${large / small} is not linear in N`);
    assert.ok(large < 0.5 * materialised, `${large} bytes is not well below ${materialised}`);
  });
});

test('errors name the op and the shapes', () => {
  const z = (...s: number[]): Tensor => q.zeros(s);
  const op = 'linearAttention';
  throwsOp(() => linearAttention(z(1, 2, 4, 3), z(1, 2, 4, 5), z(1, 2, 4, 2)), op, /q \[1, 2, 4, 3\], k \[1, 2, 4, 5\], v \[1, 2, 4, 2\]: q and k must agree on batch, heads and dk/);
  throwsOp(() => linearAttention(z(1, 2, 4, 3), z(1, 2, 4, 3), z(1, 2, 5, 2)), op, /k and v must agree on batch, heads and length/);
  throwsOp(() => linearAttention(z(2, 4, 3), z(2, 4, 3), z(2, 4, 3)), op, /q \[2, 4, 3\].*each must be \(B, H, N, d\)/);
  throwsOp(() => linearAttention(z(1, 2, 3, 3), z(1, 2, 4, 3), z(1, 2, 4, 2), { causal: true }), op, /causal attention needs as many queries as keys \(3 != 4\)/);
  throwsOp(() => linearAttention(z(1, 2, 4, 3), z(1, 2, 4, 3), z(1, 2, 4, 2), { keyPaddingMask: z(4, 4) }), op, /keyPaddingMask of shape \[4, 4\] must be \(B, N\) = \[1, 4\]/);
  throwsOp(() => linearAttention(z(1, 2, 4, 3), z(1, 2, 4, 3), q.zeros([1, 2, 4, 2], { dtype: 'int32' })), op, /v must be float32, got int32/);
  throwsOp(() => linearAttention(z(1, 2, 4, 3), z(1, 2, 4, 3), z(1, 2, 4, 2), { eps: -1 }), op, /eps must be a finite number >= 0/);
  throwsOp(() => linearAttention(z(1, 2, 4, 3), z(1, 2, 4, 3), z(1, 2, 4, 2), { featureMap: (x) => q.sum(x, 2) }), op, /featureMap turned q \[1, 2, 4, 3\] into \[1, 2, 3\]/);
  const state = new LinearAttentionState(1, 2, 3, 2);
  throwsOp(() => state.step(z(1, 2, 3), z(1, 2, 3), z(1, 2, 4)), 'LinearAttentionState.step', /v \[1, 2, 4\] do not fit a state of B=1, H=2, dv=2/);
  throwsOp(() => new LinearAttentionState(1, 0, 3, 2), 'LinearAttentionState', /heads must be a positive integer, got 0/);
  state.dispose();
});
