// Golden parity with PyTorch for the attention modules: every case in
// test/fixtures/golden-attention.json (made by scripts/golden.py, `npm run golden`) builds the qkv
// module with the case's config, loads PyTorch's state dict (strict), runs forward in eval mode
// with dropout 0, backpropagates the stored upstream gradient (or the loss), and compares the
// outputs, the gradient of every float input and the gradient of every parameter with PyTorch's
// (a float64 reference on the same float32 weights and inputs; no fused fast paths).
//   torch.nn.MultiheadAttention(batch_first=True)   -> nn.MultiheadAttention
//   torch.nn.TransformerEncoderLayer / DecoderLayer -> nn.TransformerEncoderLayer / DecoderLayer
//   torch.nn.Transformer                            -> nn.Transformer
//   nanoGPT's Block and GPT (model.py)              -> a block of nn.GPT, nn.GPT
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { add, mul, nn, sum, tensor, type Module, type Tensor } from '../../src/index.js';
import { expectGolden, readFixture } from '../fixtures.js';

interface Encoded { shape: number[]; values: number[] }
interface Input extends Encoded { name: string; kind: 'float' | 'mask' | 'ids'; dtype: 'float32' | 'int32' }
interface Case {
  name: string;
  module: 'MultiheadAttention' | 'TransformerEncoderLayer' | 'TransformerDecoderLayer' | 'Transformer' | 'GPTBlock' | 'GPT';
  config: Record<string, any>;
  call: { needWeights?: boolean; averageAttnWeights?: boolean };
  state: Record<string, Encoded>;
  inputs: Input[];
  /** The scalar output that is backpropagated (GPT's loss); otherwise sum(output * upstream) over outputs. */
  objective: string | null;
  upstream: Record<string, Encoded>;
  outputs: Record<string, Encoded>;
  inputGrads: Record<string, Encoded>;
  paramGrads: Record<string, Encoded>;
}


const fixture = readFixture<{ cases: Case[] }>('golden-attention.json');

// |actual - expected| <= ATOL + RTOL * |expected|
const ATOL = 1e-5;
const RTOL = 1e-5;
// Cases that need more because of float32 accumulation: name -> [atol, rtol]. None so far.
const LOOSER: Record<string, [number, number]> = {};

const toTensor = (e: Encoded, requiresGrad = false) => tensor(Float32Array.from(e.values), { shape: e.shape, requiresGrad });

/** The qkv module for a case, in eval mode (dropout is 0 in every config anyway). */
function build(c: Case): { model: Module; run: (x: Record<string, Tensor>) => Record<string, Tensor | null> } {
  const k = c.config;
  const layer = { dimFeedforward: k.dimFeedforward, dropout: k.dropout, activation: k.activation, layerNormEps: k.layerNormEps, normFirst: k.normFirst };
  switch (c.module) {
    case 'MultiheadAttention': {
      const m = new nn.MultiheadAttention(k.embedDim, k.numHeads, { dropout: k.dropout, bias: k.bias ?? true, kdim: k.kdim, vdim: k.vdim });
      return {
        model: m,
        run: (x) => {
          const opts = { attnMask: x.attnMask, keyPaddingMask: x.keyPaddingMask, needWeights: c.call.needWeights, averageAttnWeights: c.call.averageAttnWeights };
          // self-attention passes one tensor three times (PyTorch's query is key is value)
          const r = x.x ? m.forward(x.x, x.x, x.x, opts) : m.forward(x.query!, x.key!, x.value!, opts);
          return { output: r.output, weights: r.weights };
        },
      };
    }
    case 'TransformerEncoderLayer': {
      const m = new nn.TransformerEncoderLayer(k.dModel, k.nhead, layer);
      return { model: m, run: (x) => ({ output: m.forward(x.src!, { srcMask: x.srcMask, srcKeyPaddingMask: x.srcKeyPaddingMask }) }) };
    }
    case 'TransformerDecoderLayer': {
      const m = new nn.TransformerDecoderLayer(k.dModel, k.nhead, layer);
      return {
        model: m,
        run: (x) => ({
          output: m.forward(x.tgt!, x.memory!, {
            tgtMask: x.tgtMask, memoryMask: x.memoryMask, tgtKeyPaddingMask: x.tgtKeyPaddingMask, memoryKeyPaddingMask: x.memoryKeyPaddingMask,
          }),
        }),
      };
    }
    case 'Transformer': {
      const m = new nn.Transformer(k.dModel, k.nhead, { ...layer, numEncoderLayers: k.numEncoderLayers, numDecoderLayers: k.numDecoderLayers });
      return {
        model: m,
        run: (x) => ({
          output: m.forward(x.src!, x.tgt!, {
            srcMask: x.srcMask, tgtMask: x.tgtMask, memoryMask: x.memoryMask, srcKeyPaddingMask: x.srcKeyPaddingMask,
            tgtKeyPaddingMask: x.tgtKeyPaddingMask, memoryKeyPaddingMask: x.memoryKeyPaddingMask,
          }),
        }),
      };
    }
    case 'GPTBlock': {
      // nanoGPT's Block on its own: the first block of a one-layer GPT (its other modules are unused)
      const block = new nn.GPT({ ...(k as nn.GPTConfig), nLayer: 1 }).transformer.h.items[0]!;
      return { model: block, run: (x) => ({ output: block.forward(x.x!, null) }) };
    }
    case 'GPT': {
      const m = new nn.GPT(k as nn.GPTConfig);
      return { model: m, run: (x) => { const r = m.forward(x.idx!, { targets: x.targets }); return { logits: r.logits, loss: r.loss }; } };
    }
  }
}

function expectClose(c: Case, what: string, actual: Tensor | null | undefined, expected: Encoded): void {
  const [atol, rtol] = LOOSER[c.name] ?? [ATOL, RTOL];
  expectGolden(c.name, what, actual, expected, atol, rtol);
}

test('attention golden fixture loads and covers every module', () => {
  assert.ok(fixture.cases.length >= 19);
  const kinds = new Set(fixture.cases.map((c) => c.module));
  for (const k of ['MultiheadAttention', 'TransformerEncoderLayer', 'TransformerDecoderLayer', 'Transformer', 'GPTBlock', 'GPT']) {
    assert.ok(kinds.has(k as Case['module']), `no case for ${k}`);
  }
});

for (const c of fixture.cases) {
  test(`attention parity: ${c.name}`, () => {
    const { model, run } = build(c);
    model.eval();

    // PyTorch's state dict, loaded strictly. nanoGPT's causal-mask buffers (".attn.bias") are in it:
    // GPT.loadStateDict drops them itself; a lone block is a plain Module, so they are dropped here.
    const state = new Map(Object.entries(c.state).map(([n, e]) => [n, toTensor(e)] as [string, Tensor]));
    if (c.module === 'GPT' || c.module === 'GPTBlock') {
      assert.ok([...state.keys()].some((n) => /(^|\.)attn\.bias$/.test(n)), `${c.name}: the fixture should hold nanoGPT's attn.bias buffers`);
    }
    if (c.module === 'GPTBlock') state.delete('attn.bias');
    model.loadStateDict(state, { strict: true });
    const own = model.stateDict();
    for (const [n, e] of Object.entries(c.state)) {
      if (/(^|\.)attn\.bias$/.test(n)) continue;
      assert.deepEqual(Array.from(own.get(n)!.toTypedArray()), e.values, `${c.name}: parameter ${n} did not load exactly`);
    }
    // the parameter names are PyTorch's, in PyTorch's order
    assert.deepEqual([...own.keys()], Object.keys(c.state).filter((n) => !/(^|\.)attn\.bias$/.test(n)), `${c.name}: state dict keys or order differ from PyTorch`);

    const inputs: Record<string, Tensor> = {};
    for (const inp of c.inputs) {
      inputs[inp.name] = inp.dtype === 'int32'
        ? tensor(Int32Array.from(inp.values), { shape: inp.shape })
        : toTensor(inp, true); // float inputs (additive masks too) get gradients
    }

    const out = run(inputs);
    for (const [name, expected] of Object.entries(c.outputs)) expectClose(c, `output "${name}"`, out[name], expected);
    if (c.call.needWeights === false) assert.equal(out.weights, null, `${c.name}: needWeights false should return no weights`);

    if (c.objective) {
      out[c.objective]!.backward();
    } else {
      const names = Object.keys(c.upstream);
      if (names.length === 1) {
        out[names[0]!]!.backward(toTensor(c.upstream[names[0]!]!));
      } else {
        // several outputs (output and attention weights): d(sum_k sum(out_k * u_k))
        const terms = names.map((n) => sum(mul(out[n]!, toTensor(c.upstream[n]!))));
        terms.reduce((a, b) => add(a, b)).backward();
      }
    }

    for (const [name, expected] of Object.entries(c.inputGrads)) expectClose(c, `gradient of input "${name}"`, inputs[name]!.grad, expected);
    for (const [name, expected] of Object.entries(c.paramGrads)) {
      // a tied weight (GPT's transformer.wte.weight = lm_head.weight) is one tensor: its gradient is the sum of both uses
      expectClose(c, `gradient of parameter "${name}"`, own.get(name)?.grad, expected);
    }
    // every parameter of the qkv module was compared
    assert.deepEqual(model.namedParameters().map(([n]) => n).sort(), Object.keys(c.paramGrads).sort(), `${c.name}: parameters differ from PyTorch's`);

    model.dispose();
  });
}
