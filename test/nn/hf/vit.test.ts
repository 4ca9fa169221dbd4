// ViTForImageClassification from a save_pretrained directory (scripts/golden_hf.py): its
// preprocessor_config.json (a ViTImageProcessor with its own mean/std) turns two 16×16 uint8
// images into the processor's pixel_values, and the logits, hidden states and attention maps are
// within 1e-4 of transformers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { data, fromPretrained, hf, noGrad, tensor, tidy, type Tensor } from '../../../src/index.js';
import { assertGolden, goldenJson, goldenTensors, hfDir, maxAbsDiff } from './golden.js';

test('ViT: the image processor, then logits, hidden states and attentions within 1e-4 of transformers', () => {
  const p = fromPretrained(hfDir('vit'));
  assert.equal(p.architecture, 'ViTForImageClassification');
  assert.ok(p.imageProcessor);
  assert.deepEqual(p.imageProcessor.mean, [0.5, 0.4, 0.3]);
  const m = p.model as hf.ViTForImageClassification;
  assert.deepEqual(m.config.labels, ['circle', 'square', 'triangle']);
  const g = goldenJson<{ images: number[][]; height: number; width: number }>('vit');
  const gold = goldenTensors('vit');
  const inputs = g.images.map((im, i) => data.toImageInput({ width: g.width, height: g.height, channels: 3, data: Float32Array.from(im, (v) => v / 255) }, p.imageProcessor!, `image ${i}`));
  const pixels = tensor(Float32Array.from(inputs.flatMap((x) => [...x.data])), { shape: [inputs.length, 3, g.height, g.width] });
  const px = maxAbsDiff(pixels, gold.get('pixel_values')!, 'pixel_values');
  assert.ok(px < 1e-5, `pixel values: ${px}`);
  const worst = noGrad(() => tidy(() => {
    const out = m.forward({ pixelValues: pixels, outputHiddenStates: true, outputAttentions: true });
    const pairs: [string, Tensor, Tensor | undefined][] = [['logits', out.logits, gold.get('logits')]];
    out.hiddenStates!.forEach((h, i) => pairs.push([`hidden_states.${i}`, h, gold.get(`hidden_states.${i}`)]));
    out.attentions!.forEach((a, i) => pairs.push([`attentions.${i}`, a, gold.get(`attentions.${i}`)]));
    assert.equal(pairs.length, 1 + 3 + 2);
    return assertGolden(pairs);
  }));
  console.log(`# ViT max |diff| vs transformers: ${worst.toExponential(2)} (pixel values ${px.toExponential(2)})`);
  m.dispose();
});
