// FlashAttention (fused exact softmax attention): values and gradients against the naive
// composition matmul + mask + softmax + matmul for every mask it honours, fully masked rows,
// sizes that are not multiples of the tiles, the kernels' bh ranges, finite differences,
// KV-cache decoding, peak memory linear in N, and errors; on every backend.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as q from '../../src/index.js';
import { flashAttention, Generator, kernel, memory, nn, resetPeak, tidy, type Tensor } from '../../src/index.js';
import type { FlashAttentionArgs } from '../../src/kernels/contract.js';
import { FLASH_BC, FLASH_BR } from '../../src/kernels/ref/flash-attention.js';
import { assertClose, forEachBackend, gradcheck, leaf, throwsOp, values } from '../helpers.js';

interface Masks { causal?: boolean; window?: number | null; keyPaddingMask?: Tensor | null; scale?: number }

/** softmax(scale·Q Kᵀ + masks) V the N×S way, every mask as -Infinity (a row with nothing left gives 0). */
function naive(Q: Tensor, K: Tensor, V: Tensor, o: Masks = {}): Tensor {
  const [B, , L, d] = Q.shape as [number, number, number, number];
  const S = K.shape[2]!;
  let A = q.mul(q.matmul(Q, q.transpose(K)), o.scale ?? 1 / Math.sqrt(d));
  if (o.causal) A = q.maskedFill(A, nn.causalMask(L, S), -Infinity);
  if (o.window != null) A = q.maskedFill(A, nn.windowMask(L, o.window, S), -Infinity);
  if (o.keyPaddingMask) A = q.maskedFill(A, q.reshape(o.keyPaddingMask, [B, 1, 1, S]), -Infinity);
  return q.matmul(q.softmax(A, -1), V);
}

function qkv(B: number, H: number, n: number, s: number, d: number, dv: number, seed: number): [Tensor, Tensor, Tensor] {
  return [leaf([B, H, n, d], seed), leaf([B, H, s, d], seed + 1), leaf([B, H, s, dv], seed + 2)];
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

/** Output and the gradients of q, k, v for Σ f(q, k, v)·w. */
function run(f: () => Tensor, inputs: Tensor[], w: Tensor): number[][] {
  for (const x of inputs) x.zeroGrad();
  return tidy(() => {
    const out = f();
    out.backward(w);
    return [values(out), ...inputs.map((x) => values(x.grad!))];
  });
}

const cases: { name: string; dims: [number, number, number, number, number, number]; masks: (B: number, s: number) => Masks }[] = [
  { name: 'no mask', dims: [2, 3, 37, 37, 8, 8], masks: () => ({}) },
  { name: 'cross-attention, n != s, d != dv', dims: [2, 2, 19, 45, 5, 3], masks: () => ({}) },
  { name: 'causal, n == s', dims: [2, 2, 40, 40, 6, 7], masks: () => ({ causal: true }) },
  { name: 'causal with a cached past (n < s)', dims: [1, 3, 7, 50, 4, 4], masks: () => ({ causal: true }) },
  { name: 'causal, more queries than keys (first rows see nothing)', dims: [1, 2, 21, 4, 3, 3], masks: () => ({ causal: true }) },
  { name: 'window', dims: [2, 2, 41, 41, 4, 5], masks: () => ({ window: 5 }) },
  { name: 'window 0 (each query sees itself)', dims: [1, 2, 18, 18, 4, 4], masks: () => ({ window: 0 }) },
  { name: 'causal + window with a cached past', dims: [1, 2, 9, 70, 4, 3], masks: () => ({ causal: true, window: 6 }) },
  {
    name: 'key padding', dims: [3, 2, 21, 50, 4, 6],
    masks: (B, s) => ({ keyPaddingMask: nn.paddingMask([50, 33, 1].slice(0, B), s) }),
  },
  {
    name: 'causal + key padding + scale', dims: [2, 2, 35, 35, 5, 5],
    masks: (B, s) => ({ causal: true, keyPaddingMask: nn.paddingMask([35, 20].slice(0, B), s), scale: 0.7 }),
  },
];

forEachBackend('flashAttention', () => {
  test(`values and gradients equal the naive composition (tiles ${FLASH_BR}×${FLASH_BC}; sizes not multiples of them)`, () => {
    const errors: string[] = [];
    cases.forEach(({ name, dims: [B, H, n, s, d, dv], masks }, c) => tidy(() => {
      const [Q, K, V] = qkv(B, H, n, s, d, dv, 10 * c + 1);
      const w = leaf([B, H, n, dv], 10 * c + 7).requiresGrad_(false);
      const o = masks(B, s);
      const fused = run(() => flashAttention(Q, K, V, o), [Q, K, V], w);
      const ref = run(() => naive(Q, K, V, o), [Q, K, V], w);
      ['out', 'dq', 'dk', 'dv'].forEach((what, i) => {
        assertClose(fused[i]!, ref[i]!, `${name}: ${what}`, 2e-6, 2e-5);
        assert.ok(fused[i]!.every(Number.isFinite), `${name}: ${what} is finite`);
      });
      errors.push(`${name}: ${['out', 'dq', 'dk', 'dv'].map((x, i) => `${x} ${maxAbsDiff(fused[i]!, ref[i]!).toExponential(1)}`).join(', ')}`);
    }));
    console.log(`flashAttention vs naive, max abs differences:\n  ${errors.join('\n  ')}`);
  });

  test('attention dropout inside the kernel: values and gradients equal dropout(softmax(...)) V with the same key', () => {
    const errors: string[] = [];
    cases.forEach(({ name, dims: [B, H, n, s, d, dv], masks }, c) => tidy(() => {
      const p = c % 2 ? 0.5 : 0.2;
      const [Q, K, V] = qkv(B, H, n, s, d, dv, 10 * c + 3);
      const w = leaf([B, H, n, dv], 10 * c + 9).requiresGrad_(false);
      const o = masks(B, s);
      const fused = run(() => flashAttention(Q, K, V, { ...o, dropout: p, generator: new Generator(c) }), [Q, K, V], w);
      const ref = run(() => {
        const [, , L, dd] = Q.shape as [number, number, number, number];
        let A = q.mul(q.matmul(Q, q.transpose(K)), o.scale ?? 1 / Math.sqrt(dd));
        if (o.causal) A = q.maskedFill(A, nn.causalMask(L, s), -Infinity);
        if (o.window != null) A = q.maskedFill(A, nn.windowMask(L, o.window, s), -Infinity);
        if (o.keyPaddingMask) A = q.maskedFill(A, q.reshape(o.keyPaddingMask, [B, 1, 1, s]), -Infinity);
        return q.matmul(q.dropout(q.softmax(A, -1), p, true, new Generator(c)), V);
      }, [Q, K, V], w);
      const plain = run(() => flashAttention(Q, K, V, o), [Q, K, V], w);
      ['out', 'dq', 'dk', 'dv'].forEach((what, i) => assertClose(fused[i]!, ref[i]!, `${name}, p ${p}: ${what}`, 2e-6, 2e-5));
      assert.ok(maxAbsDiff(fused[0]!, plain[0]!) > 1e-3, `${name}: dropout changed the output`);
      errors.push(`${name} (p ${p}): ${['out', 'dq', 'dk', 'dv'].map((x, i) => `${x} ${maxAbsDiff(fused[i]!, ref[i]!).toExponential(1)}`).join(', ')}`);
    }));
    console.log(`flashAttention with dropout vs dropout of the naive weights, max abs differences:\n  ${errors.join('\n  ')}`);
    const [Q, K, V] = qkv(1, 2, 3, 5, 3, 2, 420);
    gradcheck('dropout 0.4 + causal (same key each evaluation)', (a, b, c) => flashAttention(a, b, c, { causal: true, dropout: 0.4, generator: new Generator(5) }), [Q, K, V]);
    throwsOp(() => flashAttention(Q, K, V, { dropout: 1.5 }), 'flashAttention', /dropout must be in \[0, 1\], got 1.5/);
  });

  test('a fully padded sequence: zero output, finite zero gradients (the naive path agrees)', () => tidy(() => {
    const [B, H, n, s, d, dv] = [2, 2, 5, 6, 3, 4];
    const [Q, K, V] = qkv(B, H, n, s, d, dv, 200);
    const keyPaddingMask = q.tensor([[0, 0, 1, 0, 1, 1], [1, 1, 1, 1, 1, 1]], { dtype: 'int32' });
    const w = leaf([B, H, n, dv], 207).requiresGrad_(false);
    const [out, dq, dk, dvv] = run(() => flashAttention(Q, K, V, { keyPaddingMask }), [Q, K, V], w);
    const half = (x: number[]) => x.slice(x.length / 2);
    for (const [what, x] of [['out', out], ['dq', dq], ['dk', dk], ['dv', dvv]] as const) {
      assert.ok(x!.every(Number.isFinite), `${what} finite`);
      assert.ok(half(x!).every((y) => y === 0), `${what} of the padded sequence is exactly 0`);
    }
    assert.ok(out!.slice(0, out!.length / 2).some((y) => y !== 0));
    const ref = run(() => naive(Q, K, V, { keyPaddingMask }), [Q, K, V], w);
    [out, dq, dk, dvv].forEach((x, i) => assertClose(x!, ref[i]!, `vs naive ${i}`, 2e-6, 2e-5));
    // padded keys get zero dk, dv in the other sequence too
    const dk0 = dk!.slice(0, H * s * d);
    for (let h = 0; h < H; h++) for (const j of [2, 4, 5]) for (let c = 0; c < d; c++) assert.equal(dk0[(h * s + j) * d + c], 0);
  }));

  test('the kernels: lse is the masked logsumexp (-Infinity and out 0 where nothing is seen); bh ranges touch only their slices', () => {
    const [B, H, n, s, d, dv] = [2, 2, 20, 35, 3, 2];
    const bh = B * H;
    const base: Omit<FlashAttentionArgs, 'bh0' | 'bh1'> = { bh, heads: H, n, s, d, dv, scale: 0.6, causal: true, window: -1 };
    tidy(() => {
      const [Q, K, V] = qkv(B, H, n, s, d, dv, 300);
      const G = leaf([B, H, n, dv], 303);
      const pad = q.tensor([[0, 0, 0, 1, ...Array<number>(s - 4).fill(0)], Array<number>(s).fill(1)], { dtype: 'int32' });
      const SENTINEL = 777;
      const outputs = () => ({
        out: q.full([bh, n, dv], SENTINEL), lse: q.full([bh, n], SENTINEL),
        dq: q.full([bh, n, d], SENTINEL), dk: q.full([bh, s, d], SENTINEL), dv: q.full([bh, s, dv], SENTINEL),
      });
      const call = (o: ReturnType<typeof outputs>, bh0: number, bh1: number) => {
        const f = (t: Tensor) => t.buffer() as Float32Array; // read after every allocation
        const args = { ...base, bh0, bh1 };
        kernel('FlashAttention')(f(Q), f(K), f(V), pad.buffer() as Int32Array, args, f(o.out), f(o.lse));
        kernel('FlashAttentionGrad')(f(Q), f(K), f(V), pad.buffer() as Int32Array, f(o.out), f(o.lse), f(G), args, f(o.dq), f(o.dk), f(o.dv));
      };
      const full = outputs();
      call(full, 0, bh);
      // lse against a plain logsumexp over the keys each query sees
      const [qa, ka, lse, padv] = [values(Q), values(K), values(full.lse), values(pad)];
      const shift = s - n;
      for (let b = 0; b < bh; b++) {
        for (let i = 0; i < n; i++) {
          const scores: number[] = [];
          for (let j = 0; j <= Math.min(s - 1, i + shift); j++) {
            if (padv[Math.floor(b / H) * s + j] !== 0) continue;
            let dot = 0;
            for (let c = 0; c < d; c++) dot += qa[(b * n + i) * d + c]! * ka[(b * s + j) * d + c]!;
            scores.push(0.6 * dot);
          }
          const m = Math.max(...scores);
          const expected = scores.length ? m + Math.log(scores.reduce((t, x) => t + Math.exp(x - m), 0)) : -Infinity;
          if (expected === -Infinity) assert.equal(lse[b * n + i], -Infinity, `lse[${b}, ${i}]`);
          else assertClose([lse[b * n + i]!], [expected], `lse[${b}, ${i}]`, 1e-5, 1e-6);
        }
      }
      assert.ok(values(full.out).slice(2 * n * dv).every((x) => x === 0), 'the padded sequence gives out = 0');
      // a partial call writes its slices only, and equals the full call there
      const part = outputs();
      call(part, 1, 3);
      for (const key of ['out', 'lse', 'dq', 'dk', 'dv'] as const) {
        const p = values(part[key]);
        const fv = values(full[key]);
        const per = p.length / bh;
        assert.ok(p.slice(0, per).every((x) => x === SENTINEL) && p.slice(3 * per).every((x) => x === SENTINEL), `${key}: slices 0 and 3 untouched`);
        assert.deepEqual(p.slice(per, 3 * per), fv.slice(per, 3 * per), `${key}: slices 1 and 2 as in the full call`);
      }
      // two threads' halves make the full result
      const halves = outputs();
      call(halves, 0, 2);
      call(halves, 2, 4);
      for (const key of ['out', 'lse', 'dq', 'dk', 'dv'] as const) assert.deepEqual(values(halves[key]), values(full[key]), key);
      assert.throws(() => call(outputs(), 3, 5), /slice range \[3, 5\) is not inside \[0, 4\)/);
    });
  });

  test('gradcheck: plain, causal, window, key padding, cached past, transposed views, one input', () => {
    const [Q, K, V] = qkv(1, 2, 3, 5, 3, 2, 400);
    const pad = q.tensor([[0, 1, 0, 0, 1]], { dtype: 'int32' });
    gradcheck('plain', (a, b, c) => flashAttention(a, b, c), [Q, K, V]);
    gradcheck('causal, cached past', (a, b, c) => flashAttention(a, b, c, { causal: true }), [Q, K, V]);
    gradcheck('window 1', (a, b, c) => flashAttention(a, b, c, { window: 1 }), [Q, K, V]);
    gradcheck('padding + causal', (a, b, c) => flashAttention(a, b, c, { causal: true, keyPaddingMask: pad }), [Q, K, V]);
    const [Qt, Kt, Vt] = [leaf([1, 2, 3, 4], 410), leaf([1, 2, 3, 4], 411), leaf([1, 2, 2, 4], 412)];
    gradcheck('transposed views', (a, b, c) => flashAttention(a.transpose(), b.transpose(), c.transpose(), { causal: true }), [Qt, Kt, Vt]);
    gradcheck('only k wants a gradient', (b) => flashAttention(Q.detach(), b, V.detach(), { causal: true }), [K]);
  });

  test('KV-cache decoding: one query at a time over the keys so far equals the full causal pass', () => tidy(() => {
    const [B, H, n, d] = [1, 2, 45, 4];
    const [Q, K, V] = qkv(B, H, n, n, d, d, 500);
    const full = flashAttention(Q, K, V, { causal: true });
    const steps = Array.from({ length: n }, (_, t) =>
      flashAttention(Q.slice(2, t, t + 1), K.slice(2, 0, t + 1), V.slice(2, 0, t + 1), { causal: true }));
    assertClose(values(q.concat(steps, 2)), values(full), 'stepwise vs full', 1e-7, 1e-6);
  }));

  test('peak memory of forward+backward grows like N, not N²', () => {
    const [B, H, d] = [1, 1, 16];
    const extraPeak = (n: number): number => tidy(() => {
      const [Q, K, V] = qkv(B, H, n, n, d, d, 600);
      const w = leaf([B, H, n, d], 603).requiresGrad_(false);
      const base = memory().bytes;
      resetPeak();
      tidy(() => flashAttention(Q, K, V, { causal: true }).backward(w));
      const extra = memory().peakBytes - base;
      for (const x of [Q, K, V]) x.zeroGrad();
      assert.equal(memory().bytes, base, 'everything but the inputs is freed');
      return extra;
    });
    const small = extraPeak(1024);
    const large = extraPeak(2048);
    const weights = 2048 * 2048 * 4 * B * H; // one (N, N) float32 attention matrix
    console.log(`flashAttention extra peak bytes: N=1024 ${small}, N=2048 ${large} (ratio ${(large / small).toFixed(2)}); ` +
      `one N×N weights matrix would be ${weights}`);
    assert.ok(large / small > 1.8 && large / small < 2.2, `ratio ${large / small} is not linear in N`);
    assert.ok(large < 0.05 * weights, `${large} bytes is not far below ${weights}`);
  });
});

test('errors name the op and the shapes', () => {
  const z = (...s: number[]): Tensor => q.zeros(s);
  const op = 'flashAttention';
  throwsOp(() => flashAttention(z(1, 2, 4, 3), z(1, 2, 4, 5), z(1, 2, 4, 2)), op, /q \[1, 2, 4, 3\], k \[1, 2, 4, 5\], v \[1, 2, 4, 2\]: q and k must agree on batch, heads and d/);
  throwsOp(() => flashAttention(z(1, 2, 4, 3), z(1, 2, 4, 3), z(1, 2, 5, 2)), op, /k and v must agree on batch, heads and length/);
  throwsOp(() => flashAttention(z(2, 4, 3), z(2, 4, 3), z(2, 4, 3)), op, /q \[2, 4, 3\].*each must be \(B, H, N, d\)/);
  throwsOp(() => flashAttention(z(1, 2, 4, 3), z(1, 2, 4, 3), q.zeros([1, 2, 4, 2], { dtype: 'int32' })), op, /v must be float32, got int32/);
  throwsOp(() => flashAttention(z(1, 2, 4, 3), z(1, 2, 4, 3), z(1, 2, 4, 2), { keyPaddingMask: q.zeros([1, 5], { dtype: 'int32' }) }), op,
    /keyPaddingMask of shape \[1, 5\] must be \(B, S\) = \[1, 4\]/);
  throwsOp(() => flashAttention(z(1, 2, 4, 3), z(1, 2, 4, 3), z(1, 2, 4, 2), { keyPaddingMask: z(1, 4) }), op, /keyPaddingMask must be int32 \(nonzero = padding\), got float32/);
  throwsOp(() => flashAttention(z(1, 2, 4, 3), z(1, 2, 4, 3), z(1, 2, 4, 2), { window: -1 }), op, /window must be a non-negative integer \(or null for none\), got -1/);
  throwsOp(() => flashAttention(z(1, 2, 4, 3), z(1, 2, 4, 3), z(1, 2, 4, 2), { window: 1.5 }), op, /window must be a non-negative integer/);
  throwsOp(() => flashAttention(z(1, 2, 4, 3), z(1, 2, 4, 3), z(1, 2, 4, 2), { scale: NaN }), op, /scale must be a finite number, got NaN/);
  const x = z(1, 1, 2, 2);
  x.dispose();
  assert.throws(() => flashAttention(x, z(1, 1, 2, 2), z(1, 1, 2, 2)), /flashAttention: tensor #\d+ \[1, 1, 2, 2\] was disposed/);
});

test('empty sizes: no keys gives zeros; no queries gives an empty output', () => tidy(() => {
  const [Q, K, V] = qkv(1, 2, 3, 0, 4, 5, 700);
  const out = flashAttention(Q, K, V);
  assert.deepEqual(out.shape, [1, 2, 3, 5]);
  assert.ok(values(out).every((x) => x === 0));
  const [Q2, K2, V2] = qkv(1, 2, 0, 3, 4, 5, 710);
  assert.deepEqual(flashAttention(Q2, K2, V2, { causal: true }).shape, [1, 2, 0, 5]);
}));

forEachBackend('flashAttentionPacked', () => {
  test('q, k, v packed in one (3, B, H, T, d) tensor: the values and gradients of flashAttention on the three parts', () => {
    const errors: string[] = [];
    const packedCases: { name: string; dims: [number, number, number, number]; masks: (B: number, T: number) => Masks }[] = [
      { name: 'no mask', dims: [2, 3, 37, 8], masks: () => ({}) },
      { name: 'causal', dims: [2, 2, 40, 6], masks: () => ({ causal: true }) },
      { name: 'causal + key padding + scale', dims: [2, 2, 35, 5], masks: (B, T) => ({ causal: true, keyPaddingMask: nn.paddingMask([35, 20].slice(0, B), T), scale: 0.7 }) },
      { name: 'window', dims: [1, 2, 41, 4], masks: () => ({ window: 5 }) },
    ];
    packedCases.forEach(({ name, dims: [B, H, T, d], masks }, c) => tidy(() => {
      // as GPT-2 makes it: a (B, T, 3·H·d) projection viewed as (B, T, 3, H, d), permuted to (3, B, H, T, d)
      const proj = leaf([B, T, 3 * H * d], 50 * c + 3);
      const w = leaf([B, H, T, d], 50 * c + 9).requiresGrad_(false);
      const o = masks(B, T);
      const packedOf = () => q.permute(q.reshape(proj, [B, T, 3, H, d]), [2, 0, 3, 1, 4]);
      const packed = run(() => q.flashAttentionPacked(packedOf(), o), [proj], w);
      const parts = run(() => {
        const p = packedOf();
        return flashAttention(q.select(p, 0, 0), q.select(p, 0, 1), q.select(p, 0, 2), o);
      }, [proj], w);
      ['out', 'd proj'].forEach((what, i) => assertClose(packed[i]!, parts[i]!, `${name}: ${what}`, 1e-7, 1e-6));
      errors.push(`${name}: out ${maxAbsDiff(packed[0]!, parts[0]!).toExponential(1)}, d proj ${maxAbsDiff(packed[1]!, parts[1]!).toExponential(1)}`);
    }));
    console.log(`flashAttentionPacked vs flashAttention on the parts, max abs differences:\n  ${errors.join('\n  ')}`);
  });

  test('strided attention (Backend.stridedAttention): the projection read in place, out as (B, T, H, d) memory, no copy forward or backward', (t) => {
    const be = q.getBackend();
    if (be.name === 'ref' || be.name.startsWith('native')) assert.ok(be.stridedAttention, `${be.name} claims strided attention`);
    if (!be.stridedAttention) return t.skip(`${be.name} copies the heads (no strided kernels)`);
    const [B, T, H, d] = [2, 19, 3, 8];
    const kernels = be.kernels as Record<string, unknown>;
    const copy = kernels.Copy as (...a: unknown[]) => void;
    let copies = 0;
    kernels.Copy = (...a: unknown[]) => { copies++; copy(...a); };
    try {
      tidy(() => {
        const x = leaf([B, T, 3 * H * d], 77);
        const b = q.flashAttentionPacked(q.permute(q.reshape(x, [B, T, 3, H, d]), [2, 0, 3, 1, 4]), { causal: true });
        assert.deepEqual(b.strides, [T * H * d, d, H * d, 1]); // (B, T, H, d) memory seen as (B, H, T, d)
        const y = q.reshape(q.permute(b, [0, 2, 1, 3]), [B, T, H * d]);
        assert.ok(y.isContiguous && y.storage === b.storage, 'the heads side by side are a view');
        const w = leaf([B, T, H * d], 78).requiresGrad_(false);
        q.sum(q.mul(y, w)).backward();
        assert.equal(copies, 0, 'no Copy kernel ran');
        const xc = q.tensor(x.toTypedArray(), { shape: x.shape }); // against the parts through flashAttention (the dense path here)
        const p = q.permute(q.reshape(xc, [B, T, 3, H, d]), [2, 0, 3, 1, 4]);
        assertClose(values(b), values(flashAttention(q.select(p, 0, 0), q.select(p, 0, 1), q.select(p, 0, 2), { causal: true })), 'out', 1e-7, 1e-6);
        assert.ok(x.grad && values(x.grad).every(Number.isFinite));
        // separate q, k, v as BERT's projections give them: each head-permuted in place, gradients as views too
        copies = 0;
        const proj = [79, 80, 81].map((seed) => leaf([B, T, H * d], seed));
        const heads = (z: Tensor) => q.permute(q.reshape(z, [B, T, H, d]), [0, 2, 1, 3]);
        const mask = nn.paddingMask([T, 11], T);
        const o = flashAttention(heads(proj[0]!), heads(proj[1]!), heads(proj[2]!), { keyPaddingMask: mask });
        assert.deepEqual(o.strides, [T * H * d, d, H * d, 1]);
        q.sum(q.mul(q.reshape(q.permute(o, [0, 2, 1, 3]), [B, T, H * d]), w)).backward();
        assert.equal(copies, 0, 'no Copy kernel ran for the separate heads either');
        const plain = proj.map((z) => q.tensor(z.toTypedArray(), { shape: z.shape }));
        assertClose(values(o), values(naive(heads(plain[0]!), heads(plain[1]!), heads(plain[2]!), { keyPaddingMask: mask })), 'separate heads: out', 1e-6, 1e-5);
        assert.ok(proj.every((z) => z.grad && values(z.grad).every(Number.isFinite)));
      });
    } finally {
      kernels.Copy = copy;
    }
  });

  test('gradcheck through the packed heads', () => {
    gradcheck('flashAttentionPacked causal', (x) => q.flashAttentionPacked(q.permute(q.reshape(x, [1, 5, 3, 2, 3]), [2, 0, 3, 1, 4]), { causal: true }), [leaf([1, 5, 18], 901)]);
  });

  test('errors name the op and the shapes', () => {
    throwsOp(() => q.flashAttentionPacked(q.zeros([2, 1, 2, 4, 3])), 'flashAttentionPacked', /qkv must be \(3, B, H, T, d\), got \[2, 1, 2, 4, 3\]/);
    throwsOp(() => q.flashAttentionPacked(q.zeros([3, 1, 2, 4, 3]), { keyPaddingMask: q.zeros([1, 5], { dtype: 'int32' }) }), 'flashAttentionPacked',
      /keyPaddingMask of shape \[1, 5\] must be \(B, S\) = \[1, 4\]/);
    throwsOp(() => q.flashAttentionPacked(q.zeros([3, 1, 2, 4, 3]), { causal: 1 as unknown as boolean }), 'flashAttentionPacked', /causal must be a boolean/);
  });
});
