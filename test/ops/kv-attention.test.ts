// The fused decoding step (ops/kv-attention.ts, the native KVAttentionStep): the native kernel
// against the reference function (itself FlashAttention's reference on each head's cache rows),
// never reading cache rows past the new position, and a GPT decoding with it giving the logits of
// the unfused path (split, heads, append, flashAttention); it stays out of the way where it does not apply.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assign, Generator, getBackend, getBackendByName, nativeAvailable, nn, noGrad, randn, setBackend, tensor, tidy } from '../../src/index.js';
import { kvAttentionStep as refStep } from '../../src/kernels/ref/kv-attention.js';
import { hasKVAttentionStep, kvAttentionStep } from '../../src/ops/kv-attention.js';
import { assertClose, throwsOp } from '../helpers.js';

const skip = nativeAvailable() ? false : 'the native addon is not built';

/** Runs fn with `name` as the default backend. */
function on<T>(name: string, fn: () => T): T {
  const previous = getBackend().name;
  setBackend(name);
  try {
    return fn();
  } finally {
    setBackend(previous);
  }
}

describe('KVAttentionStep on native', { skip }, () => {
  for (const backend of ['native-tiny', 'native']) {
    test(`${backend}: ten steps equal the reference, the caches too, and rows past the position are never read`, () => on(backend, () => {
      const [B, H, d, cap] = [2, 3, 20, 16];
      const g = new Generator(7);
      const nan = () => new Float32Array(B * H * cap * d).fill(NaN);
      const kc = tensor(nan(), { shape: [B, H, cap, d] });
      const vc = tensor(nan(), { shape: [B, H, cap, d] });
      const [rk, rv] = [nan(), nan()];
      for (let pos = 0; pos < 10; pos++) {
        const qkv = randn([B, 1, 3 * H * d], { generator: g });
        const out = noGrad(() => kvAttentionStep(qkv, kc, vc, pos, 0.3));
        const want = new Float32Array(B * H * d);
        refStep(qkv.toTypedArray() as Float32Array, rk, rv, { batch: B, heads: H, d, capacity: cap, pos, scale: 0.3 }, want);
        assert.deepEqual(out.shape, [B, 1, H * d]);
        const got = out.toTypedArray();
        assert.ok(got.every(Number.isFinite), `step ${pos}: finite (no NaN row of the caches read)`);
        assertClose(got, want, `step ${pos} output`, 1e-6, 1e-5);
        assertClose(kc.toTypedArray(), rk, `step ${pos} keys`, 0, 0);
        assertClose(vc.toTypedArray(), rv, `step ${pos} values`, 0, 0);
        for (const t of [qkv, out]) t.dispose();
      }
    }));
  }

  test('bad positions and shapes are refused with the op\'s name', () => on('native-tiny', () => {
    const kc = tensor(new Float32Array(2 * 4 * 8), { shape: [1, 2, 4, 8] });
    const qkv = randn([1, 1, 48]);
    throwsOp(() => kvAttentionStep(qkv, kc, kc, 4), 'kvAttentionStep', /position 4 is outside the caches' capacity 4/);
    throwsOp(() => kvAttentionStep(randn([1, 1, 47]), kc, kc, 0), 'kvAttentionStep', /qkv must be \(B, 1, 3·H·d\)/);
  }));
});

describe('GPT decoding with the fused step', { skip }, () => {
  const config = { vocabSize: 17, blockSize: 24, nLayer: 2, nHead: 3, nEmbd: 48, bias: true };
  /** Logits of a 3-token prompt, then of 12 single tokens on the caches (fused or not). */
  function decode(gpt: nn.GPT, fused: boolean): { logits: Float32Array[]; lengths: number[]; calls: number } {
    const be = getBackend();
    const kernel = be.kernels.KVAttentionStep!;
    let calls = 0;
    if (!fused) delete (be.kernels as { KVAttentionStep?: unknown }).KVAttentionStep;
    else be.kernels.KVAttentionStep = (...args) => { calls++; kernel(...args); };
    try {
      const caches = gpt.makeCaches(1);
      const ids = [1, 5, 9, 2, 14, 3, 3, 7, 0, 16, 11, 4, 8, 6, 12];
      const logits: Float32Array[] = [];
      noGrad(() => {
        logits.push(tidy(() => gpt.forward(tensor(Int32Array.from(ids.slice(0, 3)), { shape: [1, 3] }), { caches }).logits.toTypedArray() as Float32Array));
        for (const id of ids.slice(3)) logits.push(tidy(() => gpt.forward(tensor(Int32Array.from([id]), { shape: [1, 1] }), { caches }).logits.toTypedArray() as Float32Array));
      });
      const lengths = caches.map((c) => c.length);
      caches.forEach((c) => c.dispose());
      return { logits, lengths, calls };
    } finally {
      be.kernels.KVAttentionStep = kernel;
    }
  }

  for (const backend of ['native-tiny', 'native']) {
    test(`${backend}: the same logits at every step as the unfused path`, () => on(backend, () => {
      assert.ok(hasKVAttentionStep(randn([1])), 'the native backend has the fused step');
      const gpt = new nn.GPT({ ...config, generator: new Generator(3) });
      gpt.eval();
      // larger weights than GPT's init, so the attention is far from uniform
      noGrad(() => { for (const p of gpt.parameters()) { const big = p.mul(20); assign(p, big); big.dispose(); } });
      const a = decode(gpt, true);
      const b = decode(gpt, false);
      assert.deepEqual(a.lengths, [15, 15]);
      assert.deepEqual(a.lengths, b.lengths);
      assert.equal(a.calls, 12 * config.nLayer, 'every single-token step of every layer fused');
      assert.equal(b.calls, 0);
      a.logits.forEach((l, i) => assertClose(l, b.logits[i]!, `step ${i} logits`, 1e-5, 1e-4));
    }));
  }

  test('with gradients on, the cache takes the unfused path (the fused step has no gradient)', () => on('native-tiny', () => {
    const cache = new nn.KVCache();
    const qkv = randn([1, 1, 3 * 2 * 4]);
    assert.equal(cache.step(qkv, 2), null);
    assert.equal(cache.length, 0);
    assert.notEqual(noGrad(() => cache.step(qkv, 2)), null);
    assert.equal(cache.length, 1);
    cache.dispose();
  }));

  test('a backend without the kernel (wasm, the reference) takes the unfused path', () => {
    for (const name of ['ref', 'wasm']) {
      let be;
      try { be = getBackendByName(name); } catch { continue; }
      assert.equal(be.kernels.KVAttentionStep, undefined, `${name} has no fused step`);
    }
  });
});
