// GPT2LMHeadModel from a save_pretrained directory (scripts/golden_hf.py): logits, every hidden
// state and attention map within 1e-4 of transformers (float64 on the same weights), greedy
// generation on the KV cache equal to transformers' generate, and the byte-level BPE
// tokenizer.json equal to `tokenizers`.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BpeTokenizer, fromPretrained, hf, noGrad, tidy, type Tensor } from '../../../src/index.js';
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

test('GPT-2: the tokenizer.json gives the ids of `tokenizers`', () => {
  const p = fromPretrained(hfDir('gpt2'));
  assert.ok(p.tokenizer instanceof BpeTokenizer);
  for (const c of goldenJson<Gpt2Golden>('gpt2').tokenizer.without_specials) {
    assert.deepEqual([...(p.tokenizer as BpeTokenizer).encode(c.text)], c.ids, JSON.stringify(c.text));
  }
  p.model.dispose();
});
