// The WebAssembly attention kernels against the reference: FlashAttention forward and backward
// (masks, cached past, odd sizes, 2 threads) and causal linear attention with its RNN step.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Generator, type KernelSignatures } from '../../src/index.js';
import { createWasmBackendSync } from '../../src/kernels/wasm/node.js';
import { arrays, assertRelClose, fillRandom, ref, relDiff, setup, skip } from './wasm-setup.js';

describe('wasm attention kernels', { skip }, () => {
  test('FlashAttention and its gradient run in wasm and match the reference: masks, cached past, odd sizes, 2 threads', async () => {
    const s = setup();
    const two = createWasmBackendSync({ threads: 2, tiny: true, poison: true });
    const g = new Generator(10);
    // [B, heads, n, s, d, dv, causal, window, padding]
    const cases: [number, number, number, number, number, number, boolean, number, boolean][] = [
      [1, 2, 37, 37, 16, 16, false, -1, false], [2, 2, 70, 70, 8, 12, true, -1, false], [1, 3, 5, 133, 12, 5, true, -1, false],
      [2, 1, 66, 66, 4, 8, false, 6, true], [1, 2, 29, 40, 7, 9, true, 3, true], [2, 2, 9, 9, 64, 64, true, -1, true], [1, 1, 1, 65, 16, 16, true, -1, false],
    ];
    for (const [B, H, n, sk, d, dv, causal, window, padding] of cases) {
      const bh = B * H;
      const a = { bh, heads: H, n, s: sk, d, dv, scale: 1 / Math.sqrt(d), causal, window, bh0: 0, bh1: bh };
      const pad = new Int32Array(B * sk);
      if (padding) for (let b = 0; b < B; b++) for (let j = 0; j < sk; j++) pad[b * sk + j] = (j * 7 + b) % 5 === 0 || (b === 1 && j >= sk - 3) ? 1 : 0;
      if (padding && B > 1) for (let j = 0; j < sk; j++) pad[j] = 1; // batch 0 sees nothing at all
      const data = [bh * n * d, bh * sk * d, bh * sk * dv, bh * n * dv].map((len) => Float32Array.from({ length: len }, () => g.normal()));
      const [qd, kd, vd, god] = data as [Float32Array, Float32Array, Float32Array, Float32Array];
      const expOut = new Float32Array(bh * n * dv);
      const expLse = new Float32Array(bh * n);
      ref.FlashAttention(qd, kd, vd, padding ? pad : null, a, expOut, expLse);
      const expG = [new Float32Array(bh * n * d), new Float32Array(bh * sk * d), new Float32Array(bh * sk * dv)] as const;
      ref.FlashAttentionGrad(qd, kd, vd, padding ? pad : null, expOut, expLse, god, a, ...expG);
      for (const backend of [{ kernels: s.kernels, allocator: s.allocator, name: '1 thread' }, { kernels: two.kernels as KernelSignatures, allocator: two.allocator, name: '2 threads' }]) {
        const al = [...data.map((x) => x.length), bh * n * dv, bh * n, bh * n * d, bh * sk * d, bh * sk * dv].map((len) => backend.allocator.allocate('float32', len));
        const padAl = backend.allocator.allocate('int32', pad.length);
        const [q, k, v, go, out, lse, dq, dk, dvv] = al.map((x) => x.view() as Float32Array) as Float32Array[];
        const padV = padAl.view() as Int32Array;
        [q, k, v, go].forEach((x, i) => x!.set(data[i]!));
        padV.set(pad);
        backend.kernels.FlashAttention(q!, k!, v!, padding ? padV : null, a, out!, lse!);
        backend.kernels.FlashAttentionGrad(q!, k!, v!, padding ? padV : null, out!, lse!, go!, a, dq!, dk!, dvv!);
        const what = `${backend.name} B=${B} H=${H} n=${n} s=${sk} d=${d} dv=${dv} causal=${causal} window=${window} padding=${padding}`;
        assertRelClose(lse!, expLse, `${what}: lse`, 1e-5, 1);
        for (const [got, want, name] of [[out!, expOut, 'out'], [dq!, expG[0], 'dq'], [dk!, expG[1], 'dk'], [dvv!, expG[2], 'dv']] as const) {
          const diff = relDiff(got, want);
          assert.ok(diff < 1e-5, `${what}: ${name}: max difference ${diff} (relative to max(1, max |reference|))`);
        }
        al.forEach((x) => x.free());
        padAl.free();
      }
      await two.whenReady();
    }
    assert.equal(s.calls.get('flash_forward'), cases.length, 'every forward ran on wasm');
    assert.equal(s.calls.get('flash_backward'), cases.length, 'every backward ran on wasm');
    assert.ok(two.workerParts > 0, 'the 2-thread backend split some slices');
    two.dispose();
  });

  test('CausalLinearAttention, its gradient (every subset of outputs) and LinearAttentionStep match the reference', () => {
    const s = setup();
    const g = new Generator(17);
    const phi = (r: Generator): number => 0.05 + r.uniform() * 2; // φ > 0, as elu + 1 gives
    // dk, dv not multiples of 4 or 16, and one state too big for the lent scratch (a heap block)
    const shapes: [number, number, number, number][] = [[3, 7, 5, 6], [2, 9, 16, 17], [1, 5, 3, 1], [2, 6, 8, 33], [1, 4, 1, 19], [2, 3, 400, 403]];
    let grads = 0;
    for (const [bh, n, dk, dv] of shapes) {
      const [nk, nv] = [bh * n * dk, bh * n * dv];
      const get = arrays(s, [nk, nk, nv, nv, bh * n, nv, nk, nk, nv]);
      fillRandom(get()[0]!, g, phi);
      fillRandom(get()[1]!, g, phi);
      fillRandom(get()[2]!, g);
      fillRandom(get()[5]!, g);
      const what = `bh=${bh} n=${n} dk=${dk} dv=${dv}`;
      const [pq, pk, v, out, den] = get() as Float32Array[];
      const [eOut, eDen] = [new Float32Array(nv), new Float32Array(bh * n)];
      ref.CausalLinearAttention(pq!, pk!, v!, bh, n, dk, dv, 1e-6, eOut, eDen);
      s.kernels.CausalLinearAttention(pq!, pk!, v!, bh, n, dk, dv, 1e-6, out!, den!);
      const [o2, d2] = get().slice(3, 5) as Float32Array[]; // re-read: a heap scratch may have grown the memory
      assert.ok(relDiff(o2!, eOut) < 1e-5, `${what}: out ${relDiff(o2!, eOut)}`);
      assertRelClose(d2!, eDen, `${what}: den`, 1e-5);
      for (const want of [[true, true, true], [true, false, false], [false, true, false], [false, false, true], [false, true, true]]) {
        const a = get() as Float32Array[];
        const outs = [a[6]!, a[7]!, a[8]!].map((x, i) => (want[i] ? x : null));
        const expected = [new Float32Array(nk), new Float32Array(nk), new Float32Array(nv)].map((x, i) => (want[i] ? x : null));
        ref.CausalLinearAttentionGrad(a[0]!, a[1]!, a[2]!, eOut, eDen, a[5]!, bh, n, dk, dv, expected[0]!, expected[1]!, expected[2]!);
        s.kernels.CausalLinearAttentionGrad(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, bh, n, dk, dv, outs[0]!, outs[1]!, outs[2]!);
        const b = get() as Float32Array[];
        ['dPhiQ', 'dPhiK', 'dV'].forEach((name, i) => {
          if (!want[i]) return;
          const d = relDiff(b[6 + i]!, expected[i]!);
          assert.ok(d < 1e-5, `${what} wanted ${want}: ${name} ${d}`);
        });
        grads++;
      }
    }
    assert.equal(s.calls.get('causal_linear_attention'), shapes.length);
    assert.equal(s.calls.get('causal_linear_attention_grad'), grads);
    // the RNN step: n steps of (S, z) in place equal the causal forward, row by row
    const [bh, n, dk, dv] = [3, 6, 7, 9];
    const get = arrays(s, [bh * dk, bh * dk, bh * dv, bh * dk * dv, bh * dk, bh * dv]);
    get()[3]!.fill(0);
    get()[4]!.fill(0);
    const [eS, ez, eo] = [new Float32Array(bh * dk * dv), new Float32Array(bh * dk), new Float32Array(bh * dv)];
    for (let t = 0; t < n; t++) {
      fillRandom(get()[0]!, g, phi);
      fillRandom(get()[1]!, g, phi);
      fillRandom(get()[2]!, g);
      const [q, k, v, S, z, out] = get() as Float32Array[];
      ref.LinearAttentionStep(q!, k!, v!, eS, ez, bh, dk, dv, 1e-6, eo);
      s.kernels.LinearAttentionStep(q!, k!, v!, S!, z!, bh, dk, dv, 1e-6, out!);
      assert.ok(relDiff(out!, eo) < 1e-5, `step ${t}: out ${relDiff(out!, eo)}`);
      assert.ok(relDiff(S!, eS) < 1e-6, `step ${t}: S ${relDiff(S!, eS)}`);
      assertRelClose(z!, ez, `step ${t}: z`, 1e-6);
    }
    assert.equal(s.calls.get('linear_attention_step'), n);
  });
});
