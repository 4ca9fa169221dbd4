// The image encoders in ONNX: images (B, C, H, W) -> one vector per image (B, D).
//   PatchEncoder (ViT): p×p patches as vectors (unfold2d as Reshape/Transpose), the projection,
//     row + column positions, the class token, the attention encoder, then the class token's
//     output or the mean over patches.
//   ConvImageEncoder (the CNN baseline): Conv 3×3 -> Relu -> MaxPool 2×2 per block, then the mean.
import { ModuleError } from '../../nn/module.js';
import { ConvImageEncoder } from '../../nn/vision/conv-encoder.js';
import { PatchEncoder } from '../../nn/vision/patch-encoder.js';
import type { OnnxGraph } from './graph.js';
import { conv2d, linear, maxPool2d, reduce, unsqueeze } from './layers.js';
import { attentionEncoder } from './transformer.js';

/** unfold2d with stride = kernel = p: (B, C, H, W) -> (B, L, C·p·p), patches row by row, each in (c, i, j) order. */
function patches(g: OnnxGraph, images: string, enc: PatchEncoder): string {
  const { channels: C, patch: p } = enc.options;
  const R = enc.rows;
  const Cc = enc.cols;
  const grid = g.op('Reshape', [images, g.ints([0, C, R, p, Cc, p])]); // (B, C, R, p, Cc, p): pixel (r·p + i, c·p + j)
  const byPatch = g.op('Transpose', [grid], { perm: [0, 2, 4, 1, 3, 5] }); // (B, R, Cc, C, p, p)
  return g.op('Reshape', [byPatch, g.ints([0, R * Cc, C * p * p])]); // (B, L, C·p·p)
}

function patchEncoder(g: OnnxGraph, enc: PatchEncoder, images: string): string {
  const D = enc.outDim;
  let a = linear(g, patches(g, images, enc), enc.proj); // (B, L, D)
  const pos = g.op('Reshape', [g.op('Add', [unsqueeze(g, g.param(enc.rowPos), [1]), unsqueeze(g, g.param(enc.colPos), [0])]), g.ints([enc.rows * enc.cols, D])]); // (L, D): e(r, c) = row_r + col_c
  a = g.op('Add', [a, pos]);
  if (enc.clsToken) {
    const shape = g.op('Concat', [g.op('Shape', [images], { start: 0, end: 1 }), g.ints([1, D])], { axis: 0 }); // [B, 1, D]
    a = g.op('Concat', [g.op('Expand', [g.param(enc.clsToken), shape]), a], { axis: 1 }); // (B, 1 + L, D)
  }
  const h = attentionEncoder(g, enc.encoder, a, { keyPad: null, attnMask: null }); // (B, 1 + L, D)
  return enc.clsToken ? g.op('Gather', [h, g.scalar(0, 'int64')], { axis: 1 }) : reduce(g, 'ReduceMean', h, [1], false); // (B, D)
}

function convImageEncoder(g: OnnxGraph, enc: ConvImageEncoder, images: string): string {
  let h = images;
  for (const conv of enc.convs) h = maxPool2d(g, g.op('Relu', [conv2d(g, h, conv)]), 2); // (B, hidden, H/2^i, W/2^i)
  return reduce(g, 'ReduceMean', h, [2, 3], false); // (B, hidden)
}

/** Lowers an image encoder; one line naming the module otherwise. */
export function imageEncoder(g: OnnxGraph, enc: PatchEncoder | ConvImageEncoder, images: string): string {
  if (enc instanceof PatchEncoder) return patchEncoder(g, enc, images);
  if (enc instanceof ConvImageEncoder) return convImageEncoder(g, enc, images);
  throw new ModuleError((enc as object).constructor.name, 'this image encoder has no ONNX export');
}
