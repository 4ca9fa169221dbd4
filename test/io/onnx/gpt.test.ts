import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gptGraph } from '../../../src/io/onnx/gpt.js';
import { GPT } from '../../../src/nn/transformer/gpt.js';
import { Generator } from '../../../src/core/rng.js';
import { tensor } from '../../../src/ops/creation.js';
import { noGrad } from '../../../src/tensor/engine.js';
import { assertOnnxClose, int64, runOnnx } from './ort.js';

const kinds = ['softmax', 'relu', 'linear'] as const;

function model(attention: (typeof kinds)[number]): GPT {
  const gpt = new GPT({ vocabSize: 11, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 8, attention, generator: new Generator(3) });
  gpt.eval();
  return gpt;
}

function randomIds(B: number, T: number, seed: number): number[] {
  const g = new Generator(seed);
  return Array.from({ length: B * T }, () => g.int(0, 11));
}

for (const attention of kinds) {
  test(`GPT (${attention} attention): ONNX Runtime's logits equal qkv's on two batch sizes and lengths`, async () => {
    const gpt = model(attention);
    const bytes = gptGraph(gpt, 'forward', 17).encode();
    for (const [B, T] of [[1, 5], [3, 9]] as const) {
      const ids = randomIds(B, T, B * 10 + T);
      const expected = noGrad(() => gpt.forward(tensor(ids, { shape: [B, T], dtype: 'int32' })).logits.toTypedArray());
      const out = await runOnnx(bytes, { idx: { data: int64(ids), dims: [B, T] } });
      assert.deepEqual(out.logits!.dims, [B, T, 11]);
      assertOnnxClose(out.logits!.data, expected, `logits B=${B} T=${T}`);
    }
  });
}
