// inspectModel on decoders: a GPT's generation step by step is the cached decoding path itself
// (each step's query row over the KV cache, or linear attention's state, equals that row of one
// full causal pass over the same tokens), its tokens are qkv generate's greedy ones; a seq2seq
// model's encoder, causal decoder and cross-attention (target x source) follow the lecture's
// formulas with the keys made from the encoder's output.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  createLm, data, generateTokens, Generator, inspectModel, manualSeed, memory, seq2seqDriver, translate, type LmInstance, type ModelInspection,
} from '../../src/index.js';
import { syntheticText } from '../tasks/lm-text.js';

const close = (got: number, want: number, what: string, tol = 1e-5) => assert.ok(Math.abs(got - want) <= tol * Math.max(1, Math.abs(want)), `${what}: ${got} vs ${want}`);
const closeAll = (got: readonly number[], want: readonly number[], what: string) => {
  assert.equal(got.length, want.length, `${what}: length`);
  got.forEach((x, i) => close(x, want[i]!, `${what}[${i}]`));
};
const dot = (x: number[], y: number[]) => x.reduce((s, xi, i) => s + xi * y[i]!, 0);

/** A tiny GPT with its attention sharpened (W^q, W^k scaled up), so rows differ visibly from uniform. */
function tinyLm(attention: 'softmax' | 'linear' | 'additive'): LmInstance {
  manualSeed(5);
  const m = createLm(syntheticText(2000, 3), { model: { nLayer: 2, nHead: 2, nEmbd: 16, blockSize: 32, attention }, generator: new Generator(11) });
  for (const [name, p] of m.model.namedParameters()) {
    if (name.endsWith('c_attn.weight')) { const b = p.buffer(); for (let i = 0; i < b.length; i++) b[i] = b[i]! * 40; }
  }
  return m;
}

for (const attention of ['softmax', 'additive', 'linear'] as const) {
  test(`inspectModel(GPT, ${attention}): step t of the cached generation equals row t of the full causal pass`, () => {
    const m = tinyLm(attention);
    const prompt = 'the cat';
    const N = 6;
    const before = memory().tensors;
    const r = inspectModel(m, prompt, { maxNewTokens: N });
    assert.equal(memory().tensors, before, 'no tensor outlives the inspection');
    const P = [...prompt].length;
    const g = r.generation!;
    assert.equal(g.prompt, P);
    assert.equal(g.steps.length, N);
    assert.deepEqual(r.tokens, [...prompt]);
    // the tokens are qkv generate's greedy ones
    const greedy = generateTokens(m.model, m.tokenizer.encode(prompt), { maxNewTokens: N, temperature: 0 });
    assert.equal(r.prediction, m.tokenizer.decode(greedy));
    assert.deepEqual(g.tokens, [...prompt, ...[...m.tokenizer.decode(greedy)]]);
    assert.deepEqual(g.steps.map((s) => s.next), [...m.tokenizer.decode(greedy)]);
    // the prompt's map is causal
    r.blocked.forEach((row, i) => row.forEach((b, j) => assert.equal(b, j > i)));
    // one full causal pass (no cache) over every token the steps read
    const full = inspectModel(m, g.tokens.slice(0, P + N - 1).join(''), { maxNewTokens: 1 });
    let rows = 0;
    g.steps.forEach((step, s) => {
      const t = P - 1 + s;
      assert.equal(step.position, t);
      step.layers.forEach((heads, li) => heads.forEach((hd, h) => {
        const f = full.layers[li]!.heads[h]!;
        const where = `step ${s} layer ${li} head ${h}`;
        closeAll(hd.q, f.q[t]!, `${where} q`);
        closeAll(hd.b, f.b[t]!, `${where} b`);
        // the cache grows by one column per step: step 0 holds the prompt, then one key more each
        assert.equal(hd.k.length, s === 0 ? P : 1);
        hd.k.forEach((k, n) => closeAll(k, f.k[t + 1 - hd.k.length + n]!, `${where} k`));
        hd.v.forEach((v, n) => closeAll(v, f.v[t + 1 - hd.v.length + n]!, `${where} v`));
        if (attention === 'linear') {
          assert.equal(hd.alphaPrime, null);
          const st = f.state!;
          hd.state!.S.forEach((row, c) => closeAll(row, st.S[t]![c]!, `${where} S[${c}]`));
          closeAll(hd.state!.z, st.z[t]!, `${where} z`);
        } else {
          assert.equal(hd.alphaPrime!.length, t + 1, `${where}: a weight per cached key`);
          closeAll(hd.alphaPrime!, f.alphaPrime![t]!.slice(0, t + 1), `${where} alpha'`);
          closeAll(hd.alpha!, f.alpha![t]!.slice(0, t + 1) as number[], `${where} alpha`);
          close(hd.alphaPrime!.reduce((a, x) => a + x, 0), 1, `${where}: alpha' sums to 1`);
        }
        rows++;
      }));
    });
    assert.equal(rows, N * 2 * 2);
    if (attention === 'softmax') {
      // not uniform: the test would catch a row taken from the wrong position
      const w = g.steps[3]!.layers[1]![0]!.alphaPrime!;
      assert.ok(Math.max(...w) - Math.min(...w) > 0.05, `attention is sharp enough to tell rows apart: ${w}`);
    }
  });
}

test('inspectModel(GPT): seeded sampling, and bad prompts in one line', () => {
  const m = tinyLm('softmax');
  const a = inspectModel(m, 'the', { maxNewTokens: 5, temperature: 1, seed: 3 });
  const want = generateTokens(m.model, m.tokenizer.encode('the'), { maxNewTokens: 5, temperature: 1, generator: new Generator(3) });
  assert.equal(a.prediction, m.tokenizer.decode(want));
  assert.equal(a.generation!.sampling, 'temperature 1, seed 3');
  // the lecture view's projection: this head's rows of c_attn, q^i = W^q a^i (a: after ln_1), k and v likewise
  for (const layer of a.layers) {
    for (const hd of layer.heads) {
      layer.a.forEach((x, i) => hd.q[i]!.forEach((qv, c) => close(qv, dot(hd.Wq[c]!, x) + (hd.bq?.[c] ?? 0), `q[${i}][${c}]`, 2e-5)));
      layer.a.forEach((x, i) => hd.v[i]!.forEach((vv, c) => close(vv, dot(hd.Wv[c]!, x) + (hd.bv?.[c] ?? 0), `v[${i}][${c}]`, 2e-5)));
    }
  }
  assert.throws(() => inspectModel(m, ''), /the prompt is empty/);
  assert.throws(() => inspectModel(m, 'the cat§'), /the prompt has the character "§" \(U\+00A7\) at position 7 \(line 1, column 8\)/);
  assert.throws(() => inspectModel(m, 'the', { maxNewTokens: 40 }), /block size is 32: at most 30 new tokens/);
  assert.equal(inspectModel(m, 'the', { maxNewTokens: 30 }).generation!.steps.at(-1)!.layers[0]![0]!.alphaPrime!.length, 32);
  // 0 new tokens (what --viz records while training): the prompt's attention alone, the same numbers
  const prompt = inspectModel(m, 'the', { maxNewTokens: 0 });
  assert.equal(prompt.generation, null);
  assert.equal(prompt.prediction, '');
  assert.deepEqual(prompt.layers, a.layers);
  assert.doesNotThrow(() => inspectModel(m, 'a'.repeat(32), { maxNewTokens: 0 }));
  assert.throws(() => inspectModel(m, 'the', { maxNewTokens: -1 }), /new tokens must be an integer >= 0/);
});

/** Cross-attention as the lecture writes it: k^j = W^k m^j + b (m: the encoder's output), alpha = q·k/sqrt(d), softmax over the source. */
function checkCross(r: ModelInspection): void {
  const cross = r.parts!.find((p) => p.name === 'cross-attention')!;
  const T = cross.tokens.length;
  const S = r.tokens.length;
  assert.deepEqual(cross.keys, r.tokens);
  for (const layer of cross.layers) {
    assert.equal(layer.aKeys!.length, S);
    assert.equal(layer.a.length, T);
    for (const hd of layer.heads) {
      assert.equal(hd.q.length, T);
      assert.equal(hd.k.length, S);
      assert.equal(hd.alphaPrime!.length, T);
      hd.alphaPrime!.forEach((row, i) => {
        assert.equal(row.length, S, 'a row per target token, a column per source token');
        close(row.reduce((a, x) => a + x, 0), 1, `row ${i} sums to 1`);
        row.forEach((_, j) => close(hd.alpha![i]![j]!, dot(hd.q[i]!, hd.k[j]!) * r.model.scale, `alpha[${i}][${j}]`, 2e-5));
      });
      layer.aKeys!.forEach((a, j) => hd.k[j]!.forEach((kv, c) => close(kv, dot(hd.Wk[c]!, a) + (hd.bk?.[c] ?? 0), `k[${j}][${c}]`, 2e-5)));
      layer.a.forEach((a, i) => hd.q[i]!.forEach((qv, c) => close(qv, dot(hd.Wq[c]!, a) + (hd.bq?.[c] ?? 0), `q[${i}][${c}]`, 2e-5)));
    }
  }
}

test('inspectModel(seq2seq): encoder, causal decoder and cross-attention (target x source) for the greedy output', () => {
  manualSeed(2);
  const pairs = data.builtinDataset('reverse', { seed: 3, n: 100 });
  const m = seq2seqDriver.create(pairs, { model: { dModel: 16, heads: 2, layers: 2, ff: 32, dropout: 0 }, generator: new Generator(7) });
  const source = [...'abcde'];
  const before = memory().tensors;
  const r = inspectModel(m, { source });
  assert.equal(memory().tensors, before, 'no tensor outlives the inspection');
  const out = translate(m, [{ source }])[0]!;
  assert.equal(r.prediction, out.join(''));
  assert.deepEqual(r.tokens, source);
  assert.equal(r.layers.length, 2);
  r.layers[0]!.heads[0]!.alphaPrime!.forEach((row) => assert.equal(row.length, 5));
  const [dec, cross] = r.parts!;
  assert.equal(dec!.name, 'decoder self-attention');
  assert.deepEqual(dec!.tokens, ['<bos>', ...out]);
  const T = out.length + 1;
  for (const layer of dec!.layers) {
    for (const hd of layer.heads) {
      hd.alpha!.forEach((row, i) => row.forEach((x, j) => assert.equal(x === null, j > i, 'causal')));
      hd.alphaPrime!.forEach((row) => close(row.reduce((a, x) => a + x, 0), 1, 'row sums to 1'));
    }
  }
  assert.equal(cross!.blocked.length, T);
  checkCross(r);
  assert.throws(() => inspectModel(m, { source: [] }), /the input is empty/);
  // a given target is teacher-forced in place of the greedy output: the greedy one gives the same numbers, another its own rows
  assert.deepEqual(inspectModel(m, { source }, { target: out }), r);
  const forced = inspectModel(m, { source }, { target: [...'edcba'] });
  assert.deepEqual(forced.parts![1]!.tokens, ['<bos>', ...'edcba']);
  assert.equal(forced.prediction, 'edcba');
  assert.deepEqual(forced.layers, r.layers, 'the encoder does not see the target');
  checkCross(forced);
  assert.throws(() => inspectModel(m, { source }, { target: [...'x'.repeat(m.model.maxLen)] }), /the target has \d+ tokens; the model reads at most/);
});

test('inspectModel on other tokenizers and kinds: a word GPT marks unknown words, a linear seq2seq model keeps its decoder state', () => {
  manualSeed(4);
  const words = createLm(syntheticText(2000, 3), { tokenize: 'words', model: { nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 32 } });
  const r = inspectModel(words, 'the zebra sat', { maxNewTokens: 2 });
  assert.deepEqual(r.tokens, ['the', ' ', 'zebra', ' ', 'sat']);
  assert.deepEqual(r.unknown, [false, false, true, false, false]);
  assert.equal(r.generation!.tokens.length, 7);
  const pairs = data.builtinDataset('reverse', { seed: 3, n: 60 });
  const m = seq2seqDriver.create(pairs, { model: { dModel: 16, heads: 2, layers: 1, ff: 32, dropout: 0, attention: 'linear' }, generator: new Generator(7) });
  const s = inspectModel(m, { source: [...'abc'] });
  const [dec, cross] = s.parts!;
  assert.equal(dec!.layers[0]!.heads[0]!.alphaPrime, null);
  assert.equal(dec!.layers[0]!.heads[0]!.state!.S.length, dec!.tokens.length, 'the decoder\'s running state, a step per target token');
  assert.equal(cross!.layers[0]!.heads[0]!.state, null, 'cross-attention is not causal: no running state');
  assert.equal(cross!.layers[0]!.heads[0]!.b.length, cross!.tokens.length);
});
