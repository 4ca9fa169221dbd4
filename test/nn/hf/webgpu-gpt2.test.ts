// GPT2LMHeadModel from a save_pretrained directory on the webgpu backend (SwiftShader where there
// is no GPU): the weights load into GPU buffers, and the logits, every hidden state and attention
// map are within 1e-4 of transformers (golden values of scripts/golden_hf.py, as on the host);
// greedy generation on the KV cache, each token's logits awaited, equals transformers.generate,
// and generatePretrainedAsync on webgpu gives the native backend's generatePretrained text.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromPretrained, generatePretrained, generatePretrainedAsync, hf, noGrad, tidy, type Tensor } from '../../../src/index.js';
import { onWebGpu, webgpuSkip } from '../../webgpu-setup.js';
import { goldenJson, goldenTensors, hfDir, ids } from './golden.js';

interface Gpt2Golden { input_ids: number[][]; generated: number[] }

/** max |a - b| of a device tensor's values against a host tensor's, after checking the shapes. */
async function maxDiff(actual: Tensor, expected: Tensor | undefined, what: string): Promise<number> {
  assert.ok(expected, `${what}: no golden value`);
  assert.deepEqual(actual.shape, expected.shape, what);
  const [a, e] = [await actual.data(), expected.toTypedArray()];
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - e[i]!));
  return m;
}

test('GPT-2 on webgpu: logits, hidden states and attentions within 1e-4 of transformers', { skip: webgpuSkip }, async (t) => {
  const g = goldenJson<Gpt2Golden>('gpt2');
  const gold = goldenTensors('gpt2');
  await onWebGpu(async () => {
    const p = fromPretrained(hfDir('gpt2'));
    const m = p.model as hf.GPT2LMHeadModel;
    try {
      assert.equal(m.parameters()[0]!.backend.name, 'webgpu');
      const outs = noGrad(() => tidy(() => {
        const o = m.forward(ids(g.input_ids), { outputHiddenStates: true, outputAttentions: true });
        return [['logits', o.logits], ...o.hiddenStates!.map((h, i) => [`hidden_states.${i}`, h]), ...o.attentions!.map((a, i) => [`attentions.${i}`, a])] as [string, Tensor][];
      }));
      let worst = 0;
      try {
        for (const [name, x] of outs) {
          const d = await maxDiff(x, gold.get(name), name);
          assert.ok(d <= 1e-4, `${name}: max |diff| ${d.toExponential(2)} > 1e-4`);
          worst = Math.max(worst, d);
        }
      } finally {
        for (const [, x] of outs) x.dispose();
      }
      t.diagnostic(`GPT-2 on webgpu, max |diff| vs transformers: ${worst.toExponential(2)} (${outs.length} tensors)`);
    } finally {
      m.dispose();
    }
  });
});

test('GPT-2 on webgpu: greedy generation on the KV cache equals transformers.generate; generatePretrainedAsync equals native', { skip: webgpuSkip }, async () => {
  const g = goldenJson<Gpt2Golden>('gpt2');
  const host = fromPretrained(hfDir('gpt2'));
  const want = generatePretrained(host, 'The attention', { maxNewTokens: 6, stopAtEos: false });
  host.model.dispose();
  await onWebGpu(async () => {
    const p = fromPretrained(hfDir('gpt2'));
    const m = p.model as hf.GPT2LMHeadModel;
    const caches = m.makeCaches(1);
    try {
      const seq = [...g.input_ids[0]!];
      let next = seq;
      while (seq.length < g.generated.length) {
        const best = noGrad(() => tidy(() => {
          const logits = m.forward(ids([next]), { caches }).logits; // (1, T, vocab)
          return logits.select(1, logits.shape[1]! - 1).argmax(-1);
        }));
        const id = (await best.data())[0]!;
        best.dispose();
        seq.push(id);
        next = [id];
      }
      assert.deepEqual(seq, g.generated);
      assert.deepEqual(await generatePretrainedAsync(p, 'The attention', { maxNewTokens: 6, stopAtEos: false }), want);
    } finally {
      caches.forEach((c) => c.dispose());
      m.dispose();
    }
  });
});
