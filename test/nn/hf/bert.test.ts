// BERT from save_pretrained directories (scripts/golden_hf.py): BertForTokenClassification and
// BertForSequenceClassification over the same BertModel weights, on a right-padded batch of a
// pair (token types 0/1) and a single text: logits, every hidden state and attention map within
// 1e-4 of transformers; and the WordPiece tokenizer.json giving the ids of `tokenizers` on edge
// cases (accents, punctuation, unknown and over-long words, CJK, empty text, added tokens, pairs).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromPretrained, hf, noGrad, tidy, WordPieceTokenizer, type Tensor } from '../../../src/index.js';
import { assertGolden, goldenJson, goldenTensors, hfDir, ids } from './golden.js';

interface BertGolden {
  input_ids: number[][]; token_type_ids: number[][]; attention_mask: number[][];
  tokenizer: {
    single: { text: string; ids: number[]; tokens: string[] }[];
    pairs: { text: string; pair: string; ids: number[]; type_ids: number[] }[];
    without_specials: { text: string; ids: number[] }[];
  };
}

for (const [name, arch] of [['bert-token', 'BertForTokenClassification'], ['bert-seq', 'BertForSequenceClassification']] as const) {
  test(`${arch}: logits, hidden states and attentions within 1e-4 of transformers`, () => {
    const p = fromPretrained(hfDir(name));
    assert.equal(p.architecture, arch);
    const m = p.model as hf.BertForTokenClassification | hf.BertForSequenceClassification;
    const g = goldenJson<BertGolden>(name);
    const gold = goldenTensors(name);
    const worst = noGrad(() => tidy(() => {
      const out = m.forward({
        inputIds: ids(g.input_ids), tokenTypeIds: ids(g.token_type_ids), attentionMask: ids(g.attention_mask),
        outputHiddenStates: true, outputAttentions: true,
      });
      const pairs: [string, Tensor, Tensor | undefined][] = [['logits', out.logits, gold.get('logits')]];
      out.hiddenStates!.forEach((h, i) => pairs.push([`hidden_states.${i}`, h, gold.get(`hidden_states.${i}`)]));
      out.attentions!.forEach((a, i) => pairs.push([`attentions.${i}`, a, gold.get(`attentions.${i}`)]));
      assert.equal(pairs.length, 1 + 3 + 2);
      return assertGolden(pairs);
    }));
    console.log(`# ${arch} max |diff| vs transformers: ${worst.toExponential(2)}`);
    // the fused path (key padding as a kernel flag) gives the same logits
    noGrad(() => tidy(() => assertGolden([['logits (fused)', m.forward({ inputIds: ids(g.input_ids), tokenTypeIds: ids(g.token_type_ids), attentionMask: ids(g.attention_mask) }).logits, gold.get('logits')]])));
    assert.deepEqual(m.config.labels, arch === 'BertForTokenClassification' ? ['O', 'B-PER', 'I-PER', 'B-LOC', 'I-LOC'] : ['negative', 'neutral', 'positive']);
    m.dispose();
  });
}

test('BERT WordPiece tokenizer.json: the ids of `tokenizers` on edge cases', () => {
  const p = fromPretrained(hfDir('bert-token'));
  const tok = p.tokenizer;
  assert.ok(tok instanceof WordPieceTokenizer);
  const g = goldenJson<BertGolden>('bert-token').tokenizer;
  for (const c of g.single) {
    const e = tok.encode(c.text);
    assert.deepEqual(e.ids, c.ids, JSON.stringify(c.text));
    assert.deepEqual(e.tokens, c.tokens, JSON.stringify(c.text));
  }
  for (const c of g.without_specials) assert.deepEqual(tok.encode(c.text, null, { addSpecialTokens: false }).ids, c.ids, JSON.stringify(c.text));
  for (const c of g.pairs) {
    const e = tok.encode(c.text, c.pair);
    assert.deepEqual([e.ids, e.typeIds], [c.ids, c.type_ids], JSON.stringify([c.text, c.pair]));
  }
  // the golden batch's rows are the encodings of its texts
  const b = goldenJson<BertGolden>('bert-token');
  const pair = tok.encode('I saw a saw.', 'The saw was sharp.');
  assert.deepEqual(pair.ids, b.input_ids[0]!.slice(0, pair.ids.length));
  p.model.dispose();
});
