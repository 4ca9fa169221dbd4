// Lifetimes: explicit dispose, views sharing one buffer, scopes, `using`, and the proof that a
// long training loop holds memory flat.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as q from '../../src/index.js';
import { Generator, HeapAllocator, memory, noGrad, tidy, type Tensor } from '../../src/index.js';
import { forEachBackend } from '../helpers.js';

forEachBackend('memory', () => {
  test('dispose frees a tensor; a view keeps the buffer alive until it goes too', () => {
    const before = memory();
    const x = q.zeros([4, 4]);
    assert.equal(memory().bytes - before.bytes, 64);
    const v = x.transpose();
    assert.equal(v.storage, x.storage, 'a view shares the buffer');
    x.dispose();
    assert.equal(memory().bytes - before.bytes, 64, 'the view still holds it');
    v.dispose();
    assert.deepEqual([memory().bytes, memory().tensors, memory().storages], [before.bytes, before.tensors, before.storages]);
    x.dispose(); // twice is harmless
    assert.throws(() => x.add(1), /add: tensor #\d+ \[4, 4\] was disposed/);
  });

  test('tidy disposes what it made and keeps what it returns (also inside arrays and objects)', () => {
    const before = memory();
    const { a, list } = tidy(() => {
      const t = q.ones([3]);
      const u = t.mul(2).add(1);
      return { a: u, list: [t.exp()] };
    });
    assert.equal(memory().tensors - before.tensors, 2);
    assert.deepEqual(Array.from(a.toTypedArray()), [3, 3, 3]);
    a.dispose();
    list[0]!.dispose();
    assert.deepEqual(memory(), { ...before, peakBytes: memory().peakBytes });
  });

  test('nested tidy hands returned tensors to the outer scope; keep() takes them out of all scopes', () => {
    const before = memory().tensors;
    let kept: Tensor | null = null;
    tidy(() => {
      const inner = tidy(() => q.ones([2]).mul(3));
      kept = q.keep(inner.add(1));
      assert.equal(inner.isDisposed, false);
    });
    assert.equal(memory().tensors - before, 1);
    assert.equal(kept!.isDisposed, false);
    kept!.dispose();
    assert.equal(memory().tensors, before);
  });

  test('tidy disposes on throw too', () => {
    const before = memory().tensors;
    assert.throws(() => tidy(() => { q.ones([5]); throw new Error('boom'); }), /boom/);
    assert.equal(memory().tensors, before);
  });

  test('`using` disposes at the end of the block', () => {
    const before = memory().tensors;
    {
      using t = q.randn([8]);
      assert.equal(t.isDisposed, false);
    }
    assert.equal(memory().tensors, before);
  });

  test('the graph frees its saved values when backward has run and its tensors are disposed', () => {
    const w = q.randn([4, 4], { requiresGrad: true });
    const before = memory();
    tidy(() => {
      const y = q.tensor([[1, 2, 3, 4]]).matmul(w).tanh().sum();
      y.backward();
    });
    assert.equal(memory().tensors - before.tensors, 1, 'only w.grad is new');
    w.dispose();
    assert.equal(memory().tensors, before.tensors - 1);
  });

  test('a graph that is never backpropagated is freed when its tensors are disposed', () => {
    const w = q.randn([4, 4], { requiresGrad: true });
    const before = memory();
    tidy(() => { q.layerNorm(q.tensor([[1, 2, 3, 4]]).matmul(w).softmax(), [4]); });
    assert.deepEqual([memory().tensors, memory().bytes], [before.tensors, before.bytes]);
    w.dispose();
  });
});

/** A small self-attention tagger built from the engine's ops: the shape of a real training step. */
function makeModel(g: Generator) {
  const d = 8;
  const p = (shape: number[], scale: number) => q.keep(q.randn(shape, { generator: g, std: scale, requiresGrad: true }));
  return {
    emb: p([10, d], 1), Wq: p([d, d], 0.3), Wk: p([d, d], 0.3), Wv: p([d, d], 0.3),
    lnW: q.keep(q.ones([d], { requiresGrad: true })), lnB: q.keep(q.zeros([d], { requiresGrad: true })),
    Wo: p([4, d], 0.3), bo: q.keep(q.zeros([4], { requiresGrad: true })),
  };
}

function step(m: ReturnType<typeof makeModel>, ids: Tensor, labels: Tensor, lr: number): number {
  return tidy(() => {
    const a = q.embedding(ids, m.emb); // (B, T, d)
    const qv = a.matmul(m.Wq);
    const k = a.matmul(m.Wk);
    const v = a.matmul(m.Wv);
    const alpha = qv.matmul(k.transpose()).div(Math.sqrt(8)); // (B, T, T)
    const alphaPrime = q.dropout(alpha.softmax(-1), 0.1);
    const b = alphaPrime.matmul(v).add(a); // (B, T, d)
    const h = q.gelu(q.layerNorm(b, [8], m.lnW, m.lnB));
    const logits = q.linear(h, m.Wo, m.bo); // (B, T, 4)
    const loss = q.crossEntropy(logits, labels, { labelSmoothing: 0.1 });
    loss.backward();
    noGrad(() => {
      for (const p of Object.values(m)) {
        q.assign(p, p.sub(p.grad!.mul(lr)));
        p.zeroGrad();
      }
    });
    return loss.item();
  });
}

test('10,000 training steps leave the live-byte count where it was after the first step', () => {
  const g = new Generator(1);
  const m = makeModel(g);
  const ids = q.keep(q.randint(0, 10, [4, 6], { generator: g }));
  const labels = q.keep(q.randint(0, 4, [4, 6], { generator: g }));
  const first = step(m, ids, labels, 0.1);
  const after1 = memory();
  let last = first;
  for (let i = 1; i < 10000; i++) last = step(m, ids, labels, 0.1);
  const after = memory();
  assert.equal(after.bytes, after1.bytes, `live bytes ${after1.bytes} after step 1, ${after.bytes} after 10,000`);
  assert.equal(after.tensors, after1.tensors);
  assert.equal(after.storages, after1.storages);
  assert.ok(last < first, `the loss went down (${first.toFixed(3)} -> ${last.toFixed(3)})`);
});

test('the same on a WebAssembly heap: its used bytes stay flat too', () => {
  const heap = new HeapAllocator();
  q.registerBackend({ name: 'heap-memtest', allocator: heap, kernels: {} });
  const previous = q.getBackend().name;
  q.setBackend('heap-memtest');
  try {
    const g = new Generator(2);
    const m = makeModel(g);
    const ids = q.keep(q.randint(0, 10, [4, 6], { generator: g }));
    const labels = q.keep(q.randint(0, 4, [4, 6], { generator: g }));
    step(m, ids, labels, 0.1);
    const used = heap.stats().used;
    const capacity = heap.stats().capacity;
    for (let i = 1; i < 2000; i++) step(m, ids, labels, 0.1);
    assert.equal(heap.stats().used, used);
    assert.equal(heap.stats().capacity, capacity, 'the memory did not have to grow');
  } finally {
    q.setBackend(previous);
  }
});
