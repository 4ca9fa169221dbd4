// GPT2LMHeadModel from a save_pretrained directory (scripts/golden_hf.py): logits, every hidden
// state and attention map within 1e-4 of transformers (float64 on the same weights), greedy
// generation on the KV cache equal to transformers' generate, and the byte-level BPE
// tokenizer.json equal to `tokenizers`.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BpeTokenizer, fromPretrained, Generator, hf, nn, noGrad, tidy, type Tensor } from '../../../src/index.js';
import { assertGolden, goldenJson, goldenTensors, hfDir, ids } from './golden.js';

interface Gpt2Golden { input_ids: number[][]; generated: number[]; tokenizer: { without_specials: { text: string; ids: number[] }[] } }

test('GPT-2: logits, hidden states and attentions within 1e-4 of transformers', () => {
  const p = fromPretrained(hfDir('gpt2'));
  assert.equal(p.architecture, 'GPT2LMHeadModel');
  assert.ok(p.model instanceof hf.GPT2LMHeadModel);
  const g = goldenJson<Gpt2Golden>('gpt2');
  const gold = goldenTensors('gpt2');
  const worst = noGrad(() => tidy(() => {
    const out = (p.model as hf.GPT2LMHeadModel).forward(ids(g.input_ids), { outputHiddenStates: true, outputAttentions: true });
    const pairs: [string, Tensor, Tensor | undefined][] = [['logits', out.logits, gold.get('logits')]];
    out.hiddenStates!.forEach((h, i) => pairs.push([`hidden_states.${i}`, h, gold.get(`hidden_states.${i}`)]));
    out.attentions!.forEach((a, i) => pairs.push([`attentions.${i}`, a, gold.get(`attentions.${i}`)]));
    assert.equal(out.hiddenStates!.length, 3);
    return assertGolden(pairs);
  }));
  console.log(`# GPT-2 max |diff| vs transformers: ${worst.toExponential(2)}`);
  // the fused path (no weights asked for) gives the same logits
  noGrad(() => tidy(() => assertGolden([['logits (fused)', (p.model as hf.GPT2LMHeadModel).forward(ids(g.input_ids)).logits, gold.get('logits')]])));
  p.model.dispose();
});

test('GPT-2: greedy generation on the KV cache equals transformers.generate', () => {
  const p = fromPretrained(hfDir('gpt2'));
  const m = p.model as hf.GPT2LMHeadModel;
  const g = goldenJson<Gpt2Golden>('gpt2');
  const seq = [...g.input_ids[0]!];
  const caches = m.makeCaches(1);
  noGrad(() => {
    let next = seq;
    while (seq.length < g.generated.length) {
      const id = tidy(() => {
        const logits = m.forward(ids([next]), { caches }).logits; // (1, T, vocab)
        return logits.select(1, logits.shape[1]! - 1).argmax(-1).toTypedArray()[0]!;
      });
      seq.push(id);
      next = [id];
    }
  });
  assert.deepEqual(seq, g.generated);
  caches.forEach((c) => c.dispose());
  m.dispose();
});

test('GPT-2: a decoding step on the fused KV step gives the unfused path\'s logits', () => {
  // outputAttentions asks for alpha', which only the unfused path (split, append, attention) forms
  const p = fromPretrained(hfDir('gpt2'));
  const m = p.model as hf.GPT2LMHeadModel;
  const g = goldenJson<Gpt2Golden>('gpt2');
  const [fused, unfused] = [m.makeCaches(1), m.makeCaches(1)];
  let worst = 0;
  noGrad(() => {
    let next = g.input_ids[0]!;
    for (let i = 0; i < 20; i++) { // past the caches' first capacity (16): they grow once
      const id = tidy(() => {
        const a = m.forward(ids([next]), { caches: fused }).logits.toTypedArray();
        const b = m.forward(ids([next]), { caches: unfused, outputAttentions: true }).logits.toTypedArray();
        assert.equal(a.length, b.length);
        for (let j = 0; j < a.length; j++) worst = Math.max(worst, Math.abs(a[j]! - b[j]!));
        return (next.length === 1 ? Array.from(a) : Array.from(a.subarray(a.length - m.config.vocabSize)))
          .reduce((best, x, j, xs) => (x > xs[best]! ? j : best), 0);
      });
      next = [id];
    }
  });
  assert.equal(fused[0]!.length, unfused[0]!.length);
  assert.ok(worst < 1e-5, `fused and unfused decoding differ by ${worst}`);
  [...fused, ...unfused].forEach((c) => c.dispose());
  m.dispose();
});

test('GPT-2: the tokenizer.json gives the ids of `tokenizers`', () => {
  const p = fromPretrained(hfDir('gpt2'));
  assert.ok(p.tokenizer instanceof BpeTokenizer);
  for (const c of goldenJson<Gpt2Golden>('gpt2').tokenizer.without_specials) {
    assert.deepEqual([...(p.tokenizer as BpeTokenizer).encode(c.text)], c.ids, JSON.stringify(c.text));
  }
  p.model.dispose();
});

test('GPT-2: the fused path on the packed heads gives the unfused path\'s loss and gradients (a padded batch, LoRA on c_attn)', () => {
  const run = (fused: boolean): { loss: number; grads: Map<string, Float32Array> } => {
    const p = fromPretrained(hfDir('gpt2'));
    const m = p.model as hf.GPT2LMHeadModel;
    hf.addLora(m, { r: 2, alpha: 4, targets: ['c_attn'], generator: new Generator(7) });
    for (const [name, t] of m.namedParameters()) if (name.endsWith('lora_B.weight')) t.buffer().fill(0.05); // a nonzero update
    m.eval(); // no dropout: both paths see the same function
    const g = goldenJson<Gpt2Golden>('gpt2');
    const row = g.input_ids[0]!;
    const x = ids([row, row.map((t, i) => (i < row.length - 2 ? t : 0))]);
    const mask = ids([row.map(() => 1), row.map((_, i) => (i < row.length - 2 ? 1 : 0))]);
    const y = ids([row.map((t) => (t + 1) % m.config.vocabSize), row.map((t, i) => (i < row.length - 2 ? (t + 1) % m.config.vocabSize : -100))]);
    nn.enableFlashAttention(fused);
    try {
      const loss = tidy(() => {
        const l = m.forward(x, { targets: y, attentionMask: mask }).loss!;
        l.backward();
        return l.item();
      });
      const grads = new Map([...m.namedParameters()].filter(([, t]) => t.grad).map(([n, t]) => [n, t.grad!.toTypedArray() as Float32Array]));
      m.dispose();
      return { loss, grads };
    } finally {
      nn.enableFlashAttention(true);
    }
  };
  const [fused, naive] = [run(true), run(false)];
  assert.ok(Math.abs(fused.loss - naive.loss) < 1e-5, `loss ${fused.loss} vs ${naive.loss}`);
  assert.equal(fused.grads.size, naive.grads.size);
  let worst = 0;
  for (const [name, gf] of fused.grads) {
    const gn = naive.grads.get(name)!;
    for (let i = 0; i < gf.length; i++) worst = Math.max(worst, Math.abs(gf[i]! - gn[i]!));
  }
  assert.ok(worst < 1e-5, `max |grad diff| ${worst}`);
  assert.ok([...fused.grads.keys()].some((n) => n.endsWith('c_attn.lora_A.weight')));
});

test('GPT-2: logitsToKeep gives the last positions\' logits of the full forward; refused with targets or when not a count', () => {
  const p = fromPretrained(hfDir('gpt2'));
  const m = p.model as hf.GPT2LMHeadModel;
  const g = goldenJson<Gpt2Golden>('gpt2');
  noGrad(() => tidy(() => {
    const x = ids(g.input_ids);
    const full = m.forward(x).logits;
    const T = full.shape[1]!;
    for (const keep of [1, 2]) {
      const last = m.forward(x, { logitsToKeep: keep }).logits;
      assert.deepEqual(last.shape, [full.shape[0], keep, full.shape[2]]);
      const [a, b] = [last.toTypedArray(), full.slice(1, T - keep).toTypedArray()];
      assert.ok(a.every((v, i) => Math.abs(v - b[i]!) <= 1e-6), `logitsToKeep ${keep}: the last rows of the full logits`);
    }
    assert.deepEqual(m.forward(x, { logitsToKeep: T + 3 }).logits.shape, full.shape);
    assert.throws(() => m.forward(x, { logitsToKeep: 1, targets: x }), /GPT2LMHeadModel: logitsToKeep cannot go with targets/);
    assert.throws(() => m.forward(x, { logitsToKeep: 1.5 }), /GPT2LMHeadModel: logitsToKeep must be a non-negative integer \(0: every position\), got 1.5/);
  }));
  m.dispose();
});
