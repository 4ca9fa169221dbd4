// inspectModel on an image model (patches + self-attention): the class token and the patches as
// positions, a¹ of layer 1 equal to the patch encoder's own embedding (projection + row and column
// positions, the class token first), and the lecture's arithmetic in every layer and head.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyDriver, data, inspectModel, manualSeed, tensor, type ClassifyInstance, type InspectableModel } from '../../src/index.js';
import type { PatchEncoder } from '../../src/nn/vision/patch-encoder.js';

const dot = (x: number[], y: number[]) => x.reduce((s, xi, i) => s + xi * y[i]!, 0);
const close = (got: number, want: number, what: string) => assert.ok(Math.abs(got - want) <= 2e-5 * Math.max(1, Math.abs(want)), `${what}: ${got} vs ${want}`);

test('inspectModel on patches: [CLS] and patch r,c positions, a¹ = the encoder\'s embedding, alpha = q·k/√d, softmax rows, b = Σ alpha\' v', () => {
  manualSeed(5);
  const examples = data.builtinDataset('shapes', { seed: 1, n: 8 });
  const m = classifyDriver.create(examples, { model: { kind: 'transformer', dModel: 16, heads: 2, layers: 2, patch: 4, dropout: 0 } }) as ClassifyInstance;
  m.model.eval();
  const image = examples[0]!.image!;
  const r = inspectModel(m as unknown as InspectableModel, { image });
  assert.equal(r.input, 'image');
  assert.deepEqual(r.tokens.slice(0, 3), ['[CLS]', 'patch 1,1', 'patch 1,2']);
  assert.equal(r.tokens.length, 17);
  assert.deepEqual({ ...r.image!, pixels: null }, { channels: 1, height: 16, width: 16, pixels: null, patch: 4, rows: 4, cols: 4, cls: true });
  assert.equal(r.prediction, classifyDriver.predict(m, [{ image }])[0]);
  // layer 1 reads the patch encoder's embedding (after a fresh LayerNorm, weight 1 and bias 0, in a pre-LN layer)
  const enc = (m.model as unknown as { encoder: PatchEncoder }).encoder;
  const embedded = (enc.embed(tensor(image.data, { shape: [1, 1, 16, 16] })).toArray() as number[][][])[0]!;
  const norm = (row: number[]) => {
    const mean = row.reduce((s, x) => s + x, 0) / row.length;
    const variance = row.reduce((s, x) => s + (x - mean) ** 2, 0) / row.length;
    return row.map((x) => (x - mean) / Math.sqrt(variance + 1e-5));
  };
  embedded.forEach((row, i) => (r.model.normFirst ? norm(row) : row).forEach((x, c) => close(r.layers[0]!.a[i]![c]!, x, `a[${i}][${c}]`)));
  for (const [li, layer] of r.layers.entries()) {
    for (const [h, hd] of layer.heads.entries()) {
      const where = `layer ${li} head ${h}`;
      layer.a.forEach((a, i) => hd.q[i]!.forEach((q, c) => close(q, dot(hd.Wq[c]!, a) + (hd.bq?.[c] ?? 0), `${where} q[${i}][${c}]`)));
      hd.alpha!.forEach((row, i) => {
        row.forEach((x, j) => close(x!, dot(hd.q[i]!, hd.k[j]!) * r.model.scale, `${where} alpha[${i}][${j}]`));
        const max = Math.max(...row.map((x) => x!));
        const z = row.reduce((s: number, x) => s + Math.exp(x! - max), 0);
        row.forEach((x, j) => close(hd.alphaPrime![i]![j]!, Math.exp(x! - max) / z, `${where} alpha'[${i}][${j}]`));
        hd.b[i]!.forEach((b, c) => close(b, hd.alphaPrime![i]!.reduce((s, w, j) => s + w * hd.v[j]![c]!, 0), `${where} b[${i}][${c}]`));
      });
    }
  }
});

test('inspectModel refuses a CNN image model and an image model given no image, in one line', () => {
  const examples = data.builtinDataset('shapes', { seed: 1, n: 8 });
  const cnn = classifyDriver.create(examples, { model: { kind: 'cnn', dModel: 8, layers: 1 } }) as ClassifyInstance;
  assert.throws(() => inspectModel(cnn as unknown as InspectableModel, { image: examples[0]!.image! }), /a cnn model has no attention to look at/);
  const vit = classifyDriver.create(examples, { model: { kind: 'transformer', dModel: 16, heads: 2, layers: 1, patch: 4 } }) as ClassifyInstance;
  assert.throws(() => inspectModel(vit as unknown as InspectableModel, { frames: [[1]] }), /this model reads images/);
});
