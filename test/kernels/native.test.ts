// The native (C++) kernels against the reference: each kernel family on every ISA this CPU has
// (forced one by one), with the addon's calls counted so a silent fallback to wasm fails;
// results bit-equal across thread counts; QKV_NATIVE_ISA; and an install without a compiler.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createNativeBackendSync, Generator, nativeAvailable, referenceBackend, type KernelSignatures } from '../../src/index.js';
import type { MatMulArgs } from '../../src/kernels/contract.js';
import { loadAddon } from '../../src/kernels/native/index.js';
import { KERNEL_CASES, runCase } from './cases.js';
import { backend, counted, rand } from './native-setup.js';
import { assertRelClose, ref, relDiff } from './wasm-setup.js';

const skip = nativeAvailable() ? false : `the native addon is not available: ${loadAddon().reason}`;
const root = fileURLToPath(new URL('../../../', import.meta.url));


// [batch, m, n, k, transA, transB, bShared]
const GEMMS: [number, number, number, number, boolean, boolean, boolean][] = [];
// m = 1 takes the GEMV path (batch-1 decoding: B read in place, no packing)
for (const [m, n, k] of [[1, 1, 1], [5, 7, 3], [13, 33, 300], [97, 70, 257], [64, 130, 128], [200, 9, 40], [3, 600, 17], [1, 300, 530], [1, 37, 9],
  // transposed operands packed in register-transposed blocks (k crossing KC and TB), the narrow tile (n ≤ one vector), GEMV on Bᵀ
  [77, 100, 264], [30, 8, 70], [50, 16, 300], [1, 70, 300],
  // a task's rows in several A blocks (more rows than half of a 2 MiB L2 holds at KC = 256); Aᵀ rows 1100 floats apart take the block-wise packing
  [1100, 40, 300]]) {
  for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]]) GEMMS.push([1, m!, n!, k!, ta!, tb!, false]);
}
GEMMS.push([3, 20, 36, 50, false, false, false], [4, 17, 40, 33, true, true, false], [5, 30, 24, 70, false, true, true], [2, 64, 64, 64, false, false, true]);

function gemmCase(t: ReturnType<typeof backend>, g: Generator, [batch, m, n, k, transA, transB, bShared]: (typeof GEMMS)[number]) {
  const aData = rand(batch * m * k, g);
  const bData = rand((bShared ? 1 : batch) * k * n, g);
  const mk = (a: Float32Array, b: Float32Array, out: Float32Array): MatMulArgs => ({
    a, aOffset: 0, aBatchStride: m * k, transA, b, bOffset: 0, bBatchStride: bShared ? 0 : k * n, transB, out, batch, m, n, k,
  });
  const want = new Float32Array(batch * m * n);
  ref.MatMul(mk(aData, bData, want));
  const [a, b, out] = t.place(aData, bData, new Float32Array(batch * m * n));
  t.kernels.MatMul(mk(a!, b!, out!));
  return { got: out!, want };
}

describe('native kernels', { skip }, () => {
  const isas = skip ? [] : loadAddon().addon!.isas();

  test('the addon reports the ISAs of this CPU and runs the best one unless told', () => {
    assert.ok(isas.includes('generic'));
    const addon = loadAddon().addon!;
    if (!addon.forcedIsa) assert.equal(addon.isa(), isas[0]);
    assert.equal(addon.setIsa('no-such-isa'), false);
  });

  for (const isa of isas) {
    test(`[${isa}] GEMM: every transpose, batch strides, shared B, odd and tiling-crossing shapes`, () => {
      const addon = loadAddon().addon!;
      const before = addon.isa();
      assert.ok(addon.setIsa(isa));
      try {
        const t = backend(2);
        const g = new Generator(1);
        for (const c of GEMMS) {
          const { got, want } = gemmCase(t, g, c);
          const diff = relDiff(got, want);
          assert.ok(diff < 1e-5, `${isa} ${JSON.stringify(c)}: max difference ${diff}`);
        }
        assert.equal(t.calls.get('gemm'), GEMMS.length, 'every product ran on the native GEMM');
      } finally {
        addon.setIsa(before);
      }
    });

    test(`[${isa}] elementwise, rows, AdamW and FlashAttention match the reference`, () => {
      const addon = loadAddon().addon!;
      const before = addon.isa();
      assert.ok(addon.setIsa(isa));
      try {
        const t = backend(2);
        const g = new Generator(2);
        const n = 1000 + 37;
        const xd = rand(n, g).map((x) => x * 4);
        const dyd = rand(n, g);
        const shape = [n];
        const dense = (data: Float32Array) => ({ data, offset: 0, strides: [1] });
        for (const name of ['Exp', 'Tanh', 'GeluTanh', 'GeluErf'] as const) {
          const want = new Float32Array(n);
          ref[name](dense(xd), shape, want, 0);
          const [x, out] = t.place(xd, new Float32Array(n));
          t.kernels[name](dense(x!), shape, out!, 0);
          assert.ok(relDiff(out!, want) < 2e-6, `${isa} ${name}: ${relDiff(out!, want)}`);
        }
        // Exp at its range edges, element by element: -inf (a masked score) and below -104 give 0,
        // the subnormal results of [-104, -87.3] stay right, +inf above 88.72, NaN stays NaN
        const special = Float32Array.from([-Infinity, -1e30, -200, -105, -104.5, -104, -103, -100, -95, -90, -88, -87.5, -87.3, -87, -20, -1, 0,
          1, 20, 88, 88.7, 88.73, 89, 1e30, Infinity, NaN, -0]);
        for (const len of [special.length, 64 + special.length]) {
          const xs = Float32Array.from({ length: len }, (_, i) => special[i % special.length]!);
          const want = new Float32Array(len);
          ref.Exp(dense(xs), [len], want, 0);
          const [x, out] = t.place(xs, new Float32Array(len));
          t.kernels.Exp(dense(x!), [len], out!, 0);
          assertRelClose(out!, want, `${isa} Exp at the range edges`, 1e-5, 1e-30);
        }
        for (const approx of [0, 1]) {
          const want = new Float32Array(n);
          ref.GeluGrad(xd, dyd, want, approx);
          const [x, dy, out] = t.place(xd, dyd, new Float32Array(n));
          t.kernels.GeluGrad(x!, dy!, out!, approx);
          assert.ok(relDiff(out!, want) < 2e-6, `${isa} GeluGrad(${approx}): ${relDiff(out!, want)}`);
        }
        // binary: dense, scalar either side, a bias row either side
        const rows = 61;
        const cols = 17;
        const ad = rand(rows * cols, g);
        const bd = rand(rows * cols, g).map((x) => x + 3);
        const forms = [
          { b: { offset: 0, strides: [cols, 1] }, bLen: rows * cols, a: { offset: 0, strides: [cols, 1] } },
          { b: { offset: 2, strides: [0, 0] }, bLen: 5, a: { offset: 0, strides: [cols, 1] } },
          { b: { offset: 0, strides: [cols, 1] }, bLen: rows * cols, a: { offset: 3, strides: [0, 0] } },
          { b: { offset: 0, strides: [0, 1] }, bLen: cols, a: { offset: 0, strides: [cols, 1] } },
          { b: { offset: 0, strides: [cols, 1] }, bLen: rows * cols, a: { offset: 0, strides: [0, 1] } },
        ];
        for (const name of ['Add', 'Sub', 'Mul', 'Div'] as const) {
          for (const f of forms) {
            const aLen = f.a.strides[0] === 0 ? (f.a.strides[1] === 0 ? 5 : cols) : rows * cols;
            const aData = ad.slice(0, aLen);
            const bData = bd.slice(0, f.bLen);
            const want = new Float32Array(rows * cols);
            ref[name]({ data: aData, ...f.a }, { data: bData, ...f.b }, [rows, cols], want);
            const [a, b, out] = t.place(aData, bData, new Float32Array(rows * cols));
            t.kernels[name]({ data: a!, ...f.a }, { data: b!, ...f.b }, [rows, cols], out!);
            assert.ok(relDiff(out!, want) < 1e-6, `${isa} ${name} ${JSON.stringify(f.a)} ${JSON.stringify(f.b)}`);
          }
        }
        // rows: softmax, log-softmax and gradients, layerNorm(+grad with and without affine)
        for (const [r, c] of [[7, 5], [33, 130], [3, 1000]] as const) {
          const x = rand(r * c, g).map((v) => v * 5);
          const dy = rand(r * c, g);
          for (const log of [false, true]) {
            const fwd = log ? 'LogSoftmax' : 'Softmax';
            const bwd = log ? 'LogSoftmaxGrad' : 'SoftmaxGrad';
            const want = new Float32Array(r * c);
            const wantDx = new Float32Array(r * c);
            ref[fwd](x, r, c, want);
            ref[bwd](want, dy, r, c, wantDx);
            const [xs, out, dys, dx] = t.place(x, new Float32Array(r * c), dy, new Float32Array(r * c));
            t.kernels[fwd](xs!, r, c, out!);
            t.kernels[bwd](out!, dys!, r, c, dx!);
            assert.ok(relDiff(out!, want) < 2e-6, `${isa} ${fwd} ${r}x${c}: ${relDiff(out!, want)}`);
            assert.ok(relDiff(dx!, wantDx) < 2e-6, `${isa} ${bwd} ${r}x${c}: ${relDiff(dx!, wantDx)}`);
          }
          for (const affine of [false, true]) {
            const gamma = affine ? rand(c, g) : null;
            const beta = affine ? rand(c, g) : null;
            const want = [new Float32Array(r * c), new Float32Array(r), new Float32Array(r)] as const;
            ref.LayerNorm(x, gamma, beta, r, c, 1e-5, ...want);
            const wantDx = new Float32Array(r * c);
            const wantDg = affine ? rand(c, g) : null;
            const wantDb = affine ? rand(c, g) : null;
            const [dg0, db0] = [wantDg?.slice() ?? null, wantDb?.slice() ?? null];
            ref.LayerNormGrad(x, gamma, want[1], want[2], dy, r, c, wantDx, wantDg, wantDb);
            const [xs, y, mean, rstd, dys, dx] = t.place(x, new Float32Array(r * c), new Float32Array(r), new Float32Array(r), dy, new Float32Array(r * c));
            const [gs, bs, dgs, dbs] = affine ? t.place(gamma!, beta!, dg0!, db0!) : [null, null, null, null];
            t.kernels.LayerNorm(xs!, gs ?? null, bs ?? null, r, c, 1e-5, y!, mean!, rstd!);
            t.kernels.LayerNormGrad(xs!, gs ?? null, mean!, rstd!, dys!, r, c, dx!, dgs ?? null, dbs ?? null);
            assert.ok(relDiff(y!, want[0]) < 1e-5, `${isa} LayerNorm ${r}x${c}: ${relDiff(y!, want[0])}`);
            assert.ok(relDiff(dx!, wantDx) < 1e-5, `${isa} LayerNormGrad dx ${r}x${c}: ${relDiff(dx!, wantDx)}`);
            if (affine) {
              assert.ok(relDiff(dgs!, wantDg!) < 1e-5, `${isa} LayerNormGrad dgamma: ${relDiff(dgs!, wantDg!)}`);
              assert.ok(relDiff(dbs!, wantDb!) < 1e-5, `${isa} LayerNormGrad dbeta: ${relDiff(dbs!, wantDb!)}`);
            }
          }
        }
        // AdamW over a few steps
        {
          const len = 1000 + 3;
          const pd = rand(len, g);
          const want = [pd.slice(), new Float32Array(len), new Float32Array(len)] as const;
          const [p, m, v, gr] = t.place(pd, new Float32Array(len), new Float32Array(len), new Float32Array(len));
          for (let step = 1; step <= 3; step++) {
            const grad = rand(len, g);
            gr!.set(grad);
            const args = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, step };
            ref.AdamW(want[0], grad, want[1], want[2], args);
            t.kernels.AdamW(p!, gr!, m!, v!, args);
          }
          assert.ok(relDiff(p!, want[0]) < 1e-6, `${isa} AdamW: ${relDiff(p!, want[0])}`);
        }
        flashCases(t, g, isa);
        for (const name of ['unary', 'geluGrad', 'binary', 'softmax', 'softmaxGrad', 'layerNorm', 'layerNormGrad', 'adamw', 'flash']) {
          assert.ok((t.calls.get(name) ?? 0) > 0, `${name} ran on native`);
        }
        assert.equal(t.calls.get('binary'), 4 * forms.length, 'every binary form ran on native');
        assert.equal(t.calls.get('adamw'), 3);
      } finally {
        addon.setIsa(before);
      }
    });
    test(`[${isa}] conv1d, the strided binary and where kernels, losses, gather/scatter-add, linear attention: the case table's rows match the reference and run in C++`, () => {
      const addon = loadAddon().addon!;
      const before = addon.isa();
      assert.ok(addon.setIsa(isa));
      try {
        const t = backend(2);
        let expected = 0;
        for (const name of Object.keys(KERNEL_CASES) as (keyof typeof KERNEL_CASES)[]) {
          KERNEL_CASES[name]().forEach((c, i) => {
            if (!c.native) return;
            const calls = t.calls.get(c.native) ?? 0;
            const want = runCase(referenceBackend, c, 200 + i);
            const got = runCase(t.b, c, 200 + i);
            got.forEach((g, j) => {
              if (c.tol === 0) assert.deepEqual(Array.from(g), Array.from(want[j]!), `${isa} ${c.what}: bit-equal`);
              else assert.ok(relDiff(g, want[j]!) <= (c.tol ?? 1e-5), `${isa} ${c.what}: ${relDiff(g, want[j]!)}`);
            });
            assert.ok((t.calls.get(c.native) ?? 0) > calls, `${isa} ${c.what} ran on native`);
            expected++;
          });
        }
        assert.ok(expected > 60, `${expected} cases`);
      } finally {
        addon.setIsa(before);
      }
    });
  }

  test('results are bit-equal on 1, 2 and 3 threads (GEMM, FlashAttention forward and backward, layerNorm gradient, conv1d, strided maps, losses, gather/scatter, linear attention)', () => {
    const outputs: Float32Array[][] = [];
    for (const threads of [1, 2, 3]) {
      const t = backend(threads);
      const g = new Generator(3);
      const res: Float32Array[] = [];
      // (each thread count cuts these differently; the last GEMM's k spans five KC slices; the GEMVs (m = 1) take a run of
      // columns a thread: 333 columns are one task, 176 + 157 or 3 × 112 less 3, each with a partial vector on AVX-512)
      for (const c of [[1, 300, 200, 300, false, false, false], [6, 64, 64, 32, false, true, false], [2, 40, 500, 70, true, false, false],
        [1, 150, 96, 1100, false, false, false], [1, 1, 333, 805, false, false, false], [1, 1, 333, 805, false, true, false],
        [3, 1, 100, 300, false, false, false]] as const) {
        res.push(gemmCase(t, g, [...c]).got.slice());
      }
      res.push(...flashCases(t, g, `threads=${threads}`, [[2, 3, 100, 100, 32, 32, true, -1, false]]));
      const r = 300;
      const c = 64;
      const [x, gamma, mean, rstd, dy, dx, dg] = t.place(rand(r * c, g), rand(c, g), rand(r, g), rand(r, g).map((v) => v + 2), rand(r * c, g),
        new Float32Array(r * c), new Float32Array(c));
      t.kernels.LayerNormGrad(x!, gamma!, mean!, rstd!, dy!, r, c, dx!, dg!, null);
      res.push(dx!.slice(), dg!.slice());
      // conv1d (GEMMs over im2col) and the strided kernels: the case table's rows that reach them
      for (const name of ['Conv1d', 'Conv1dGradInput', 'Conv1dGradWeight', 'Mul', 'Greater', 'Where', 'CrossEntropy', 'CrossEntropyGrad', 'Gather',
        'ScatterAdd', 'CausalLinearAttention', 'CausalLinearAttentionGrad'] as const) {
        KERNEL_CASES[name]().forEach((c, i) => { if (c.native) res.push(...runCase(t.b, c, 300 + i).map((o) => Float32Array.from(o))); });
      }
      outputs.push(res);
    }
    for (let i = 0; i < outputs[0]!.length; i++) {
      assert.deepEqual(outputs[1]![i], outputs[0]![i], `output ${i}: 2 threads differ from 1`);
      assert.deepEqual(outputs[2]![i], outputs[0]![i], `output ${i}: 3 threads differ from 1`);
    }
  });

  for (const isa of isas) {
    test(`[${isa}] a row alone (the GEMV path) equals the same row inside a batch, bit for bit`, () => {
      const addon = loadAddon().addon!;
      const before = addon.isa();
      assert.ok(addon.setIsa(isa));
      try {
        const t = backend(2);
        const g = new Generator(5);
        // Bᵀ: a column group runs over every KC slice of k before the next (k = 800: three whole slices and a part; n = 333: a partial group)
        // B [k, n]: rows 8 a pass and the rows left over (k = 805 ends on a slice of 37; k = 7 is fewer than a pass), a partial vector of columns in each task
        for (const [n, k, transB] of [[300, 530, false], [300, 530, true], [65, 128, true], [1000, 64, false], [333, 800, true], [333, 800, false],
          [333, 805, false], [333, 805, true], [50, 7, false], [50, 7, true]] as const) {
          const rows = rand(7 * k, g);
          const bData = rand(k * n, g);
          const [a7, a1, b, out7, out1] = t.place(rows, rows.subarray(0, k), bData, new Float32Array(7 * n), new Float32Array(n));
          const args = (a: Float32Array, out: Float32Array, m: number): MatMulArgs => ({
            a, aOffset: 0, aBatchStride: 0, transA: false, b: b!, bOffset: 0, bBatchStride: 0, transB, out, batch: 1, m, n, k,
          });
          t.kernels.MatMul(args(a7!, out7!, 7));
          t.kernels.MatMul(args(a1!, out1!, 1));
          assert.deepEqual(Array.from(out1!), Array.from(out7!.subarray(0, n)), `${isa} n=${n} k=${k} transB=${transB}`);
        }
      } finally {
        addon.setIsa(before);
      }
    });
  }

  test('one-row products: small ones stay on wasm (the crossing costs more than the threads give), 32 Ki multiply-adds and more go to the native GEMV', () => {
    const c = counted();
    const b = createNativeBackendSync({ name: 'native-thin-rule', addon: c.addon, threads: 2, initialPages: 1 });
    const kernels = b.kernels as KernelSignatures;
    const g = new Generator(6);
    // [k, n, transB, on native]: the baby GPT's smallest decoding products (128 × 128, 128 × 65 Wᵀ) and its largest (128 × 512),
    // a bias gradient (ones · dY, 768 × 128), GPT-2's attention c_proj (768 × 768) and lm_head row (Wᵀ)
    for (const [k, n, transB, native] of [[128, 128, false, false], [128, 65, true, false], [128, 512, false, true], [768, 128, false, true],
      [768, 768, false, true], [768, 768, true, true], [512, 512, false, true]] as const) {
      const al = [k, k * n, n].map((len) => b.allocator.allocate('float32', len));
      const [av, wv, ov] = al.map((x) => x.view() as Float32Array); // views after the last allocation (a grow moves the heap)
      av!.set(rand(k, g));
      wv!.set(rand(k * n, g));
      const args = (o: Float32Array, a2: Float32Array, b2: Float32Array): MatMulArgs => ({
        a: a2, aOffset: 0, aBatchStride: 0, transA: false, b: b2, bOffset: 0, bBatchStride: 0, transB, out: o, batch: 1, m: 1, n, k,
      });
      const before = c.calls.get('gemm') ?? 0;
      kernels.MatMul(args(ov!, av!, wv!));
      assert.equal((c.calls.get('gemm') ?? 0) - before, native ? 1 : 0, `1×${k}·${k}×${n}${transB ? ' Bᵀ' : ''} ${native ? 'on native' : 'on wasm'}`);
      const want = new Float32Array(n);
      ref.MatMul(args(want, av!.slice(), wv!.slice()));
      assert.ok(relDiff(ov!, want) < 1e-5, `1×${k}·${k}×${n}: ${relDiff(ov!, want)}`);
    }
  });

  test('the pool survives thousands of back-to-back jobs on more threads than cores, with the results of one thread', () => {
    // tiny jobs of a few tasks each: workers finish, spin, sleep and rejoin between them, and
    // with 5 threads on a small machine some are descheduled mid-job (what a busy machine does)
    const sums: number[][] = [];
    for (const threads of [1, 5]) {
      const t = backend(threads);
      const g = new Generator(11);
      const [a, bm, c, src, out] = t.place(rand(200 * 16, g), rand(16 * 40, g), new Float32Array(200 * 40), rand(30 * 200, g), new Float32Array(3 * 200));
      const ids = t.placeInt(Int32Array.from({ length: 30 }, (_, i) => (i * 7) % 3));
      const mm: MatMulArgs = { a: a!, aOffset: 0, aBatchStride: 0, transA: false, b: bm!, bOffset: 0, bBatchStride: 0, transB: false, out: c!, batch: 1, m: 200, n: 40, k: 16 };
      const res: number[] = [];
      for (let i = 0; i < 3000; i++) {
        if (i % 2) t.kernels.MatMul(mm);
        else t.kernels.ScatterAdd(src!, 200, ids, out!);
        if (i % 500 === 499) res.push(c!.reduce((x, y) => x + y, 0), out!.reduce((x, y) => x + y, 0));
      }
      assert.ok((t.calls.get('gemm') ?? 0) >= 1500 && (t.calls.get('scatterAdd') ?? 0) >= 1500, 'every job ran in C++');
      sums.push(res);
    }
    assert.deepEqual(sums[1], sums[0]);
  });

  test('QKV_NATIVE_ISA forces a path; --backend native reports it', () => {
    for (const isa of isas) {
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', `
        const q = await import(${JSON.stringify(join(root, 'dist/src/index.js'))});
        const a = q.randn([70, 90]), b = q.randn([90, 50]);
        const got = q.matmul(a, b).toTypedArray();
        q.selectBackend('ref');
        const want = q.matmul(a.to('ref'), b.to('ref')).toTypedArray(); // kernels run on the tensors' owner: move them
        let d = 0; for (let i = 0; i < want.length; i++) d = Math.max(d, Math.abs(got[i] - want[i]));
        console.log(JSON.stringify({ d }));`], { env: { ...process.env, QKV_NATIVE_ISA: isa, QKV_BACKEND: '' }, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.ok(JSON.parse(r.stdout).d < 1e-4, `${isa}: ${r.stdout}`);
      const d = spawnSync(process.execPath, ['--input-type=module', '-e',
        `const q = await import(${JSON.stringify(join(root, 'dist/src/index.js'))}); console.log(q.describeBackend());`],
      { env: { ...process.env, QKV_NATIVE_ISA: isa, QKV_BACKEND: '', QKV_THREADS: '2' }, encoding: 'utf8' });
      assert.equal(d.stdout.trim(), `native (${isa}, 2 threads)`);
    }
  });

  test('the heap asks Linux for transparent huge pages, as it grows too (QKV_HUGEPAGES=0 leaves it alone)', { skip: !existsSync('/proc/self/smaps') && 'no /proc/self/smaps' }, () => {
    // a fresh process: a native heap of one page grown to 64 MiB and written, then its mappings' flags
    // (hg: advised) and huge pages (AnonHugePages: what the system then gave, unless THP is "never")
    const probe = (env: Record<string, string>) => {
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', `
        const { readFileSync } = await import('node:fs');
        const q = await import(${JSON.stringify(join(root, 'dist/src/index.js'))});
        const b = q.createNativeBackendSync({ name: 'native-thp', threads: 1, initialPages: 1 });
        b.allocator.allocate('float32', 16 << 20).view().fill(1);
        let hg = 0, huge = 0, size = 0, flagged = false;
        for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\\n')) {
          const m = /^([0-9a-f]+)-([0-9a-f]+) /.exec(line);
          if (m) size = parseInt(m[2], 16) - parseInt(m[1], 16);
          else if (line.startsWith('AnonHugePages:')) huge += parseInt(line.split(/\\s+/)[1], 10) * 1024;
          else if (line.startsWith('VmFlags:') && line.split(' ').includes('hg')) hg += size;
        }
        console.log(JSON.stringify({ hg, huge }));`], { env: { ...process.env, ...env }, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout) as { hg: number; huge: number };
    };
    const on = probe({});
    assert.ok(on.hg >= 64 << 20, `advised ${on.hg} bytes`);
    const mode = existsSync('/sys/kernel/mm/transparent_hugepage/enabled') ? readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8') : '[never]';
    if (!mode.includes('[never]')) assert.ok(on.huge >= 2 << 20, `huge pages ${on.huge} bytes (THP ${mode.trim()})`);
    assert.equal(probe({ QKV_HUGEPAGES: '0' }).hg, 0);
  });

  test('fmaPeak measures the FMA throughput of every ISA (what the bench divides GEMM GFLOP/s by)', () => {
    const addon = loadAddon().addon!;
    const before = addon.isa();
    const b = createNativeBackendSync({ name: 'native-peak', threads: 1 });
    try {
      for (const isa of isas) {
        assert.ok(addon.setIsa(isa));
        const peak = b.fmaPeak(20);
        assert.ok(Number.isFinite(peak) && peak > 0.5 && peak < 1e5, `${isa}: ${peak} GFLOP/s`);
      }
    } finally {
      addon.setIsa(before);
      b.dispose();
    }
  });
});

/** FlashAttention forward and backward against the reference; returns the outputs. */
function flashCases(t: ReturnType<typeof backend>, g: Generator, what: string,
  cases: [number, number, number, number, number, number, boolean, number, boolean][] = [
    [1, 2, 37, 37, 16, 16, false, -1, false], [2, 2, 70, 70, 8, 12, true, -1, false], [1, 3, 5, 133, 12, 5, true, -1, false],
    [2, 1, 66, 66, 4, 8, false, 6, true], [1, 2, 29, 40, 7, 9, true, 3, true], [2, 2, 9, 9, 64, 64, true, -1, true], [1, 1, 1, 65, 16, 16, true, -1, false],
  ]): Float32Array[] {
  const results: Float32Array[] = [];
  for (const [B, H, n, sk, d, dv, causal, window, padding] of cases) {
    const bh = B * H;
    const a = { bh, heads: H, n, s: sk, d, dv, scale: 1 / Math.sqrt(d), causal, window, bh0: 0, bh1: bh };
    const pad = new Int32Array(B * sk);
    if (padding) for (let b = 0; b < B; b++) for (let j = 0; j < sk; j++) pad[b * sk + j] = (j * 7 + b) % 5 === 0 || (b === 1 && j >= sk - 3) ? 1 : 0;
    if (padding && B > 1) for (let j = 0; j < sk; j++) pad[j] = 1; // batch 0 sees nothing at all
    const data = [bh * n * d, bh * sk * d, bh * sk * dv, bh * n * dv].map((len) => rand(len, g).map((x) => x * 2));
    const [qd, kd, vd, god] = data as [Float32Array, Float32Array, Float32Array, Float32Array];
    const expOut = new Float32Array(bh * n * dv);
    const expLse = new Float32Array(bh * n);
    ref.FlashAttention(qd, kd, vd, padding ? pad : null, a, expOut, expLse);
    const expG = [new Float32Array(bh * n * d), new Float32Array(bh * sk * d), new Float32Array(bh * sk * dv)] as const;
    ref.FlashAttentionGrad(qd, kd, vd, padding ? pad : null, expOut, expLse, god, a, ...expG);
    const [q, k, v, go, out, lse, dq, dk, dvv] = t.place(qd, kd, vd, god, new Float32Array(bh * n * dv), new Float32Array(bh * n),
      new Float32Array(bh * n * d), new Float32Array(bh * sk * d), new Float32Array(bh * sk * dv));
    const padV = t.placeInt(pad);
    t.kernels.FlashAttention(q!, k!, v!, padding ? padV : null, a, out!, lse!);
    t.kernels.FlashAttentionGrad(q!, k!, v!, padding ? padV : null, out!, lse!, go!, a, dq!, dk!, dvv!);
    const name = `${what} B=${B} H=${H} n=${n} s=${sk} d=${d} dv=${dv} causal=${causal} window=${window} padding=${padding}`;
    for (let i = 0; i < expLse.length; i++) {
      const [x, y] = [lse![i]!, expLse[i]!];
      assert.ok(x === y || Math.abs(x - y) <= 1e-5 * Math.max(1, Math.abs(y)), `${name}: lse[${i}] ${x} vs ${y}`);
    }
    for (const [got, want, nm] of [[out!, expOut, 'out'], [dq!, expG[0], 'dq'], [dk!, expG[1], 'dk'], [dvv!, expG[2], 'dv']] as const) {
      const diff = relDiff(got, want);
      assert.ok(diff < 1e-5, `${name}: ${nm}: max difference ${diff}`);
    }
    results.push(out!.slice(), lse!.slice(), dq!.slice(), dk!.slice(), dvv!.slice());
  }
  return results;
}

describe('native build without a compiler', () => {
  test('CXX=false: the build step succeeds, writes the reason, and qkv runs on wasm saying why', () => {
    const out = mkdtempSync(join(tmpdir(), 'qkv-native-'));
    const r = spawnSync(process.execPath, [join(root, 'scripts/build-native.mjs'), '--out', out], { env: { ...process.env, CXX: 'false' }, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(existsSync(join(out, 'qkv_native.node')), false);
    assert.match(readFileSync(join(out, 'build-note.txt'), 'utf8'), /no C\+\+ compiler: `false --version` exited with 1 \(CXX=false\)/);
    const q = spawnSync(process.execPath, ['--input-type=module', '-e',
      `const q = await import(${JSON.stringify(join(root, 'dist/src/index.js'))}); console.log(q.describeBackend()); console.log(q.defaultBackendNote());`],
    { env: { ...process.env, QKV_NATIVE_DIR: out, QKV_BACKEND: '' }, encoding: 'utf8' });
    assert.equal(q.status, 0, q.stderr);
    const [described, note] = q.stdout.trim().split('\n');
    assert.match(described!, /^wasm \(/);
    assert.match(note!, /^native addon not built: no C\+\+ compiler.*; using the WebAssembly backend$/);
  });
});
