// The WebAssembly SIMD kernels against the reference kernels, called directly with arrays in the
// module's memory: GEMM on random shapes (every transpose variant, batch strides, offsets, the
// blocking edges), elementwise, softmax, layerNorm, AdamW, causal linear attention, log-softmax,
// cross-entropy, row sums and maxes, gather/scatter-add, where and fill, each counted as a call
// into its wasm export (so a silent fallback fails); and the fallback to the reference when an
// array is not in the module's memory. (The op suites run on the 'wasm' backend too,
// through forEachBackend in helpers.ts.)
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import {
  add, crossEntropy, embedding, fill_, Generator, LinearAttentionState, linearAttention, logSoftmax, max, memory, mul, referenceBackend, registerBackend,
  setBackend, sum, tensor, tidy, where, zeros, type KernelSignatures, type Strided, type Tensor,
} from '../../src/index.js';
import { wasmKernels } from '../../src/kernels/wasm/index.js';
import { instantiate, relaxedSimdSupported, simdSupported, type WasmKernels, type WasmVariant } from '../../src/kernels/wasm/module.js';
import { createWasmBackendSync, wasmBuilt, wasmPath } from '../../src/kernels/wasm/node.js';

const ref = referenceBackend.kernels;
const skip = wasmBuilt() ? false : 'the .wasm is not built (npm run build:wasm)';

/** The build createWasmBackendSync loads: relaxed SIMD where the engine has it (and it was built). */
function bestBuilt(): WasmVariant {
  return relaxedSimdSupported() && existsSync(wasmPath('relaxed-simd')) ? 'relaxed-simd' : 'simd';
}

/** The backend under test, plus a count of calls into each wasm export (to see which path ran). */
function setup() {
  const module = new WebAssembly.Module(readFileSync(wasmPath(bestBuilt())));
  const inst = instantiate(module, { poison: true, initialPages: 1 });
  const calls = new Map<string, number>();
  const counted = Object.fromEntries(Object.entries(inst.kernels).map(([name, f]) => [name, (...args: number[]) => {
    calls.set(name, (calls.get(name) ?? 0) + 1);
    return (f as (...a: number[]) => unknown)(...args);
  }])) as unknown as WasmKernels;
  const kernels = wasmKernels({ ...inst, kernels: counted }, true) as KernelSignatures;
  calls.clear(); // setting up asks the module where its parameter block is
  return { kernels, allocator: inst.allocator, memory: inst.memory, calls };
}

type Setup = ReturnType<typeof setup>;

/** Float32 arrays in the module's memory; views are re-read after every allocation (a grow detaches them). */
function arrays(s: Setup, lengths: number[]): () => Float32Array[] {
  const allocations = lengths.map((n) => s.allocator.allocate('float32', n));
  return () => allocations.map((a) => a.view() as Float32Array);
}

const values = (t: Tensor): number[] => Array.from(t.toTypedArray());

function fillRandom(a: Float32Array, g: Generator, draw: (g: Generator) => number = (r) => r.uniform() * 2 - 1): void {
  for (let i = 0; i < a.length; i++) a[i] = draw(g);
}

/** max |a - b| / max(1, max |b|); NaN where one side is NaN and the other is not; equal infinities count 0. */
function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let d = 0;
  let scale = 1;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (Number.isNaN(x) && Number.isNaN(y)) continue;
    if (x === y) continue;
    if (Number.isFinite(y)) scale = Math.max(scale, Math.abs(y));
    d = Math.max(d, Math.abs(x - y));
    if (!Number.isFinite(d)) return NaN;
  }
  return d / scale;
}

/** Elementwise: |a - b| <= tol * max(|b|, floor) everywhere (NaN = NaN, inf = inf). */
function assertRelClose(a: ArrayLike<number>, b: ArrayLike<number>, what: string, tol = 1e-5, floor = 1e-6): void {
  for (let i = 0; i < b.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if ((Number.isNaN(x) && Number.isNaN(y)) || x === y) continue;
    if (!(Math.abs(x - y) <= tol * Math.max(Math.abs(y), floor))) assert.fail(`${what}: index ${i}: got ${x}, reference ${y}`);
  }
}

describe('wasm kernels', { skip }, () => {
  test('the engine probes: SIMD is there; the build that loads matches relaxedSimdSupported()', () => {
    assert.ok(simdSupported());
    const backend = createWasmBackendSync();
    assert.equal(backend.name, 'wasm');
    assert.equal(backend.variant, bestBuilt());
    // on Node 20 without --experimental-wasm-relaxed-simd the plain SIMD build runs
    if (!relaxedSimdSupported()) assert.equal(backend.variant, 'simd');
  });

  test('GEMM equals the reference on random shapes (1..70, primes), all transposes, batch strides and offsets', () => {
    const s = setup();
    const g = new Generator(7);
    const sizes = [1, 2, 3, 4, 5, 7, 8, 9, 11, 13, 16, 17, 23, 31, 32, 33, 47, 61, 64, 67, 70];
    const pick = (): number => (g.uniform() < 0.5 ? sizes[g.int(0, sizes.length)]! : g.int(1, 71));
    let cases = 0;
    for (let trial = 0; trial < 60; trial++) {
      const [m, n, k] = trial < 3 ? [[1, 1, 1], [1, 70, 67], [61, 1, 70]][trial]! : [pick(), pick(), pick()];
      for (const transA of [false, true]) for (const transB of [false, true]) {
        const batchKind = (trial + (transA ? 1 : 0) + (transB ? 2 : 0)) % 4;
        const batch = batchKind === 0 ? 1 : g.int(2, 4);
        // batch strides: 0 (broadcast), the matrix size (contiguous), or larger (gaps between matrices)
        const stride = (size: number, kind: number): number => (batch === 1 ? 0 : kind === 0 ? 0 : kind === 1 ? size : size + g.int(1, 9));
        const aBatchStride = stride(m * k, batchKind === 1 ? 1 : batchKind === 2 ? 0 : 2);
        const bBatchStride = stride(k * n, batchKind === 1 ? 0 : batchKind === 2 ? 1 : 2);
        const aOffset = g.int(0, 5);
        const bOffset = g.int(0, 5);
        const guard = 8;
        const get = arrays(s, [aOffset + m * k + (batch - 1) * aBatchStride, bOffset + k * n + (batch - 1) * bBatchStride, batch * m * n + guard]);
        const [a0, b0] = get();
        fillRandom(a0!, g);
        fillRandom(b0!, g);
        get()[2]!.fill(-7); // the guard after the output must survive
        const [a, b, out] = get() as [Float32Array, Float32Array, Float32Array];
        const args = { a, aOffset, aBatchStride, transA, b, bOffset, bBatchStride, transB, batch, m, n, k };
        const expected = new Float32Array(batch * m * n);
        ref.MatMul({ ...args, out: expected });
        const aCopy = a.slice();
        s.kernels.MatMul({ ...args, out: out.subarray(0, batch * m * n) });
        const what = `m=${m} n=${n} k=${k} transA=${transA} transB=${transB} batch=${batch} strides ${aBatchStride}/${bBatchStride} offsets ${aOffset}/${bOffset}`;
        const d = relDiff(out.subarray(0, batch * m * n), expected);
        assert.ok(d < 1e-5, `${what}: max relative difference ${d}`);
        assert.deepEqual(Array.from(out.subarray(batch * m * n)), new Array(guard).fill(-7), `${what}: wrote past the output`);
        assert.deepEqual(a, aCopy, `${what}: changed an input`);
        cases++;
      }
    }
    assert.equal(s.calls.get('gemm'), cases, 'every case ran on wasm');
  });

  test('GEMM across the blocking edges (m > MC, n > NC, k > KC) in every transpose variant', () => {
    const s = setup();
    const g = new Generator(8);
    const [m, n, k] = [101, 523, 263];
    for (const transA of [false, true]) for (const transB of [false, true]) {
      const get = arrays(s, [m * k, k * n, m * n]);
      fillRandom(get()[0]!, g);
      fillRandom(get()[1]!, g);
      const [a, b, out] = get() as [Float32Array, Float32Array, Float32Array];
      const args = { a, aOffset: 0, aBatchStride: 0, transA, b, bOffset: 0, bBatchStride: 0, transB, batch: 1, m, n, k };
      const expected = new Float32Array(m * n);
      ref.MatMul({ ...args, out: expected });
      s.kernels.MatMul({ ...args, out });
      const d = relDiff(out, expected);
      assert.ok(d < 1e-5, `transA=${transA} transB=${transB}: max relative difference ${d}`);
    }
  });

  test('GEMM on 2 threads: split by matrices, rows or columns, equal to the reference and to 1 thread', async () => {
    const one = createWasmBackendSync({ threads: 1, tiny: true });
    const two = createWasmBackendSync({ threads: 2, tiny: true, poison: true });
    const g = new Generator(9);
    // (batch, m, n, k): batch split (2, 6), row bands (m >= n), column bands (n > m), odd edges, m = 1 rows, a broadcast B
    const shapes = [[2, 33, 17, 9], [6, 5, 7, 3], [1, 130, 40, 70], [1, 9, 300, 31], [3, 13, 11, 129], [1, 5, 3, 4], [1, 1, 64, 16], [3, 40, 24, 16]];
    let splitCases = 0;
    for (const [batch, m, n, k] of shapes as [number, number, number, number][]) for (const transA of [false, true]) for (const transB of [false, true]) {
      const bBatchStride = m === 40 ? 0 : k * n;
      const inputs = [Float32Array.from({ length: batch * m * k }, () => g.uniform() * 2 - 1), Float32Array.from({ length: batch * k * n }, () => g.uniform() * 2 - 1)];
      const run = (backend: typeof one): Float32Array => {
        const al = [batch * m * k, batch * k * n, batch * m * n].map((len) => backend.allocator.allocate('float32', len));
        const [a, b, out] = al.map((x) => x.view() as Float32Array) as [Float32Array, Float32Array, Float32Array];
        a.set(inputs[0]!);
        b.set(inputs[1]!);
        const before = backend.workerParts;
        backend.kernels.MatMul!({ a, aOffset: 0, aBatchStride: m * k, transA, b, bOffset: 0, bBatchStride, transB, out, batch, m, n, k });
        if (backend.workerParts > before) splitCases++;
        const result = out.slice();
        al.forEach((x) => x.free());
        return result;
      };
      run(two); // the first parallel call starts the worker
      await two.whenReady();
      const expected = new Float32Array(batch * m * n);
      ref.MatMul({ a: inputs[0]!, aOffset: 0, aBatchStride: m * k, transA, b: inputs[1]!, bOffset: 0, bBatchStride, transB, out: expected, batch, m, n, k });
      const single = run(one);
      const threaded = run(two);
      const what = `batch=${batch} m=${m} n=${n} k=${k} transA=${transA} transB=${transB}`;
      assert.ok(relDiff(threaded, expected) < 1e-5, `${what}: max relative difference ${relDiff(threaded, expected)}`);
      // each thread computes whole rows, columns or matrices the way one thread would (m = 1 bands aside)
      if (m % 4 === 0 || batch % 2 === 0) assert.deepEqual(threaded, single, `${what}: 2 threads differ from 1`);
    }
    assert.ok(splitCases >= 20, `only ${splitCases} products were split across threads`);
    two.dispose();
  });

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

  test('GEMM with k = 0 writes zeros', () => {
    const s = setup();
    const [a, b, out] = arrays(s, [1, 1, 6])() as [Float32Array, Float32Array, Float32Array];
    s.kernels.MatMul({ a, aOffset: 0, aBatchStride: 0, transA: false, b, bOffset: 0, bBatchStride: 0, transB: false, out, batch: 1, m: 2, n: 3, k: 0 });
    assert.deepEqual(Array.from(out), [0, 0, 0, 0, 0, 0]);
  });

  test('Add/Sub/Mul/Div: dense, scalar on either side, with offsets: bit-equal to the reference', () => {
    const s = setup();
    const g = new Generator(9);
    for (const name of ['Add', 'Sub', 'Mul', 'Div'] as const) {
      for (const n of [1, 3, 4, 5, 16, 17, 63, 64, 1001]) {
        const get = arrays(s, [n + 3, n + 2, n]);
        fillRandom(get()[0]!, g, (r) => (r.uniform() < 0.5 ? -1 : 1) * (0.1 + r.uniform() * 10));
        fillRandom(get()[1]!, g, (r) => (r.uniform() < 0.5 ? -1 : 1) * (0.1 + r.uniform() * 10));
        const [a, b, out] = get() as [Float32Array, Float32Array, Float32Array];
        const cases: [Strided, Strided][] = [
          [{ data: a, offset: 3, strides: [1] }, { data: b, offset: 2, strides: [1] }],
          [{ data: a, offset: 1, strides: [1] }, { data: b, offset: 1, strides: [0] }],
          [{ data: a, offset: 2, strides: [0] }, { data: b, offset: 0, strides: [1] }],
        ];
        for (const [x, y] of cases) {
          const expected = new Float32Array(n);
          ref[name](x, y, [n], expected);
          s.kernels[name](x, y, [n], out);
          assert.deepEqual(out, expected, `${name} n=${n} strides ${x.strides}/${y.strides}`);
        }
      }
    }
    // a one-element operand is dense whatever its stride: at n = 1 all three cases are vector-vector
    assert.equal(s.calls.get('add_vv'), 8 + 3);
    assert.equal((s.calls.get('sub_sv') ?? 0) + (s.calls.get('div_sv') ?? 0), 2 * 8);
  });

  test('Add/Sub/Mul/Div with a row (a bias) broadcast along the leading axes, on either side: bit-equal', () => {
    const s = setup();
    const g = new Generator(15);
    for (const [lead, inner] of [[[3], 5], [[2, 3], 8], [[4, 1], 17], [[7], 1], [[2, 5], 64]] as [number[], number][]) {
      const shape = [...lead, inner];
      const n = shape.reduce((x, y) => x * y, 1);
      const get = arrays(s, [n, inner + 1, n]);
      fillRandom(get()[0]!, g, (r) => 0.5 + r.uniform());
      fillRandom(get()[1]!, g, (r) => 0.5 + r.uniform());
      const [a, row, out] = get() as [Float32Array, Float32Array, Float32Array];
      const dense: Strided = { data: a, offset: 0, strides: [...lead.map((_, i) => lead.slice(i + 1).reduce((x, y) => x * y, inner)), 1] };
      const bias: Strided = { data: row, offset: 1, strides: [...lead.map(() => 0), 1] };
      for (const name of ['Add', 'Sub', 'Mul', 'Div'] as const) {
        for (const [x, y] of [[dense, bias], [bias, dense]]) {
          const expected = new Float32Array(n);
          ref[name](x!, y!, shape, expected);
          s.kernels[name](x!, y!, shape, out);
          assert.deepEqual(out, expected, `${name} ${shape} row ${x === bias ? 'left' : 'right'}`);
        }
      }
    }
    const rowCalls = ['add_vr', 'sub_vr', 'mul_vr', 'div_vr', 'sub_rv', 'div_rv'].reduce((t, k) => t + (s.calls.get(k) ?? 0), 0);
    assert.equal(rowCalls, 5 * 8, 'every row case ran on wasm');
  });

  test('Copy: permutes, broadcasts, slices of rank 0..6, float32 and int32, bit-equal; casts go to the reference', () => {
    const s = setup();
    const g = new Generator(16);
    const contiguous = (shape: number[]): number[] => shape.map((_, i) => shape.slice(i + 1).reduce((x, y) => x * y, 1));
    let copies = 0;
    for (let trial = 0; trial < 60; trial++) {
      const rank = trial % 7;
      const shape = Array.from({ length: rank }, () => g.int(1, 6));
      const n = shape.reduce((x, y) => x * y, 1);
      // source: a permuted (maybe broadcast) view into a bigger buffer, at an offset
      const perm = g.shuffle(Array.from({ length: rank }, (_, i) => i));
      const srcShape = perm.map((i) => shape[i]!);
      const srcStrides0 = contiguous(srcShape);
      const srcStrides = shape.map((_, i) => srcStrides0[perm.indexOf(i)]!).map((st, i) => (g.uniform() < 0.2 && shape[i]! > 1 ? 0 : st));
      const offset = g.int(0, 4);
      const ints = trial % 3 === 0;
      const [srcA, dstA] = [s.allocator.allocate(ints ? 'int32' : 'float32', n + offset), s.allocator.allocate(ints ? 'int32' : 'float32', n + 2)];
      const src = srcA.view();
      for (let i = 0; i < src.length; i++) src[i] = ints ? g.int(-1000, 1000) : g.normal();
      const dst = dstA.view();
      dst.fill(-3);
      const expected = dst.slice();
      const dstStrided = { data: dst, offset: 1, strides: contiguous(shape) };
      referenceBackend.kernels.Copy({ data: src, offset, strides: srcStrides }, { ...dstStrided, data: expected }, shape);
      s.kernels.Copy({ data: src, offset, strides: srcStrides }, dstStrided, shape);
      assert.deepEqual(dst, expected, `shape ${shape} strides ${srcStrides} offset ${offset} ${ints ? 'int32' : 'float32'}`);
      copies++;
      srcA.free();
      dstA.free();
    }
    assert.equal(s.calls.get('copy'), copies);
    // float32 -> int32 truncates toward zero: the reference does casts
    const [f, i] = [s.allocator.allocate('float32', 4).view() as Float32Array, s.allocator.allocate('int32', 4).view() as Int32Array];
    f.set([1.7, -1.7, 2.5, -0.5]);
    s.kernels.Copy({ data: f, offset: 0, strides: [1] }, { data: i, offset: 0, strides: [1] }, [4]);
    assert.deepEqual(Array.from(i), [1, -1, 2, 0]);
    assert.equal(s.calls.get('copy'), copies);
  });

  test('Exp/Tanh/GeluTanh/GeluErf/Relu and GeluGrad match the reference (rel 1e-5), special values included', () => {
    const s = setup();
    const g = new Generator(10);
    const special = [Infinity, -Infinity, NaN, 0, -0, 1e-8, -1e-8, 0.5, -0.625, 0.625, 1, -1, 9, -9, 20, -20, 44, -44, 88, 88.7, 89,
      -87, -87.5, -100, -103, -104, -105];
    const n = special.length + 4000;
    const get = arrays(s, [n, n, n]);
    const x0 = get()[0]!;
    x0.set(special);
    for (let i = special.length; i < n; i++) x0[i] = (g.uniform() * 2 - 1) * (i % 3 === 0 ? 30 : 6);
    fillRandom(get()[1]!, g);
    const [x, dy, out] = get() as [Float32Array, Float32Array, Float32Array];
    for (const name of ['Exp', 'Tanh', 'GeluTanh', 'GeluErf', 'Relu'] as const) {
      const expected = new Float32Array(n);
      ref[name]({ data: x, offset: 0, strides: [1] }, [n], expected, 0);
      s.kernels[name]({ data: x, offset: 0, strides: [1] }, [n], out, 0);
      // exp's tiniest results are subnormal in both; compare them absolutely
      assertRelClose(out, expected, name, 1e-5, name === 'Exp' ? 1e-30 : 1e-6);
    }
    const fin = 3; // no infinities or NaN for the gradient
    for (const approximate of [0, 1]) {
      const expected = new Float32Array(n - fin);
      const xs = x.subarray(fin);
      ref.GeluGrad(xs, dy.subarray(fin), expected, approximate);
      s.kernels.GeluGrad(xs, dy.subarray(fin), out.subarray(fin), approximate);
      // gelu' crosses 0 near x = -0.75 (Φ(x) and x φ(x) cancel): compare to the values' scale there
      const d = relDiff(out.subarray(fin), expected);
      assert.ok(d < 1e-5, `GeluGrad approximate=${approximate}: ${d}`);
    }
    assert.equal(s.calls.get('exp'), 1);
    assert.equal(s.calls.get('gelu_grad'), 2);
  });

  test('Softmax and SoftmaxGrad: odd row lengths, masked (-Infinity) entries exactly 0, an all-masked row all 0', () => {
    const s = setup();
    const g = new Generator(11);
    for (const cols of [1, 3, 4, 7, 8, 33, 100]) {
      const rows = 5;
      const get = arrays(s, [rows * cols, rows * cols, rows * cols, rows * cols]);
      const x0 = get()[0]!;
      fillRandom(x0, g, (r) => r.normal() * 5);
      for (let c = 0; c < cols; c++) x0[cols + c] = -Infinity; // row 1 fully masked
      for (let c = 0; c < cols; c += 2) x0[2 * cols + c] = -Infinity; // row 2 half masked
      fillRandom(get()[2]!, g);
      const [x, y, dy, dx] = get() as [Float32Array, Float32Array, Float32Array, Float32Array];
      const ey = new Float32Array(rows * cols);
      ref.Softmax(x, rows, cols, ey);
      s.kernels.Softmax(x, rows, cols, y);
      assert.ok(relDiff(y, ey) < 1e-5, `softmax cols=${cols}: ${relDiff(y, ey)}`);
      for (let c = 0; c < cols; c++) {
        assert.equal(y[cols + c], 0, 'all-masked row');
        if (c % 2 === 0) assert.equal(y[2 * cols + c], 0, 'masked entry');
      }
      const edx = new Float32Array(rows * cols);
      ref.SoftmaxGrad(y, dy, rows, cols, edx);
      s.kernels.SoftmaxGrad(y, dy, rows, cols, dx);
      assert.ok(relDiff(dx, edx) < 1e-5, `softmaxGrad cols=${cols}: ${relDiff(dx, edx)}`);
    }
    assert.equal(s.calls.get('softmax'), 7);
    assert.equal(s.calls.get('softmax_grad'), 7);
  });

  test('LayerNorm and LayerNormGrad with and without gamma/beta; dgamma/dbeta accumulate', () => {
    const s = setup();
    const g = new Generator(12);
    for (const cols of [1, 3, 8, 13, 64, 130]) for (const affine of [false, true]) {
      const rows = 6;
      const rc = rows * cols;
      const get = arrays(s, [rc, cols, cols, rc, rows, rows, rc, rc, cols, cols]);
      fillRandom(get()[0]!, g, (r) => 3 + r.normal() * 2);
      fillRandom(get()[1]!, g);
      fillRandom(get()[2]!, g);
      fillRandom(get()[6]!, g);
      get()[8]!.fill(0.5);
      get()[9]!.fill(-0.25);
      const [x, gamma, beta, y, mean, rstd, dy, dx, dgamma, dbeta] = get() as Float32Array[];
      const ga = affine ? gamma! : null;
      const be = affine ? beta! : null;
      const [ey, emean, erstd] = [new Float32Array(rc), new Float32Array(rows), new Float32Array(rows)];
      ref.LayerNorm(x!, ga, be, rows, cols, 1e-5, ey, emean, erstd);
      s.kernels.LayerNorm(x!, ga, be, rows, cols, 1e-5, y!, mean!, rstd!);
      const what = `cols=${cols} affine=${affine}`;
      assert.ok(relDiff(y!, ey) < 1e-5, `layerNorm ${what}: y ${relDiff(y!, ey)}`);
      assertRelClose(mean!, emean, `layerNorm ${what}: mean`);
      assertRelClose(rstd!, erstd, `layerNorm ${what}: rstd`, 1e-4);
      const [edx, edg, edb] = [new Float32Array(rc), new Float32Array(cols).fill(0.5), new Float32Array(cols).fill(-0.25)];
      ref.LayerNormGrad(x!, ga, mean!, rstd!, dy!, rows, cols, edx, affine ? edg : null, affine ? edb : null);
      s.kernels.LayerNormGrad(x!, ga, mean!, rstd!, dy!, rows, cols, dx!, affine ? dgamma! : null, affine ? dbeta! : null);
      assert.ok(relDiff(dx!, edx) < 1e-5, `layerNormGrad ${what}: dx ${relDiff(dx!, edx)}`);
      if (affine) {
        assert.ok(relDiff(dgamma!, edg) < 1e-5, `layerNormGrad ${what}: dgamma ${relDiff(dgamma!, edg)}`);
        assert.ok(relDiff(dbeta!, edb) < 1e-5, `layerNormGrad ${what}: dbeta ${relDiff(dbeta!, edb)}`);
      }
    }
    assert.equal(s.calls.get('layernorm'), 12);
    assert.equal(s.calls.get('layernorm_grad'), 12);
  });

  test('AdamW: ten steps of parameters and both moments equal the reference (rel 1e-5)', () => {
    const s = setup();
    const g = new Generator(13);
    const n = 103;
    const get = arrays(s, [n, n, n, n]);
    fillRandom(get()[0]!, g);
    get()[2]!.fill(0);
    get()[3]!.fill(0);
    const [p, grad, m, v] = get() as Float32Array[];
    const [ep, em, ev] = [p!.slice(), new Float32Array(n), new Float32Array(n)];
    for (let step = 1; step <= 10; step++) {
      fillRandom(grad!, g, (r) => r.normal() * (step % 3 === 0 ? 1e-3 : 1));
      const args = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, step };
      ref.AdamW(ep, grad!, em, ev, args);
      s.kernels.AdamW(p!, grad!, m!, v!, args);
    }
    assert.ok(relDiff(p!, ep) < 1e-5, `p ${relDiff(p!, ep)}`);
    // m and v are sums of terms that cancel; the reference rounds them to float32 too, so compare to their scale
    assert.ok(relDiff(m!, em) < 1e-5, `m ${relDiff(m!, em)}`);
    assert.ok(relDiff(v!, ev) < 1e-5, `v ${relDiff(v!, ev)}`);
    assert.equal(s.calls.get('adamw'), 10);
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

  test('LogSoftmax and LogSoftmaxGrad: odd row lengths, masked (-Infinity) entries', () => {
    const s = setup();
    const g = new Generator(18);
    const colsList = [1, 3, 4, 7, 65, 100];
    for (const cols of colsList) {
      const rows = 5;
      const get = arrays(s, [rows * cols, rows * cols, rows * cols, rows * cols]);
      const x0 = get()[0]!;
      fillRandom(x0, g, (r) => r.normal() * 5);
      for (let c = 1; c < cols; c += 2) x0[2 * cols + c] = -Infinity; // row 2 partly masked
      fillRandom(get()[2]!, g);
      const [x, y, dy, dx] = get() as Float32Array[];
      const ey = new Float32Array(rows * cols);
      ref.LogSoftmax(x!, rows, cols, ey);
      s.kernels.LogSoftmax(x!, rows, cols, y!);
      assert.ok(relDiff(y!, ey) < 1e-6, `logSoftmax cols=${cols}: ${relDiff(y!, ey)}`);
      const edx = new Float32Array(rows * cols);
      ref.LogSoftmaxGrad(y!, dy!, rows, cols, edx);
      s.kernels.LogSoftmaxGrad(y!, dy!, rows, cols, dx!);
      assert.ok(relDiff(dx!, edx) < 1e-5, `logSoftmaxGrad cols=${cols}: ${relDiff(dx!, edx)}`);
    }
    assert.equal(s.calls.get('log_softmax'), colsList.length);
    assert.equal(s.calls.get('log_softmax_grad'), colsList.length);
  });

  test('CrossEntropy and CrossEntropyGrad: ignored rows, label smoothing, odd class counts', () => {
    const s = setup();
    const g = new Generator(19);
    let calls = 0;
    for (const classes of [1, 3, 4, 5, 65]) for (const [ignoreIndex, smoothing] of [[-100, 0], [-100, 0.1], [0, 0.25], [classes - 1, 0]]) {
      const rows = 9;
      const get = arrays(s, [rows * classes, rows, rows, rows, rows, rows * classes]);
      fillRandom(get()[0]!, g, (r) => r.normal() * 4);
      fillRandom(get()[3]!, g);
      const targets = s.allocator.allocate('int32', rows);
      const t = targets.view() as Int32Array;
      for (let r = 0; r < rows; r++) t[r] = r % 4 === 1 ? ignoreIndex! : g.int(0, classes);
      const [x, loss, lse, dloss, , dx] = get() as Float32Array[];
      const tv = targets.view() as Int32Array;
      const [eLoss, eLse] = [new Float32Array(rows), new Float32Array(rows)];
      ref.CrossEntropy(x!, tv, rows, classes, ignoreIndex!, smoothing!, eLoss, eLse);
      s.kernels.CrossEntropy(x!, tv, rows, classes, ignoreIndex!, smoothing!, loss!, lse!);
      const what = `classes=${classes} ignore=${ignoreIndex} smoothing=${smoothing}`;
      assert.ok(relDiff(loss!, eLoss) < 1e-6, `${what}: loss ${relDiff(loss!, eLoss)}`);
      assertRelClose(lse!, eLse, `${what}: lse`, 1e-6);
      const edx = new Float32Array(rows * classes);
      ref.CrossEntropyGrad(x!, tv, lse!, dloss!, rows, classes, ignoreIndex!, smoothing!, edx);
      s.kernels.CrossEntropyGrad(x!, tv, lse!, dloss!, rows, classes, ignoreIndex!, smoothing!, dx!);
      assert.ok(relDiff(dx!, edx) < 1e-6, `${what}: dlogits ${relDiff(dx!, edx)}`);
      for (let r = 1; r < rows; r += 4) {
        if (tv[r] === ignoreIndex) assert.ok(dx!.subarray(r * classes, (r + 1) * classes).every((v) => v === 0), `${what}: ignored row ${r}`);
      }
      targets.free();
      calls++;
    }
    assert.equal(s.calls.get('cross_entropy'), calls);
    assert.equal(s.calls.get('cross_entropy_grad'), calls);
  });

  test('Sum and Max of rows: odd lengths, NaN, infinities and signed zeros as the reference', () => {
    const s = setup();
    const g = new Generator(20);
    const colsList = [1, 3, 4, 5, 17, 64, 1001];
    for (const cols of colsList) {
      const rows = 6;
      const get = arrays(s, [rows * cols, rows, rows]);
      const x0 = get()[0]!;
      fillRandom(x0, g, (r) => r.normal() * 3);
      x0[cols + (cols >> 1)] = NaN; // row 1
      x0[2 * cols] = Infinity; // row 2
      x0.fill(-Infinity, 3 * cols, 4 * cols); // row 3
      x0.fill(0, 4 * cols, 5 * cols); // row 4: zeros, the first one negative
      x0[4 * cols] = -0;
      x0.fill(-1, 5 * cols, 6 * cols); // row 5: -1 ... +0 ... -0
      x0[5 * cols + cols - 1] = -0;
      if (cols > 1) x0[5 * cols + (cols >> 1)] = 0;
      const [x, sum, max] = get() as Float32Array[];
      const [eSum, eMax] = [new Float32Array(rows), new Float32Array(rows)];
      ref.Sum(x!, rows, cols, eSum);
      s.kernels.Sum(x!, rows, cols, sum!);
      assertRelClose(sum!, eSum, `sum cols=${cols}`, 1e-6);
      ref.Max(x!, rows, cols, eMax);
      s.kernels.Max(x!, rows, cols, max!);
      for (let r = 0; r < rows; r++) assert.ok(Object.is(max![r], eMax[r]), `max cols=${cols} row ${r}: got ${max![r]}, reference ${eMax[r]}`);
    }
    assert.equal(s.calls.get('sum_rows'), colsList.length);
    assert.equal(s.calls.get('max_rows'), colsList.length);
  });

  test('Gather (float32 and int32 tables) and ScatterAdd (repeated ids) are bit-equal to the reference', () => {
    const s = setup();
    const g = new Generator(21);
    const cases: [number, number, number][] = [[7, 1, 5], [5, 3, 9], [11, 4, 4], [4, 13, 20], [64, 65, 33]];
    for (const [vocab, cols, count] of cases) {
      const ids = s.allocator.allocate('int32', count);
      const idv = ids.view() as Int32Array;
      for (let i = 0; i < count; i++) idv[i] = i % 3 === 0 ? 1 : g.int(0, vocab); // id 1 repeats
      const [table, out, src, acc] = [vocab * cols, count * cols, count * cols, vocab * cols].map((n) => s.allocator.allocate('float32', n));
      fillRandom(table!.view() as Float32Array, g);
      fillRandom(src!.view() as Float32Array, g);
      fillRandom(acc!.view() as Float32Array, g);
      const v = () => [table, out, src, acc].map((a) => a!.view() as Float32Array);
      const [t, o, sr, ac] = v();
      const eOut = new Float32Array(count * cols);
      ref.Gather(t!, cols, ids.view() as Int32Array, eOut);
      s.kernels.Gather(t!, cols, ids.view() as Int32Array, o!);
      assert.deepEqual(o, eOut, `gather ${vocab}x${cols}, ${count} ids`);
      const eAcc = ac!.slice();
      ref.ScatterAdd(sr!, cols, ids.view() as Int32Array, eAcc);
      s.kernels.ScatterAdd(sr!, cols, ids.view() as Int32Array, ac!);
      assert.deepEqual(ac, eAcc, `scatterAdd ${vocab}x${cols}, ${count} ids`);
      // an int32 table moves as bits
      const [it, io] = [s.allocator.allocate('int32', vocab * cols), s.allocator.allocate('int32', count * cols)];
      const itv = it.view() as Int32Array;
      for (let i = 0; i < itv.length; i++) itv[i] = g.int(-1e6, 1e6);
      const eInt = new Int32Array(count * cols);
      ref.Gather(it.view(), cols, ids.view() as Int32Array, eInt);
      s.kernels.Gather(it.view(), cols, ids.view() as Int32Array, io.view());
      assert.deepEqual(io.view(), eInt, `int gather ${vocab}x${cols}`);
      for (const a of [ids, table, out, src, acc, it, io]) a!.free();
    }
    assert.equal(s.calls.get('gather'), 2 * cases.length);
    assert.equal(s.calls.get('scatter_add'), cases.length);
  });

  test('Where (dense, scalar values, a repeated mask row; int32 and float32 conditions) and Fill are bit-equal', () => {
    const s = setup();
    const g = new Generator(22);
    let wheres = 0;
    for (const shape of [[5], [3, 7], [2, 3, 4], [4, 1, 9]]) {
      const n = shape.reduce((x, y) => x * y, 1);
      const contiguous = shape.map((_, i) => shape.slice(i + 1).reduce((x, y) => x * y, 1));
      const rowStrides = shape.map((_, i) => (i === shape.length - 1 ? 1 : 0));
      for (const dtype of ['float32', 'int32'] as const) for (const condType of ['int32', 'float32'] as const) {
        const [c, a, b, out] = [s.allocator.allocate(condType, n), s.allocator.allocate(dtype, n + 1), s.allocator.allocate(dtype, n), s.allocator.allocate(dtype, n)];
        const cv = c.view();
        for (let i = 0; i < n; i++) cv[i] = condType === 'int32' ? g.int(-1, 2) : [0, -0, 1, NaN, -2.5][g.int(0, 5)]!;
        const av = a.view();
        const bv = b.view();
        for (let i = 0; i < av.length; i++) av[i] = dtype === 'int32' ? g.int(-100, 100) : g.normal();
        for (let i = 0; i < bv.length; i++) bv[i] = dtype === 'int32' ? g.int(-100, 100) : g.normal();
        const conds: Strided[] = [{ data: cv, offset: 0, strides: contiguous }, { data: cv, offset: 0, strides: rowStrides }];
        const as: Strided[] = [{ data: av, offset: 1, strides: contiguous }, { data: av, offset: 0, strides: shape.map(() => 0) }];
        const bs: Strided[] = [{ data: bv, offset: 0, strides: contiguous }, { data: bv, offset: 2, strides: shape.map(() => 0) }];
        for (const cs of conds) for (const x of as) for (const y of bs) {
          const expected = dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
          ref.Where(cs, x, y, shape, expected);
          s.kernels.Where(cs, x, y, shape, out.view());
          assert.deepEqual(out.view(), expected, `where ${shape} ${dtype} cond ${condType} strides ${cs.strides}/${x.strides}/${y.strides}`);
          wheres++;
        }
        for (const t of [c, a, b, out]) t.free();
      }
    }
    assert.equal(s.calls.get('where'), wheres);
    let fills = 0;
    for (const n of [1, 3, 4, 5, 16, 17, 37]) for (const [dtype, value] of [['float32', -1.5], ['float32', 1 / 3], ['float32', -0], ['int32', 7], ['int32', -2.7], ['int32', 2 ** 32 + 5]] as const) {
      const a = s.allocator.allocate(dtype, n + 1);
      a.view().fill(9);
      const expected = a.view().slice();
      ref.Fill(expected.subarray(0, n), value);
      s.kernels.Fill(a.view().subarray(0, n), value);
      assert.ok(a.view().every((x, i) => Object.is(x, expected[i])), `fill ${dtype} ${value} n=${n}: ${a.view()} vs ${expected}`);
      a.free();
      fills++;
    }
    assert.equal(s.calls.get('fill32'), fills);
  });

  test('ids or targets outside the module memory or out of range, and int32 sums, go to the reference', () => {
    const s = setup();
    const [table, out] = arrays(s, [12, 8])() as Float32Array[];
    table!.set(Array.from({ length: 12 }, (_, i) => i));
    s.kernels.Gather(table!, 4, Int32Array.from([2, 0]), out!); // ids not in the module's memory
    assert.deepEqual(Array.from(out!), [8, 9, 10, 11, 0, 1, 2, 3]);
    const ids = s.allocator.allocate('int32', 2);
    (ids.view() as Int32Array).set([1, 3]); // 3 is past the table's 3 rows
    const expected = new Float32Array(8);
    out!.fill(0);
    ref.Gather(table!, 4, ids.view() as Int32Array, expected);
    s.kernels.Gather(table!, 4, ids.view() as Int32Array, out!);
    assert.deepEqual(out, expected);
    const [x, loss, lse] = arrays(s, [6, 2, 2])() as Float32Array[];
    x!.set([1, 2, 3, 4, 5, 6]);
    s.kernels.CrossEntropy(x!, Int32Array.from([0, 2]), 2, 3, -100, 0, loss!, lse!);
    const eLoss = new Float32Array(2);
    ref.CrossEntropy(x!, Int32Array.from([0, 2]), 2, 3, -100, 0, eLoss, new Float32Array(2));
    assert.deepEqual(loss, eLoss);
    const ints = s.allocator.allocate('int32', 6);
    (ints.view() as Int32Array).set([1, 2, 3, 4, 5, 6]);
    const sums = s.allocator.allocate('int32', 2);
    s.kernels.Sum(ints.view(), 2, 3, sums.view());
    assert.deepEqual(Array.from(sums.view()), [6, 15]);
    assert.equal(s.calls.size, 0, `no wasm call was made (${[...s.calls.keys()]})`);
  });

  test('ops on the wasm backend reach these kernels: inputs that are views are copied into the module memory, not plain arrays', () => {
    const s = setup();
    registerBackend({ name: 'wasm-counted', allocator: s.allocator, kernels: s.kernels });
    const g = new Generator(23);
    const draw = (n: number, f: () => number = () => g.normal()): Float32Array => Float32Array.from({ length: n }, f);
    const data = {
      logits: draw(4 * 3 * 65), ids: Int32Array.from({ length: 10 }, (_, i) => (i % 4 === 0 ? 2 : g.int(0, 7))), table: draw(7 * 6), w: draw(10 * 6),
      q: draw(2 * 9 * 5), k: draw(2 * 9 * 5), v: draw(2 * 9 * 6), wo: draw(2 * 9 * 6), x: draw(5 * 7 * 3), wx: draw(5 * 3), bias: draw(3),
      cond: Int32Array.from({ length: 5 * 7 * 3 }, () => g.int(0, 2)),
      targets: Int32Array.from({ length: 12 }, (_, i) => (i % 5 === 2 ? -100 : g.int(0, 65))),
    };
    // everything an op-level run gives back, as plain numbers
    const run = (backend: string): number[][] => {
      setBackend(backend);
      try {
        return tidy(() => {
          const out: number[][] = [];
          const L = tensor(data.logits, { shape: [4, 3, 65], requiresGrad: true });
          const targets = tensor(data.targets, { shape: [3, 4], dtype: 'int32' });
          const ce = crossEntropy(L.transpose(0, 1), targets, { labelSmoothing: 0.1 }); // a view: copied for the kernel
          ce.backward();
          const ce2 = crossEntropy(L.transpose(0, 1), tensor(data.targets.map((t) => (t < 0 ? 2 : t)), { shape: [3, 4], dtype: 'int32' }), { ignoreIndex: 2, reduction: 'sum' });
          ce2.backward();
          out.push([ce.item(), ce2.item()], values(L.grad!));
          const W = tensor(data.table, { shape: [7, 6], requiresGrad: true });
          const e = embedding(tensor(data.ids, { shape: [2, 5], dtype: 'int32' }), W, 0);
          sum(mul(e, tensor(data.w, { shape: [2, 5, 6] }))).backward();
          out.push(values(e), values(W.grad!));
          const [Q, K, V] = [tensor(data.q, { shape: [1, 2, 5, 9], requiresGrad: true }), tensor(data.k, { shape: [1, 2, 9, 5], requiresGrad: true }),
            tensor(data.v, { shape: [1, 2, 9, 6], requiresGrad: true })];
          const a = linearAttention(Q.transpose(2, 3), K, V, { causal: true });
          sum(mul(a, tensor(data.wo, { shape: [1, 2, 9, 6] }))).backward();
          out.push(values(a), values(Q.grad!), values(K.grad!), values(V.grad!));
          const state = new LinearAttentionState(1, 2, 5, 6);
          for (let t = 0; t < 3; t++) out.push(values(state.step(Q.transpose(2, 3).select(2, t), K.select(2, t), V.select(2, t))));
          state.dispose();
          const X = tensor(data.x, { shape: [5, 7, 3], requiresGrad: true });
          const m = max(X, 1); // the reduced axis in the middle: a permuted copy
          const ls = logSoftmax(X, 0);
          const b = tensor(data.bias, { shape: [3], requiresGrad: true });
          const wh = where(tensor(data.cond, { shape: [5, 7, 3], dtype: 'int32' }), add(X, b), 0);
          add(add(sum(mul(m, tensor(data.wx, { shape: [5, 3] }))), sum(mul(ls, ls))), sum(mul(wh, wh))).backward();
          out.push(values(m), values(ls), values(wh), values(X.grad!), values(b.grad!), values(sum(X, [0, 2])));
          const f = zeros([37]);
          fill_(f, 0.25);
          out.push(values(f));
          return out;
        });
      } finally {
        setBackend('ref');
      }
    };
    const live = (): number[] => [memory().tensors, memory().storages, memory().bytes, s.allocator.stats().used];
    const before = live();
    const expected = run('ref');
    s.calls.clear();
    const got = run('wasm-counted');
    assert.deepEqual(live(), before, 'every tensor, copy and heap block was freed');
    expected.forEach((e, i) => assert.ok(relDiff(got[i]!, e) < 1e-5, `result ${i}: ${relDiff(got[i]!, e)}`));
    for (const name of ['cross_entropy', 'cross_entropy_grad', 'gather', 'scatter_add', 'fill32', 'causal_linear_attention',
      'causal_linear_attention_grad', 'linear_attention_step', 'sum_rows', 'max_rows', 'log_softmax', 'log_softmax_grad', 'where']) {
      assert.ok((s.calls.get(name) ?? 0) > 0, `${name} was not called: the op fell back to the reference`);
    }
  });

  test('arrays outside the module memory go to the reference kernel, with its results', () => {
    const s = setup();
    const g = new Generator(14);
    const [m, n, k] = [5, 6, 7];
    const a = new Float32Array(m * k);
    const b = new Float32Array(k * n);
    fillRandom(a, g);
    fillRandom(b, g);
    const args = { a, aOffset: 0, aBatchStride: 0, transA: false, b, bOffset: 0, bBatchStride: 0, transB: false, batch: 1, m, n, k };
    const out = new Float32Array(m * n);
    const expected = new Float32Array(m * n);
    s.kernels.MatMul({ ...args, out });
    ref.MatMul({ ...args, out: expected });
    assert.deepEqual(out, expected);
    // one operand in the memory and one outside is still the reference
    const [inA, heapOut] = arrays(s, [m * k, m * n])() as [Float32Array, Float32Array];
    inA.set(a);
    s.kernels.MatMul({ ...args, a: inA, out: heapOut });
    assert.deepEqual(heapOut, expected);
    // elementwise, row and optimizer kernels too
    const x = Float32Array.from({ length: 40 }, () => g.normal());
    const y1 = new Float32Array(40);
    const y2 = new Float32Array(40);
    s.kernels.Exp({ data: x, offset: 0, strides: [1] }, [40], y1, 0);
    ref.Exp({ data: x, offset: 0, strides: [1] }, [40], y2, 0);
    assert.deepEqual(y1, y2);
    s.kernels.Add({ data: x, offset: 0, strides: [1] }, { data: x, offset: 0, strides: [1] }, [40], y1);
    assert.deepEqual(y1, x.map((v) => v + v));
    s.kernels.Softmax(x, 5, 8, y1);
    ref.Softmax(x, 5, 8, y2);
    assert.deepEqual(y1, y2);
    const p = x.slice();
    const p2 = x.slice();
    const zeros = (): Float32Array => new Float32Array(40);
    const [m1, v1, m2, v2] = [zeros(), zeros(), zeros(), zeros()];
    const adam = { lr: 0.1, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0, step: 1 };
    s.kernels.AdamW(p, x, m1, v1, adam);
    ref.AdamW(p2, x, m2, v2, adam);
    assert.deepEqual(p, p2);
    assert.equal(s.calls.size, 0, `no wasm call was made (${[...s.calls.keys()]})`);
  });

  test('strided, broadcast and int32 operands go to the reference; so do arrays of a memory that grew since', () => {
    const s = setup();
    const get = arrays(s, [64, 64, 64]);
    get()[0]!.set(Array.from({ length: 64 }, (_, i) => i));
    get()[1]!.fill(2);
    const [a, b, out] = get() as Float32Array[];
    const expected = new Float32Array(32);
    // every other element (stride 2) is not dense
    const strided: Strided = { data: a!, offset: 0, strides: [2] };
    s.kernels.Mul(strided, { data: b!, offset: 0, strides: [1] }, [32], out!.subarray(0, 32));
    ref.Mul(strided, { data: b!, offset: 0, strides: [1] }, [32], expected);
    assert.deepEqual(out!.subarray(0, 32), expected);
    // a row broadcast against a column: general broadcasting
    const e2 = new Float32Array(64);
    s.kernels.Add({ data: a!, offset: 0, strides: [0, 1] }, { data: b!, offset: 0, strides: [1, 0] }, [8, 8], out!);
    ref.Add({ data: a!, offset: 0, strides: [0, 1] }, { data: b!, offset: 0, strides: [1, 0] }, [8, 8], e2);
    assert.deepEqual(out, e2);
    // int32 in the module's memory
    const ints = new Int32Array(s.memory.buffer, out!.byteOffset, 64).fill(3);
    s.kernels.Add({ data: ints, offset: 0, strides: [1] }, { data: ints, offset: 0, strides: [1] }, [64], ints);
    assert.deepEqual(Array.from(ints.subarray(0, 3)), [6, 6, 6]);
    assert.equal(s.calls.size, 0, `no wasm call was made (${[...s.calls.keys()]})`);
    // after a grow the memory has a new buffer: views re-read from the allocation are in it
    const big = s.allocator.allocate('float32', 1 << 20);
    assert.equal(a!.length, 0, 'the old view was detached by the grow');
    const [a2, b2, out2] = get() as Float32Array[];
    s.kernels.Mul({ data: a2!, offset: 0, strides: [1] }, { data: b2!, offset: 0, strides: [1] }, [64], out2!);
    assert.equal(out2![63], 126);
    assert.equal(s.calls.get('mul_vv'), 1);
    big.free();
  });
});
