// The models on the fused FlashAttention path: same values and gradients as the naive path
// (enableFlashAttention(false)), the fused path taken exactly where it is exact, and KV-cache
// decoding still equal to the full pass; on every backend.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import * as q from '../../src/index.js';
import { Generator, nn, noGrad, tidy, type Tensor } from '../../src/index.js';
import { assertClose, forEachBackend, values } from '../helpers.js';

after(() => nn.enableFlashAttention(true));

/** The op names of the autograd graph behind t. */
/** The ops of t's graph; flashAttentionPacked (self-attention's fused kernel on the packed projection) counts as flashAttention too. */
function graphOps(t: Tensor): Set<string> {
  const ops = new Set<string>();
  const seen = new Set<unknown>();
  const stack = t.gradFn ? [t.gradFn] : [];
  while (stack.length) {
    const node = stack.pop()!;
    if (seen.has(node)) continue;
    seen.add(node);
    ops.add(node.op);
    if (node.op === 'flashAttentionPacked') ops.add('flashAttention');
    for (const e of node.edges) if (e?.node) stack.push(e.node);
  }
  return ops;
}

/** Runs f with the fused path on, then off; returns both results (numbers) and the graphs' op sets. */
function bothPaths<T>(f: () => { result: T; ops: Set<string> }): { fused: T; naive: T; fusedOps: Set<string>; naiveOps: Set<string> } {
  nn.enableFlashAttention(true);
  const a = f();
  nn.enableFlashAttention(false);
  try {
    const b = f();
    return { fused: a.result, naive: b.result, fusedOps: a.ops, naiveOps: b.ops };
  } finally {
    nn.enableFlashAttention(true);
  }
}

forEachBackend('models on the fused attention path', () => {
  test('GPT: logits, loss and every parameter gradient equal the naive path', () => {
    const gpt = new nn.GPT({ vocabSize: 11, blockSize: 40, nLayer: 2, nHead: 2, nEmbd: 16, generator: new Generator(1) });
    const idx = q.randint(0, 11, [2, 37], { generator: new Generator(2) });
    const targets = q.randint(0, 11, [2, 37], { generator: new Generator(3) });
    const { fused, naive, fusedOps, naiveOps } = bothPaths(() => tidy(() => {
      gpt.zeroGrad();
      const { logits, loss } = gpt.forward(idx, { targets });
      const ops = graphOps(loss!);
      loss!.backward();
      const grads = gpt.parameters().map((p) => values(p.grad!));
      gpt.zeroGrad();
      return { result: { logits: values(logits), loss: loss!.item(), grads }, ops };
    }));
    assert.ok(fusedOps.has('flashAttention') && !fusedOps.has('softmax'), 'the fused path is taken');
    assert.ok(!naiveOps.has('flashAttention') && naiveOps.has('softmax'), 'the switch forces the naive path');
    assertClose(fused.logits, naive.logits, 'logits', 1e-5, 1e-5);
    assertClose([fused.loss], [naive.loss], 'loss', 1e-6, 1e-6);
    let worst = 0;
    fused.grads.forEach((g, i) => {
      assertClose(g, naive.grads[i]!, `grad of parameter ${i}`, 1e-5, 1e-4);
      g.forEach((x, j) => { worst = Math.max(worst, Math.abs(x - naive.grads[i]![j]!)); });
    });
    console.log(`GPT fused vs naive: max |logits diff| ${Math.max(...fused.logits.map((x, i) => Math.abs(x - naive.logits[i]!))).toExponential(1)}, ` +
      `max |grad diff| ${worst.toExponential(1)}`);
  });

  test('GPT: cached decoding on the fused path equals the full pass', () => noGrad(() => tidy(() => {
    const gpt = new nn.GPT({ vocabSize: 9, blockSize: 40, nLayer: 2, nHead: 2, nEmbd: 8, generator: new Generator(4) });
    const idx = q.randint(0, 9, [2, 35], { generator: new Generator(5) });
    const full = gpt.forward(idx).logits;
    const caches = gpt.makeCaches(2);
    const parts: Tensor[] = [gpt.forward(idx.slice(1, 0, 20), { caches }).logits]; // a prompt, then one token at a time
    for (let t = 20; t < 35; t++) parts.push(gpt.forward(idx.slice(1, t, t + 1), { caches }).logits);
    assertClose(values(q.concat(parts, 1)), values(full), 'cached vs full', 1e-5, 1e-5);
    for (const c of caches) c.dispose();
  })));

  test('GPT with attention dropout in training runs fused and equals the naive path drawing the same masks; relu attention stays naive', () => {
    const idx = q.randint(0, 7, [2, 30], { generator: new Generator(6) });
    const dropped = new nn.GPT({ vocabSize: 7, blockSize: 32, nLayer: 2, nHead: 2, nEmbd: 8, dropout: 0.3, generator: new Generator(7) });
    const { fused, naive, fusedOps, naiveOps } = bothPaths(() => tidy(() => {
      q.manualSeed(99); // every dropout (embeddings, attention, residuals) draws its key from the default generator, in the same order on both paths
      dropped.zeroGrad();
      const { loss } = dropped.forward(idx, { targets: idx });
      const ops = graphOps(loss!);
      loss!.backward();
      const grads = dropped.parameters().map((p) => values(p.grad!));
      dropped.zeroGrad();
      return { result: { loss: loss!.item(), grads }, ops };
    }));
    assert.ok(fusedOps.has('flashAttention') && !fusedOps.has('softmax'), 'dropout in training: fused');
    assert.ok(naiveOps.has('softmax') && naiveOps.has('dropout'), 'the switch: naive, with dropout on the weights');
    assertClose([fused.loss], [naive.loss], 'loss', 1e-6, 1e-6);
    fused.grads.forEach((g, i) => assertClose(g, naive.grads[i]!, `gradient ${i}`, 1e-5, 1e-4));
    tidy(() => {
      dropped.eval();
      assert.ok(graphOps(dropped.forward(idx, { targets: idx }).loss!).has('flashAttention'), 'no dropout in eval: fused');
      dropped.train();
    });
    tidy(() => {
      const relu = new nn.GPT({ vocabSize: 7, blockSize: 32, nLayer: 1, nHead: 2, nEmbd: 8, attention: 'relu', generator: new Generator(8) });
      const reluOps = graphOps(relu.forward(idx, { targets: idx }).loss!);
      assert.ok(reluOps.has('relu') && !reluOps.has('flashAttention'), 'relu: naive');
    });
  });

  test('MultiheadAttention: fused without weights, naive with them or with an attnMask; same outputs and gradients', () => {
    const mha = new nn.MultiheadAttention(8, 2, { generator: new Generator(9) });
    const x = q.randn([2, 19, 8], { generator: new Generator(10) }).requiresGrad_();
    const keyPaddingMask = nn.paddingMask([19, 11]);
    const run = (needWeights: boolean, window: number | null) => tidy(() => {
      x.zeroGrad();
      const { output, weights } = mha.forward(x, x, x, { isCausal: true, window, keyPaddingMask, needWeights });
      const ops = graphOps(output);
      output.sum().backward();
      const r = { out: values(output), dx: values(x.grad!), weights: weights !== null, fused: ops.has('flashAttention') };
      x.zeroGrad();
      return r;
    });
    for (const window of [null, 3]) {
      const fused = run(false, window);
      const naive = run(true, window);
      assert.ok(fused.fused && !fused.weights, 'needWeights: false runs fused');
      assert.ok(!naive.fused && naive.weights, 'needWeights: true runs naive and returns weights');
      assertClose(fused.out, naive.out, `output (window ${window})`, 1e-6, 1e-5);
      assertClose(fused.dx, naive.dx, `dx (window ${window})`, 1e-6, 1e-5);
    }
    const withMask = tidy(() => graphOps(mha.forward(x, x, x, { attnMask: nn.graphMask(19, [[0, 1]]), needWeights: false }).output));
    assert.ok(!withMask.has('flashAttention'), 'an attnMask keeps the naive path');
    const floatPad = tidy(() => graphOps(mha.forward(x, x, x, { keyPaddingMask: q.zeros([2, 19]), needWeights: false }).output));
    assert.ok(!floatPad.has('flashAttention'), 'a float key padding mask keeps the naive path');
    x.zeroGrad();
  });

  test('MultiheadAttention: self-attention reads q, k, v from one packed copy of the projection; cross-attention from three', () => {
    const mha = new nn.MultiheadAttention(8, 2, { generator: new Generator(13) });
    const x = q.randn([2, 7, 8], { generator: new Generator(14) });
    const y = q.randn([2, 5, 8], { generator: new Generator(15) });
    tidy(() => {
      const self = graphOps(mha.forward(x.requiresGrad_(), x, x, { needWeights: false }).output);
      assert.ok(self.has('flashAttentionPacked'), 'self-attention: packed');
      const cross = graphOps(mha.forward(x, y, y, { needWeights: false }).output);
      assert.ok(cross.has('flashAttention') && !cross.has('flashAttentionPacked'), 'cross-attention: q, k, v apart');
    });
  });

  test('encoder stacks: the windowed AttentionEncoder and the Transformer agree on both paths', () => {
    const enc = new nn.AttentionEncoder({ inDim: 6, dModel: 8, nhead: 2, layers: 2, window: 2, dropout: 0, generator: new Generator(11) });
    const x = q.randn([2, 23, 6], { generator: new Generator(12) });
    const keyPaddingMask = nn.paddingMask([23, 15]);
    const { fused, naive, fusedOps } = bothPaths(() => tidy(() => {
      const out = enc.forward(x.requiresGrad_(), { keyPaddingMask });
      return { result: values(out), ops: graphOps(out) };
    }));
    assert.ok(fusedOps.has('flashAttention'));
    assertClose(fused, naive, 'AttentionEncoder with a window', 1e-5, 1e-5);
    // inspect() wants the weights: naive path, the same output, weights zero outside the window
    tidy(() => {
      const r = enc.inspect(x, { keyPaddingMask });
      assertClose(values(r.output), fused, 'inspect', 1e-5, 1e-5);
      const w = r.weights[0]!.toArray() as number[][][][];
      assert.equal(w[0]![0]![5]![0], 0, 'outside the window');
      assert.ok(w[0]![0]![5]![4]! > 0, 'inside the window');
    });
    x.requiresGrad_(false);
    const model = new nn.Transformer(8, 2, { numEncoderLayers: 1, numDecoderLayers: 1, dimFeedforward: 16, dropout: 0, generator: new Generator(13) });
    const src = q.randn([2, 9, 8], { generator: new Generator(14) });
    const tgt = q.randn([2, 7, 8], { generator: new Generator(15) });
    const both = bothPaths(() => tidy(() => {
      const out = model.forward(src, tgt, { tgtIsCausal: true, srcKeyPaddingMask: nn.paddingMask([9, 4]), memoryKeyPaddingMask: nn.paddingMask([9, 4]) });
      return { result: values(out), ops: graphOps(out) };
    }));
    assertClose(both.fused, both.naive, 'Transformer', 1e-5, 1e-5);
  });
});
