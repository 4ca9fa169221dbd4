// The WebAssembly GEMM against the reference: random shapes, every transpose, batch strides and
// offsets, the blocking edges, k = 0, and 2 threads (split by matrices, rows or columns).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Generator } from '../../src/index.js';
import { createWasmBackendSync } from '../../src/kernels/wasm/node.js';
import { arrays, fillRandom, ref, relDiff, setup, skip } from './wasm-setup.js';

describe('wasm GEMM', { skip }, () => {
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

  test('GEMM with k = 0 writes zeros', () => {
    const s = setup();
    const [a, b, out] = arrays(s, [1, 1, 6])() as [Float32Array, Float32Array, Float32Array];
    s.kernels.MatMul({ a, aOffset: 0, aBatchStride: 0, transA: false, b, bOffset: 0, bBatchStride: 0, transB: false, out, batch: 1, m: 2, n: 3, k: 0 });
    assert.deepEqual(Array.from(out), [0, 0, 0, 0, 0, 0]);
  });
});
