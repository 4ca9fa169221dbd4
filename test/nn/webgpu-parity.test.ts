// Golden parity with PyTorch on the WebGPU backend: nanoGPT's Block and GPT cases of
// test/fixtures/golden-attention.json (scripts/golden.py) built on webgpu, PyTorch's state dict
// loaded there, forward and backward on the GPU (SwiftShader where there is none), the outputs
// and every gradient read back (asynchronously) and compared with PyTorch's within the same
// tolerance as the host backends (attention-parity.test.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nn, tensor, type Module, type Tensor } from '../../src/index.js';
import { expectGolden, readFixture } from '../fixtures.js';
import { onWebGpu, webgpuSkip } from '../webgpu-setup.js';

interface Encoded { shape: number[]; values: number[] }
interface Case {
  name: string;
  module: string;
  config: nn.GPTConfig;
  state: Record<string, Encoded>;
  inputs: (Encoded & { name: string; dtype: 'float32' | 'int32' })[];
  objective: string | null;
  upstream: Record<string, Encoded>;
  outputs: Record<string, Encoded>;
  inputGrads: Record<string, Encoded>;
  paramGrads: Record<string, Encoded>;
}

const ATOL = 1e-5;
const RTOL = 1e-5;
const cases = readFixture<{ cases: Case[] }>('golden-attention.json').cases.filter((c) => c.module === 'GPT' || c.module === 'GPTBlock');

/** A read-back tensor in the shape expectGolden takes. */
async function host(t: Tensor | null | undefined): Promise<{ shape: readonly number[]; toTypedArray(): ArrayLike<number> } | null> {
  if (!t) return null;
  assert.equal(t.backend.name, 'webgpu', 'computed on the GPU');
  const values = await t.data();
  return { shape: t.shape, toTypedArray: () => values };
}

test('the GPT golden cases are there', { skip: webgpuSkip }, () => assert.equal(cases.length, 3));

for (const c of cases) {
  test(`webgpu parity: ${c.name}`, { skip: webgpuSkip }, () => onWebGpu(async () => {
    let model: Module;
    let run: (x: Record<string, Tensor>) => Record<string, Tensor | null>;
    if (c.module === 'GPT') {
      const m = new nn.GPT(c.config);
      model = m;
      run = (x) => { const r = m.forward(x.idx!, { targets: x.targets }); return { logits: r.logits, loss: r.loss }; };
    } else {
      const block = new nn.GPT({ ...c.config, nLayer: 1 }).transformer.h.items[0]!;
      model = block;
      run = (x) => ({ output: block.forward(x.x!, null) });
    }
    model.eval();
    const state = new Map(Object.entries(c.state).filter(([n]) => c.module === 'GPT' || !/(^|\.)attn\.bias$/.test(n))
      .map(([n, e]) => [n, tensor(Float32Array.from(e.values), { shape: e.shape })] as [string, Tensor]));
    model.loadStateDict(state, { strict: true });
    const own = model.stateDict();
    for (const [, p] of own) assert.equal(p.backend.name, 'webgpu');

    const inputs: Record<string, Tensor> = {};
    for (const inp of c.inputs) {
      inputs[inp.name] = inp.dtype === 'int32' ? tensor(Int32Array.from(inp.values), { shape: inp.shape })
        : tensor(Float32Array.from(inp.values), { shape: inp.shape, requiresGrad: true });
    }
    const out = run(inputs);
    for (const [name, expected] of Object.entries(c.outputs)) expectGolden(c.name, `output "${name}"`, await host(out[name]), expected, ATOL, RTOL);
    if (c.objective) out[c.objective]!.backward();
    else out.output!.backward(tensor(Float32Array.from(c.upstream.output!.values), { shape: c.upstream.output!.shape }));
    for (const [name, expected] of Object.entries(c.inputGrads)) expectGolden(c.name, `gradient of input "${name}"`, await host(inputs[name]!.grad), expected, ATOL, RTOL);
    for (const [name, expected] of Object.entries(c.paramGrads)) {
      expectGolden(c.name, `gradient of parameter "${name}"`, await host(own.get(name)?.grad), expected, ATOL, RTOL);
    }
    model.dispose();
    for (const t of [...state.values(), ...Object.values(inputs)]) t.dispose();
  }));
}
