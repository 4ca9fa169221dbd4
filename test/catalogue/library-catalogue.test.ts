// The bad-input catalogue of the library: options objects (unknown keys, PyTorch spellings,
// positional arguments), values that would silently do something else, state dicts, batching
// indices, and the interop helpers. Each bad case throws a QkvError of one line (at most 300
// characters) that names the class, option, key or index; the good cases show the fix works.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as q from '../../src/index.js';
import { data, Generator, nn, QkvError, tagDriver } from '../../src/index.js';

const bad: [string, () => unknown, RegExp][] = [
  ['TransformerEncoderLayer norm_first', () => new nn.TransformerEncoderLayer(8, 2, { norm_first: true } as never), /TransformerEncoderLayer: unknown option "norm_first" \(qkv spells it normFirst\)/],
  ['TransformerEncoderLayer batch_first', () => new nn.TransformerEncoderLayer(8, 2, { batch_first: true } as never), /"batch_first" \(qkv is always batch-first/],
  ['TransformerEncoderLayer dim_feedforward', () => new nn.TransformerEncoderLayer(8, 2, { dim_feedforward: 16 } as never), /spells it dimFeedforward/],
  ['TransformerEncoderLayer layer_norm_eps', () => new nn.TransformerEncoderLayer(8, 2, { layer_norm_eps: 1e-6 } as never), /spells it layerNormEps/],
  ['TransformerEncoderLayer positional dim_feedforward', () => new (nn.TransformerEncoderLayer as unknown as new (...a: unknown[]) => unknown)(8, 2, 16, 0.1), /options must be an object.*positional/],
  ['TransformerEncoderLayer dimFeedforward true', () => new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: true } as never), /dimFeedforward must be a positive integer/],
  ['TransformerEncoderLayer dropout 1.5', () => new nn.TransformerEncoderLayer(8, 2, { dropout: 1.5 }), /dropout must be a number in \[0, 1\)/],
  ['TransformerEncoderLayer normFirst "yes"', () => new nn.TransformerEncoderLayer(8, 2, { normFirst: 'yes' } as never), /normFirst must be true or false/],
  ['TransformerDecoderLayer norm_first', () => new nn.TransformerDecoderLayer(8, 2, { norm_first: true } as never), /TransformerDecoderLayer: unknown option "norm_first"/],
  ['Transformer num_encoder_layers', () => new nn.Transformer(8, 2, { num_encoder_layers: 1 } as never), /spells it numEncoderLayers/],
  ['Transformer custom_encoder', () => new nn.Transformer(8, 2, { custom_encoder: {} } as never), /custom_encoder.*not supported/],
  ['MultiheadAttention batch_first', () => new nn.MultiheadAttention(8, 2, { batch_first: true } as never), /MultiheadAttention: unknown option "batch_first"/],
  ['MultiheadAttention add_bias_kv', () => new nn.MultiheadAttention(8, 2, { add_bias_kv: true } as never), /add_bias_kv.*not supported/],
  ['MultiheadAttention positional dropout', () => new (nn.MultiheadAttention as unknown as new (...a: unknown[]) => unknown)(8, 2, 0.1), /MultiheadAttention: options must be an object/],
  ['SelfAttention typo', () => new nn.SelfAttention(4, { relevence: 'dot' } as never), /SelfAttention: unknown option "relevence"/],
  ['Linear positional bias', () => new (nn.Linear as unknown as new (...a: unknown[]) => unknown)(3, 4, false), /Linear: options must be an object.*positional/],
  ['Linear device', () => new nn.Linear(3, 4, { device: 'cuda' } as never), /"device" \(qkv has one device/],
  ['Embedding padding_idx', () => new nn.Embedding(5, 4, { padding_idx: 0 } as never), /spells it paddingIdx/],
  ['LayerNorm elementwise_affine', () => new nn.LayerNorm(4, { elementwise_affine: false } as never), /spells it elementwiseAffine/],
  ['LayerNorm positional eps', () => new (nn.LayerNorm as unknown as new (...a: unknown[]) => unknown)(4, 1e-6), /LayerNorm: options must be an object/],
  ['Conv1d padding_mode', () => new nn.Conv1d(2, 2, 3, { padding_mode: 'zeros' } as never), /Conv1d: unknown option "padding_mode"/],
  ['GRU num_layers', () => new nn.GRU(2, 3, { num_layers: 2 } as never), /GRU: unknown option "num_layers" \(qkv spells it numLayers\)/],
  ['LSTM batch_first', () => new nn.LSTM(2, 3, { batch_first: true } as never), /LSTM: unknown option "batch_first"/],
  ['FCEncoder hidden_size', () => new nn.FCEncoder({ inDim: 2, hidden: 4, hidden_size: 4 } as never), /FCEncoder: unknown option "hidden_size"/],
  ['CNNEncoder kernel_size', () => new nn.CNNEncoder({ inDim: 2, hidden: 4, kernel_size: 3 } as never), /spells it kernelSize/],
  ['RNNEncoder num_layers', () => new nn.RNNEncoder({ inDim: 2, hidden: 4, num_layers: 2 } as never), /RNNEncoder: unknown option "num_layers"/],
  ['AttentionEncoder norm_first', () => new nn.AttentionEncoder({ inDim: 4, dModel: 8, nhead: 2, norm_first: false } as never), /AttentionEncoder: unknown option "norm_first"/],
  ['AttentionEncoder rope with an odd head width', () => new nn.AttentionEncoder({ inDim: 4, dModel: 9, nhead: 3, pos: 'rope' }), /AttentionEncoder: pos 'rope'.*must be even/],
  ['GPT snake_case config', () => new nn.GPT({ vocab_size: 5, blockSize: 4, nLayer: 1, nHead: 1, nEmbd: 4 } as never), /GPT: unknown option "vocab_size" \(qkv spells it vocabSize\)/],
  ['AdamW weight_decay', () => new q.AdamW([], { weight_decay: 0.1 } as never), /AdamW: unknown option "weight_decay" \(qkv spells it weightDecay\)/],
  ['Adam amsgrad', () => new q.Adam([], { amsgrad: true } as never), /Adam: unknown option "amsgrad"/],
  ['SGD nestrov typo', () => new q.SGD([], { lr: 0.1, nestrov: true } as never), /SGD: unknown option "nestrov"/],
  ['Trainer max_steps', () => new q.Trainer(new nn.Linear(2, 2), {} as never, { maxSteps: 1, max_steps: 5 } as never), /Trainer: unknown option "max_steps" \(qkv spells it maxSteps\)/],
  ['gptConfigFromNanoGPT unknown key', () => nn.gptConfigFromNanoGPT({ n_layer: 1, n_head: 1, n_embd: 4, block_size: 4, vocab_size: 5, n_kv_head: 1 } as never), /unknown option "n_kv_head"/],
  ['gptConfigFromNanoGPT missing key', () => nn.gptConfigFromNanoGPT({ n_layer: 1, n_head: 1, n_embd: 4, block_size: 4 } as never), /no "vocab_size"/],
  ['loadStateDict with many missing keys is summarised', () => new nn.GPT({ vocabSize: 5, blockSize: 4, nLayer: 3, nHead: 1, nEmbd: 4 }).loadStateDict(new Map()), /missing keys \(\d+\): .*and \d+ more/],
  ['loadStateDict with many unexpected keys is summarised', () => new nn.Linear(2, 2).loadStateDict(new Map([
    ['weight', q.zeros([2, 2])], ['bias', q.zeros([2])], ...Array.from({ length: 40 }, (_, i) => [`extra.${i}.weight`, q.zeros([1])] as [string, q.Tensor])])), /unexpected keys \(40\): .*and 37 more/],
  ['batching an edge outside its graph', () => {
    const train = [{ frames: [[1, 0], [0, 1]], edges: [[0, 1]] as [number, number][], labels: ['a', 'b'] }];
    const m = tagDriver.create(train, { model: { kind: 'transformer', dModel: 8, layers: 1, heads: 2 }, generator: new Generator(1) });
    return tagDriver.predict(m, [{ frames: [[1, 0], [0, 1]], edges: [[0, 2]] }, { frames: [[1, 0], [0, 1], [1, 1]], edges: [] }]);
  }, /example 0: edge 0 \[0,2\] is not a pair of node indices in 0\.\.1/],
  ['batching a negative edge', () => {
    const train = [{ frames: [[1, 0]], labels: ['a'] }];
    const m = tagDriver.create(train, { model: { kind: 'fc', dModel: 4, layers: 1 }, generator: new Generator(1) });
    return tagDriver.predict(m, [{ frames: [[1, 0]], edges: [[-1, 0]] }]);
  }, /edge 0 \[-1,0\]/],
  ['batching a frame of strings', () => {
    const m = tagDriver.create([{ frames: [[1, 0]], labels: ['a'] }], { model: { kind: 'fc', dModel: 4, layers: 1 }, generator: new Generator(1) });
    return tagDriver.predict(m, [{ frames: [['x', 0]] as never }]);
  }, /frame 0 has a value that is not a finite number/],
  ['batching an empty example', () => {
    const m = tagDriver.create([{ frames: [[1, 0]], labels: ['a'] }], { model: { kind: 'fc', dModel: 4, layers: 1 }, generator: new Generator(1) });
    return tagDriver.predict(m, [{ frames: [] }]);
  }, /example 0: the example is empty/],
  ['predict inputs with a ragged frame', () => data.readInputsJsonl('{"frames": [[1, 2], [3]]}\n', 'in.jsonl'), /^in\.jsonl:1: frame 1 has 1 values/],
  ['predict inputs of another width', () => data.readInputsJsonl('{"frames": [[1, 2]]}\n', 'in.jsonl', { dim: 3 }), /^in\.jsonl:1: frames have 2 values each, but the model reads 3/],
];

for (const [name, fn, says] of bad) {
  test(`library: ${name}`, () => {
    assert.throws(fn, (e: unknown) => {
      assert.ok(e instanceof QkvError, `a QkvError, got ${(e as Error)?.stack}`);
      assert.ok(!e.message.includes('\n') && e.message.length <= 300, `one line of at most 300 characters: ${e.message}`);
      assert.match(e.message, says);
      return true;
    });
  });
}

test('the library catalogue has 40+ cases', () => assert.ok(bad.length >= 40, `${bad.length}`));

test('the spellings the errors suggest work', () => {
  const layer = new nn.TransformerEncoderLayer(8, 2, { normFirst: true, dimFeedforward: 16, layerNormEps: 1e-6 });
  assert.equal(layer.normFirst, true);
  assert.ok(new nn.GPT(nn.gptConfigFromNanoGPT({ n_layer: 1, n_head: 2, n_embd: 8, block_size: 4, vocab_size: 5, bias: false, dropout: 0 })));
});

test('a GPT state dict with the tied weight stored under one name loads (either name)', () => {
  const a = new nn.GPT({ vocabSize: 5, blockSize: 4, nLayer: 1, nHead: 1, nEmbd: 4, generator: new Generator(1) });
  for (const drop of ['lm_head.weight', 'transformer.wte.weight']) {
    const sd = new Map(a.stateDict());
    sd.delete(drop);
    const b = new nn.GPT({ vocabSize: 5, blockSize: 4, nLayer: 1, nHead: 1, nEmbd: 4, generator: new Generator(2) });
    b.loadStateDict(sd);
    assert.deepEqual(Array.from(b.lm_head.weight.toTypedArray()), Array.from(a.transformer.wte.weight.toTypedArray()), `loaded without ${drop}`);
    assert.equal(b.lm_head.weight, b.transformer.wte.weight, 'still tied');
  }
});

test('gelu, and every op, backpropagates through a contiguous view at an offset', () => {
  const x = q.randn([2, 3], { requiresGrad: true, generator: new Generator(3) });
  q.gelu(q.select(x, 0, 1)).sum().backward();
  const g = x.grad!.toArray() as number[][];
  assert.deepEqual(g[0], [0, 0, 0]);
  assert.ok(g[1]!.every((v) => v !== 0));
});
