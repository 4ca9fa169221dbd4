// inspectModel: every number the visualizer shows, checked against the lecture's formulas
// recomputed here from the returned q, k, v and the layer's a and W (float64 sums), and against
// the attention weights the models return themselves (tagAttention).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyDriver, data, inspectModel, manualSeed, memory, tagAttention, tagDriver, type ModelInspection, type TagModel } from '../../src/index.js';

const dot = (x: number[], y: number[]) => x.reduce((s, xi, i) => s + xi * y[i]!, 0);
const close = (got: number, want: number, what: string, tol = 2e-5) => assert.ok(Math.abs(got - want) <= tol * Math.max(1, Math.abs(want)), `${what}: ${got} vs ${want}`);

function tagModel(model: Record<string, unknown>, set: 'ambiguity' | 'speech' | 'graph' = 'ambiguity'): { m: TagModel; examples: data.TaggedExample[] } {
  manualSeed(3);
  const examples = data.builtinDataset(set, { seed: 1, n: 40 }) as data.TaggedExample[];
  const m = tagDriver.create(examples, { model: { kind: 'transformer', dModel: 16, heads: 2, layers: 2, ...model } }) as TagModel;
  m.model.eval();
  return { m, examples };
}

/** The lecture's arithmetic, recomputed from the inspection's own q, k, v (and a, W). */
function checkLecture(r: ModelInspection, checkProjection: boolean): void {
  const normalizer = r.model.attention === 'relu' ? 'relu' : 'softmax';
  for (const [li, layer] of r.layers.entries()) {
    for (const [h, hd] of layer.heads.entries()) {
      const where = `layer ${li} head ${h}`;
      if (checkProjection) {
        // q^i = W^q a^i + b^q (no RoPE here)
        layer.a.forEach((a, i) => hd.q[i]!.forEach((qv, c) => close(qv, dot(hd.Wq[c]!, a) + (hd.bq?.[c] ?? 0), `${where} q[${i}][${c}]`)));
        layer.a.forEach((a, i) => hd.v[i]!.forEach((vv, c) => close(vv, dot(hd.Wv[c]!, a) + (hd.bv?.[c] ?? 0), `${where} v[${i}][${c}]`)));
      }
      hd.alpha!.forEach((row, i) => {
        row.forEach((x, j) => {
          assert.equal(x === null, r.blocked[i]![j], `${where}: alpha[${i}][${j}] is null exactly where blocked`);
          if (x === null) return;
          const want = r.model.attention === 'additive'
            ? dot(hd.w!, hd.q[i]!.map((qv, c) => Math.tanh(qv + hd.k[j]![c]!))) // w · tanh(q^i + k^j)
            : dot(hd.q[i]!, hd.k[j]!) * r.model.scale; // q^i · k^j / sqrt(d)
          close(x, want, `${where} alpha[${i}][${j}]`);
        });
        const live = row.filter((x): x is number => x !== null);
        const max = Math.max(...live);
        const z = live.reduce((s, x) => s + Math.exp(x - max), 0);
        row.forEach((x, j) => {
          const want = x === null ? 0 : normalizer === 'relu' ? Math.max(0, x) : Math.exp(x - max) / z;
          close(hd.alphaPrime![i]![j]!, want, `${where} alphaPrime[${i}][${j}]`);
        });
        // b^i = Σ_j alpha'_{i,j} v^j
        hd.b[i]!.forEach((bv, c) => close(bv, hd.alphaPrime![i]!.reduce((s, w, j) => s + w * hd.v[j]![c]!, 0), `${where} b[${i}][${c}]`));
      });
    }
  }
}

test('inspectModel: q = W^q a + b, alpha = q·k/sqrt(d), alpha\' = softmax(alpha), b = Σ alpha\' v, in every layer and head', () => {
  const { m } = tagModel({ pos: 'sinusoidal' });
  const before = memory().tensors;
  const r = inspectModel(m, { tokens: ['I', 'saw', 'a', 'saw'] });
  assert.equal(memory().tensors, before, 'no tensor outlives the inspection');
  assert.deepEqual(r.tokens, ['I', 'saw', 'a', 'saw']);
  assert.equal(r.input, 'words');
  assert.equal(r.layers.length, 2);
  assert.equal(r.layers[0]!.heads.length, 2);
  assert.equal(r.layers[0]!.heads[0]!.q[0]!.length, 8);
  assert.equal((r.prediction as string[]).length, 4);
  checkLecture(r, true);
  // alpha' is what the model itself returns as its attention weights
  const weights = tagAttention(m, { tokens: ['I', 'saw', 'a', 'saw'] });
  r.layers.forEach((l, li) => l.heads.forEach((h, hi) => h.alphaPrime!.forEach((row, i) => row.forEach((x, j) => close(x, weights[li]![hi]![i]![j]!, 'tagAttention', 1e-6)))));
});

test('inspectModel: RoPE, ReLU and additive attention, and a window drawn as blocked cells', () => {
  checkLecture(inspectModel(tagModel({ pos: 'rope' }).m, { tokens: 'the duck can fly'.split(' ') }), false);
  checkLecture(inspectModel(tagModel({ attention: 'relu', pos: 'none' }).m, { tokens: 'I saw a saw'.split(' ') }), true);
  checkLecture(inspectModel(tagModel({ attention: 'additive', pos: 'learned' }).m, { tokens: 'I saw a saw'.split(' ') }), false);
  const r = inspectModel(tagModel({ window: 1, pos: 'none' }).m, { tokens: 'I saw a saw run'.split(' ') });
  r.blocked.forEach((row, i) => row.forEach((b, j) => assert.equal(b, Math.abs(i - j) > 1, `window 1: blocked[${i}][${j}]`)));
  checkLecture(r, true);
});

test('inspectModel: linear attention has q, k, v and b but no alpha', () => {
  const r = inspectModel(tagModel({ attention: 'linear', pos: 'none' }).m, { tokens: ['I', 'saw'] });
  assert.equal(r.layers[0]!.heads[0]!.alpha, null);
  assert.equal(r.layers[0]!.heads[0]!.alphaPrime, null);
  assert.equal(r.layers[0]!.heads[0]!.b.length, 2);
  assert.ok(r.blocked.flat().every((b) => !b));
  // the state after t: S = Σ_{j<=t} φ(k^j) v^jᵀ, z = Σ_{j<=t} φ(k^j); b^i reads the final one
  const phi = (x: number) => (x > 0 ? x + 1 : Math.exp(x));
  for (const l of r.layers) {
    for (const h of l.heads) {
      const st = h.state!;
      h.k.forEach((_, t) => {
        st.z[t]!.forEach((z, c) => close(z, h.k.slice(0, t + 1).reduce((s, k) => s + phi(k[c]!), 0), `z[${t}][${c}]`));
        st.S[t]!.forEach((row, c) => row.forEach((x, e) => close(x, h.k.slice(0, t + 1).reduce((s, k, j) => s + phi(k[c]!) * h.v[j]![e]!, 0), `S[${t}][${c}][${e}]`)));
      });
      const S = st.S[st.S.length - 1]!;
      const z = st.z[st.z.length - 1]!;
      h.b.forEach((b, i) => {
        const fq = h.q[i]!.map(phi);
        const den = dot(fq, z);
        b.forEach((x, e) => close(x, fq.reduce((s, f, c) => s + f * S[c]![e]!, 0) / den, `b[${i}][${e}]`, 1e-4));
      });
    }
  }
});

test('inspectModel: frames, graph nodes (blocked off the edges), unknown words, classify models', () => {
  const speech = tagModel({ pos: 'none' }, 'speech');
  const frames = speech.examples[0]!.frames!.slice(0, 5);
  const rf = inspectModel(speech.m, { frames });
  assert.equal(rf.input, 'frames');
  assert.deepEqual(rf.tokens, ['frame 1', 'frame 2', 'frame 3', 'frame 4', 'frame 5']);
  checkLecture(rf, true);

  const graph = tagModel({ pos: 'none' }, 'graph');
  const g = graph.examples[0]!;
  const rg = inspectModel(graph.m, { frames: g.frames!, edges: g.edges! });
  assert.equal(rg.input, 'graph');
  const linked = (i: number, j: number) => i === j || g.edges!.some(([u, v]) => (u === i && v === j) || (u === j && v === i));
  rg.blocked.forEach((row, i) => row.forEach((b, j) => assert.equal(b, !linked(i, j), `graph: blocked[${i}][${j}]`)));
  checkLecture(rg, true);

  const { m } = tagModel({ pos: 'none' });
  assert.deepEqual(inspectModel(m, { tokens: ['I', 'saw', 'zyzzyva'] }).unknown, [false, false, true]);

  const examples = (data.builtinDataset('ambiguity', { seed: 1, n: 20 }) as data.TaggedExample[]).map((e) => ({ tokens: e.tokens, label: e.labels[0]! }));
  const c = classifyDriver.create(examples, { model: { kind: 'transformer', dModel: 16, heads: 2, layers: 1, pos: 'none' } });
  c.model.eval();
  const rc = inspectModel(c, { tokens: ['I', 'saw'] });
  assert.equal(rc.task, 'classify');
  assert.equal(typeof rc.prediction, 'string');
  checkLecture(rc, true);
});

test('inspectModel: an empty input and a model without attention are one clear error', () => {
  const { m } = tagModel({});
  assert.throws(() => inspectModel(m, { tokens: [] }), /the input is empty/);
  const fc = tagModel({ kind: 'fc' }).m;
  assert.throws(() => inspectModel(fc, { tokens: ['I'] }), /a fc model has no attention to look at/);
});
