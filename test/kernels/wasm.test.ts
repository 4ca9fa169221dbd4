// The WebAssembly SIMD kernels against the reference kernels, called directly with arrays in the
// module's memory: the engine probes, elementwise, copy, softmax, layerNorm and AdamW, each counted
// as a call into its wasm export (so a silent fallback fails); and the fallback to the reference
// when an array is not in the module's memory. GEMM, attention and losses have files of their
// own (wasm-*.test.ts); the op suites run on wasm too, through forEachBackend in helpers.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Generator, referenceBackend, type Strided } from '../../src/index.js';
import { relaxedSimdSupported, simdSupported } from '../../src/kernels/wasm/module.js';
import { createWasmBackendSync } from '../../src/kernels/wasm/node.js';
import { arrays, assertRelClose, bestBuilt, fillRandom, ref, relDiff, setup, skip } from './wasm-setup.js';

describe('wasm kernels', { skip }, () => {
  test('the engine probes: SIMD is there; the build that loads matches relaxedSimdSupported()', () => {
    assert.ok(simdSupported());
    const backend = createWasmBackendSync();
    assert.equal(backend.name, 'wasm');
    assert.equal(backend.variant, bestBuilt());
    // on Node 20 without --experimental-wasm-relaxed-simd the plain SIMD build runs
    if (!relaxedSimdSupported()) assert.equal(backend.variant, 'simd');
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
