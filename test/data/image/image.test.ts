// Image input against Python: PNG/JPEG pixels as PIL decodes them, bilinear resizing as
// torch.nn.functional.interpolate, broken files as one-line errors; the front end; the
// built-in shapes set; the vision models' shapes.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DataError, decodeImage, encodePng, nn, tensor } from '../../../src/index.js';
import { generateShapes, imageFrontEnd, resizeBilinear, toImageInput, SHAPE_CLASSES } from '../../../src/data/index.js';
import { fixturePath, readFixture } from '../../fixtures.js';

type Ref = Record<string, { mode: string; width: number; height: number; rgba?: number[]; values16?: number[] }> & {
  resize: { input: number[][][]; out: Record<string, number[][][]> };
};
const ref = readFixture<Ref>('image/reference.json');
const bytes = (name: string) => new Uint8Array(readFileSync(fixturePath(`image/${name}`)));
const as8bit = (d: Float32Array) => Array.from(d, (v) => Math.round(v * 255));

describe('image decoding', () => {
  test('PNG (RGB, RGBA, gray, palette) equals PIL\'s pixels exactly', () => {
    for (const name of ['rgb.png', 'rgba.png', 'gray.png', 'palette.png']) {
      const p = decodeImage(bytes(name), name);
      const r = ref[name]!;
      assert.deepEqual([p.width, p.height, p.channels], [r.width, r.height, 4], name);
      assert.deepEqual(as8bit(p.data), r.rgba, name);
    }
  });

  test('16-bit PNG keeps its 16 bits', () => {
    const p = decodeImage(bytes('gray16.png'), 'gray16.png');
    const expected = ref['gray16.png']!.values16!;
    assert.deepEqual(Array.from({ length: expected.length }, (_, i) => Math.round(p.data[i * 4]! * 65535)), expected);
  });

  test('JPEG (baseline, progressive, gray) within 2/255 of PIL (libjpeg) per pixel', () => {
    for (const name of ['smooth.jpg', 'progressive.jpg', 'gray.jpg']) {
      const p = decodeImage(bytes(name), name);
      const r = ref[name]!;
      assert.deepEqual([p.width, p.height], [r.width, r.height], name);
      const mine = as8bit(p.data);
      const worst = Math.max(...mine.map((v, i) => Math.abs(v - r.rgba![i]!)));
      assert.ok(worst <= 2, `${name}: a pixel differs by ${worst}/255`); // IDCT rounding differs between decoders
    }
    // 4:2:0 chroma: libjpeg interpolates the half-size colour planes, jpeg-js repeats them
    const p = as8bit(decodeImage(bytes('subsampled.jpg'), 'subsampled.jpg').data);
    const r = ref['subsampled.jpg']!.rgba!;
    const mean = p.reduce((s, v, i) => s + Math.abs(v - r[i]!), 0) / p.length;
    assert.ok(mean <= 3, `subsampled.jpg: mean difference ${mean}/255`);
  });

  test('broken files: one line naming the file', () => {
    for (const [name, re] of [['truncated.png', /corrupt PNG/], ['corrupt.jpg', /corrupt JPEG/], ['empty.png', /file is empty/]] as const) {
      assert.throws(() => decodeImage(bytes(name), name), (e: unknown) => e instanceof DataError && e.message.startsWith(`${name}: `) && re.test(e.message) && !e.message.includes('\n'), name);
    }
    assert.throws(() => decodeImage(new TextEncoder().encode('GIF89a...'), 'x.gif'), /x\.gif: not a PNG or JPEG image/);
  });

  test('encodePng round-trips 8-bit pixels', () => {
    const p = decodeImage(bytes('rgba.png'), 'rgba.png');
    assert.deepEqual(as8bit(decodeImage(encodePng(p), 'again.png').data), ref['rgba.png']!.rgba);
  });
});

describe('image front end', () => {
  test('bilinear resize equals torch interpolate (align_corners=False), down and up', () => {
    const [C, H, W] = [2, 5, 7];
    const hwc = new Float32Array(H * W * C);
    ref.resize.input.forEach((plane, c) => plane.forEach((row, y) => row.forEach((v, x) => { hwc[(y * W + x) * C + c] = v; })));
    for (const [key, expected] of Object.entries(ref.resize.out)) {
      const [h, w] = key.split('x').map(Number) as [number, number];
      const r = resizeBilinear({ width: W, height: H, channels: C, data: hwc }, h, w);
      let worst = 0;
      expected.forEach((plane, c) => plane.forEach((row, y) => row.forEach((v, x) => { worst = Math.max(worst, Math.abs(r.data[(y * w + x) * C + c]! - v)); })));
      assert.ok(worst < 1e-6, `${key}: ${worst}`);
    }
  });

  test('channels-first, normalised, gray by luma; another size is refused unless resizing', () => {
    const p = decodeImage(bytes('rgb.png'), 'rgb.png'); // 7×5
    const fe = imageFrontEnd({ channels: 3, height: 5, width: 7, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });
    const x = toImageInput(p, fe, 'rgb.png');
    const rgba = ref['rgb.png']!.rgba!;
    // pixel (row 1, col 2), green channel: plane 1, index 1·7 + 2
    assert.ok(Math.abs(x.data[35 + 9]! - (rgba[(9) * 4 + 1]! / 255 - 0.5) / 0.5) < 1e-6);
    const gray = toImageInput(p, imageFrontEnd({ channels: 1, height: 5, width: 7, mean: [0], std: [1] }), 'rgb.png');
    assert.ok(Math.abs(gray.data[9]! - (0.299 * rgba[36]! + 0.587 * rgba[37]! + 0.114 * rgba[38]!) / 255) < 1e-6);
    assert.throws(() => toImageInput(p, imageFrontEnd({ height: 8, width: 8 }), 'rgb.png'), /^DataError: rgb\.png: image is 7×5, the model reads 8×8/);
    assert.equal(toImageInput(p, imageFrontEnd({ height: 8, width: 8, resize: true }), 'rgb.png').data.length, 3 * 64);
  });

  test('the shapes set: balanced classes, 1×16×16 in [-1, 1], same seed same images', () => {
    const a = generateShapes(3, 40);
    assert.deepEqual(SHAPE_CLASSES.map((c) => a.filter((e) => e.label === c).length), [10, 10, 10, 10]);
    assert.deepEqual([a[0]!.image!.channels, a[0]!.image!.height, a[0]!.image!.width], [1, 16, 16]);
    assert.ok(a.every((e) => e.image!.data.every((v) => v >= -1 && v <= 1)));
    assert.deepEqual(generateShapes(3, 40)[7]!.image!.data, a[7]!.image!.data);
  });
});

describe('vision models', () => {
  test('PatchEncoder: class token or mean pooling; CNN encoder; wrong sizes refused', () => {
    const x = tensor(new Float32Array(2 * 3 * 8 * 12).map((_, i) => Math.sin(i)), { shape: [2, 3, 8, 12] });
    const vit = new nn.PatchEncoder({ channels: 3, height: 8, width: 12, patch: 4, dModel: 16, nhead: 2, layers: 1, dropout: 0 });
    assert.deepEqual(vit.forward(x).shape, [2, 16]);
    assert.deepEqual(vit.rowPos.shape, [2, 16]);
    assert.deepEqual(vit.colPos.shape, [3, 16]);
    assert.ok([...vit.stateDict().keys()].includes('cls_token'));
    const mean = new nn.PatchEncoder({ channels: 3, height: 8, width: 12, patch: 4, dModel: 16, nhead: 2, layers: 1, pool: 'mean' });
    assert.ok(![...mean.stateDict().keys()].includes('cls_token'));
    assert.deepEqual(mean.forward(x).shape, [2, 16]);
    const cnn = new nn.ConvImageEncoder({ channels: 3, height: 8, width: 12, hidden: 5, layers: 2 });
    assert.deepEqual(cnn.forward(x).shape, [2, 5]);
    assert.deepEqual([...cnn.stateDict().keys()], ['convs.0.weight', 'convs.0.bias', 'convs.1.weight', 'convs.1.bias']);
    assert.throws(() => new nn.PatchEncoder({ channels: 3, height: 8, width: 10, patch: 4 }), /not a whole number of 4×4 patches/);
    assert.throws(() => vit.forward(tensor(new Float32Array(3 * 8 * 8), { shape: [1, 3, 8, 8] })), /must be \(B, 3, 8, 12\)/);
  });

  test('2-D positions: patch (r, c) gets row r + column c', () => {
    const vit = new nn.PatchEncoder({ channels: 1, height: 4, width: 4, patch: 2, dModel: 4, nhead: 1, layers: 1 });
    const [rows, cols] = [vit.rowPos.toArray() as number[][], vit.colPos.toArray() as number[][]];
    // the sum the encoder adds for patch 3 = (row 1, col 1)
    const e = rows[1]!.map((v, i) => v + cols[1]![i]!);
    assert.equal(e.length, 4);
    assert.notDeepEqual(rows[0], rows[1]);
  });
});
