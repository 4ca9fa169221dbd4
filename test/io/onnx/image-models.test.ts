// Image classifiers (the ViT-style patch encoder with each pooling and attention kind, the CNN
// baseline; gray and RGB, square and not) in ONNX Runtime against qkv.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Generator } from '../../../src/core/rng.js';
import { tensor } from '../../../src/ops/creation.js';
import { noGrad, tidy } from '../../../src/tensor/engine.js';
import { DEFAULT_MODEL, ImageClassifier, type InputConfig, type ModelConfig } from '../../../src/nn/models/taggers.js';
import { PatchEncoder } from '../../../src/nn/vision/patch-encoder.js';
import { exportOnnx } from '../../../src/io/onnx/export.js';
import { assertOnnxClose, runOnnx } from './ort.js';

const LABELS = 4;
type Image = Extract<InputConfig, { kind: 'image' }>;
const gray: Image = { kind: 'image', channels: 1, height: 16, width: 16 };
const rgb: Image = { kind: 'image', channels: 3, height: 8, width: 12 };

interface Case { name: string; model: Partial<ModelConfig>; input: Image; opset?: number; meanPool?: boolean }
const cases: Case[] = [
  { name: 'patches 4×4, class token, softmax, gray 16×16', model: {}, input: gray },
  { name: 'patches 4×4, class token, opset 23 (Attention operator)', model: {}, input: gray, opset: 23 },
  { name: 'patches 2×2, mean over patches, RGB 8×12', model: { patch: 2 }, input: rgb, meanPool: true },
  { name: 'patches 4×4, linear attention, RGB 8×12', model: { attention: 'linear' }, input: rgb },
  { name: 'patches 4×4, additive attention, 1 layer', model: { attention: 'additive', layers: 1 }, input: gray },
  { name: 'CNN baseline, 2 blocks, gray 16×16', model: { kind: 'cnn' }, input: gray },
  { name: 'CNN baseline, 2 blocks, RGB 8×12, opset 23', model: { kind: 'cnn' }, input: rgb, opset: 23 },
  { name: 'CNN baseline, 3 blocks, gray 16×16', model: { kind: 'cnn', layers: 3 }, input: gray },
];

for (const c of cases) {
  test(`ImageClassifier (${c.name}): ONNX Runtime equals qkv within 1e-4 on batches of 1 and 3`, async () => {
    const config: ModelConfig = { ...DEFAULT_MODEL, dModel: 16, layers: 2, heads: 2, ...c.model };
    const model = new ImageClassifier(c.input, config, LABELS, new Generator(7));
    if (c.meanPool) {
      const { channels, height, width } = c.input;
      // ImageClassifier builds the class-token kind; the mean-pooled one swapped in (not a registered child, so eval() it too)
      const enc = new PatchEncoder({ channels, height, width, patch: config.patch!, dModel: 16, nhead: 2, layers: 2, pool: 'mean', generator: new Generator(8) });
      enc.eval();
      (model as unknown as { encoder: PatchEncoder }).encoder = enc;
    }
    model.eval();
    const [file] = exportOnnx(model, { opset: c.opset });
    if (c.opset === 23 && config.kind === 'transformer') assert.ok(Buffer.from(file!.bytes).includes('Attention_node'), 'the opset 23 graph uses the Attention operator');
    const { channels: C, height: H, width: W } = c.input;
    for (const B of [1, 3]) {
      const g = new Generator(100 + B);
      const px = Float32Array.from({ length: B * C * H * W }, () => g.normal());
      const expected = tidy(() => noGrad(() => model.forward({ images: tensor(px, { shape: [B, C, H, W] }), keyPaddingMask: tensor(new Int32Array(B), { shape: [B, 1], dtype: 'int32' }) }).toTypedArray()));
      const out = await runOnnx(file!.bytes, { images: { data: px, dims: [B, C, H, W] } });
      assert.deepEqual(out.logits!.dims, [B, LABELS]);
      assertOnnxClose(out.logits!.data, expected, `logits B=${B}`);
    }
  });
}

test('an image classifier exported without a checkpoint: the metadata says the input shape, not a front end it does not know', () => {
  const model = new ImageClassifier(gray, { ...DEFAULT_MODEL, kind: 'cnn', dModel: 8, layers: 1 }, LABELS, new Generator(1));
  const [file] = exportOnnx(model);
  assert.equal(file!.what, 'classify: images (1×16×16) -> logits');
  assert.ok(Buffer.from(file!.bytes).includes('float32 (batch, 1, 16, 16) images, normalised as the model\'s training images were'));
});
