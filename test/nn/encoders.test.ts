// The SequenceEncoder interface: the self-attention encoder and the baselines take the same
// input and give the same output shape, so an experiment can swap one for the other.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as q from '../../src/index.js';
import { Generator, nn, noGrad, type Tensor } from '../../src/index.js';
import { assertClose, gradcheck, leaf, values } from '../helpers.js';

const g = () => new Generator(5);
const make = (): [string, nn.SequenceEncoder][] => [
  ['fc', new nn.FCEncoder({ inDim: 6, hidden: 8, generator: g() })],
  ['cnn', new nn.CNNEncoder({ inDim: 6, hidden: 8, generator: g() })],
  ['rnn', new nn.RNNEncoder({ inDim: 6, hidden: 4, bidirectional: true, generator: g() })],
  ['attention', new nn.AttentionEncoder({ inDim: 6, dModel: 8, nhead: 2, layers: 2, dropout: 0, generator: g() })],
  ['linear attention', new nn.AttentionEncoder({ inDim: 6, dModel: 8, nhead: 2, attention: 'linear', dropout: 0, generator: g() })],
  ['attention+rope', new nn.AttentionEncoder({ inDim: 6, dModel: 8, nhead: 2, pos: 'rope', dropout: 0, generator: g() })],
];

test('every encoder maps (B, T, inDim) to (B, T, outDim) and ignores what sits at padded positions', () => {
  const x = q.randn([2, 5, 6], { generator: g() });
  const pad = nn.paddingMask([5, 3]);
  const noisy = q.where(q.unsqueeze(pad, -1), 100, x); // garbage where the padding is
  for (const [name, enc] of make()) {
    enc.eval();
    noGrad(() => {
      const y = enc.forward(x, { keyPaddingMask: pad });
      assert.deepEqual(y.shape, [2, 5, enc.outDim], name);
      const y2 = enc.forward(noisy, { keyPaddingMask: pad });
      assertClose(values(y.select(1, 0).slice(0, 0, 3)), values(y2.select(1, 0).slice(0, 0, 3)), `${name}: real positions`, 1e-5, 1e-4);
    });
  }
});

test('graph attention: one layer lets a node see its neighbours only', () => {
  const enc = new nn.AttentionEncoder({ inDim: 4, dModel: 8, nhead: 2, layers: 1, pos: 'none', dropout: 0, generator: g() });
  const mask = nn.graphMask(4, [[0, 1], [2, 3]]);
  const x = q.randn([1, 4, 4], { generator: g() });
  const changed = q.concat([x.slice(1, 0, 3), q.ones([1, 1, 4])], 1); // node 3 changes
  noGrad(() => {
    const a = enc.forward(x, { attnMask: mask }).toArray() as number[][][];
    const b = enc.forward(changed, { attnMask: mask }).toArray() as number[][][];
    assertClose(a[0]![0]!.concat(a[0]![1]!), b[0]![0]!.concat(b[0]![1]!), 'nodes 0, 1 do not see node 3');
    assert.notDeepEqual(a[0]![2], b[0]![2], 'node 2 is its neighbour');
    // a (B, T, T) mask: one adjacency per graph in the batch
    const batchMask = q.stack([mask, nn.graphMask(4, [[0, 3]])]);
    assert.deepEqual(enc.forward(q.concat([x, x]), { attnMask: batchMask }).shape, [2, 4, 8]);
  });
});

test('truncated attention: with window w and L layers, position i sees only |i - j| <= w·L', () => {
  const enc = new nn.AttentionEncoder({ inDim: 3, dModel: 4, nhead: 1, layers: 1, window: 1, dropout: 0, generator: g() });
  const x = q.randn([1, 6, 3], { generator: g() });
  const x2 = q.concat([q.ones([1, 1, 3]), x.slice(1, 1)], 1); // change position 0
  noGrad(() => {
    const a = enc.forward(x).toArray() as number[][][];
    const b = enc.forward(x2).toArray() as number[][][];
    assert.notDeepEqual(a[0]![1], b[0]![1]);
    assertClose(a[0]![2]!.concat(a[0]![5]!), b[0]![2]!.concat(b[0]![5]!), 'positions 2.. do not see 0');
  });
  assert.throws(() => new nn.AttentionEncoder({ inDim: 3, attention: 'linear', window: 2 }), /linear attention cannot be truncated/);
});

test('AttentionEncoder gradients match finite differences', () => {
  const enc = new nn.AttentionEncoder({ inDim: 3, dModel: 4, nhead: 2, layers: 1, pos: 'learned', dropout: 0, generator: g() });
  const posWeight = (enc.pos as nn.LearnedPositionalEncoding).weight;
  gradcheck('AttentionEncoder', (x) => enc.forward(x, { keyPaddingMask: nn.paddingMask([3, 2]) }), [leaf([2, 3, 3], 1), enc.input!.weight, posWeight as Tensor],
    { atol: 3e-3, rtol: 2e-2 });
  assert.throws(() => enc.forward(q.zeros([1, 3, 5])), /AttentionEncoder: input of shape \[1, 3, 5\] must be \(B, T, 3\)/);
});
