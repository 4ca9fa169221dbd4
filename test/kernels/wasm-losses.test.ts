// The WebAssembly log-softmax, cross-entropy, row reductions, gather/scatter-add, where and fill
// against the reference; their fallbacks; and ops on the wasm backend reaching these kernels.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { add, crossEntropy, embedding, fill_, Generator, LinearAttentionState, linearAttention, logSoftmax, max, memory, mul, registerBackend, setBackend, sum, tensor, tidy, where, zeros, type Strided } from '../../src/index.js';

import { arrays, assertRelClose, fillRandom, ref, relDiff, setup, skip, values } from './wasm-setup.js';

describe('wasm losses, reductions and indexing', { skip }, () => {
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
});
