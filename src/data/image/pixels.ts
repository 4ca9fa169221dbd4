// Images between decoding and the model: pixels as float32 in [0, 1], height × width ×
// channels (interleaved, as decoders give them); bilinear resizing; the front end that turns
// them into a normalised (channels, height, width) array, the layout the vision models read.
// Pure (no decoder here), so it also runs in browsers.
import { DataError } from '../errors.js';

export interface Pixels {
  width: number;
  height: number;
  /** 1 (gray), 3 (RGB) or 4 (RGBA). */
  channels: number;
  /** height × width × channels, row-major, values in [0, 1]. */
  data: Float32Array;
}

/** A model's image input: (channels, height, width), normalised. */
export interface ImageInput {
  channels: number;
  height: number;
  width: number;
  data: Float32Array;
}

/** What a model trained on images saves, so it predicts on the same input. */
export interface ImageFrontEnd {
  kind: 'image';
  /** 1: gray (ITU-R BT.601 luma), 3: RGB; alpha is dropped (composited on black). */
  channels: 1 | 3;
  height: number;
  width: number;
  /** Resize every image to height × width (bilinear); if false, another size is an error. */
  resize: boolean;
  /** Per channel: (x - mean) / std after scaling to [0, 1]. */
  mean: number[];
  std: number[];
}

export function imageFrontEnd(o: { channels?: 1 | 3; height: number; width: number; resize?: boolean; mean?: number[]; std?: number[] }): ImageFrontEnd {
  const channels = o.channels ?? 3;
  return { kind: 'image', channels, height: o.height, width: o.width, resize: o.resize ?? false, mean: o.mean ?? new Array(channels).fill(0.5), std: o.std ?? new Array(channels).fill(0.5) };
}

/**
 * Bilinear resize with half-pixel centres (torch.nn.functional.interpolate, mode='bilinear',
 * align_corners=False, no antialiasing).
 */
export function resizeBilinear(p: Pixels, height: number, width: number): Pixels {
  if (p.height === height && p.width === width) return p;
  const C = p.channels;
  const out = new Float32Array(height * width * C);
  const sy = p.height / height;
  const sx = p.width / width;
  for (let y = 0; y < height; y++) {
    const fy = Math.max(0, (y + 0.5) * sy - 0.5);
    const y0 = Math.min(Math.floor(fy), p.height - 1);
    const y1 = Math.min(y0 + 1, p.height - 1);
    const wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.max(0, (x + 0.5) * sx - 0.5);
      const x0 = Math.min(Math.floor(fx), p.width - 1);
      const x1 = Math.min(x0 + 1, p.width - 1);
      const wx = fx - x0;
      for (let c = 0; c < C; c++) {
        const at = (yy: number, xx: number) => p.data[(yy * p.width + xx) * C + c]!;
        const top = at(y0, x0) * (1 - wx) + at(y0, x1) * wx;
        const bottom = at(y1, x0) * (1 - wx) + at(y1, x1) * wx;
        out[(y * width + x) * C + c] = top * (1 - wy) + bottom * wy;
      }
    }
  }
  return { width, height, channels: C, data: out };
}

/** Pixels -> the model's input under a front end; `file` names the image in errors. */
export function toImageInput(p: Pixels, fe: ImageFrontEnd, file: string): ImageInput {
  if (!fe.resize && (p.height !== fe.height || p.width !== fe.width)) {
    throw new DataError(file, null, `image is ${p.width}×${p.height}, the model reads ${fe.width}×${fe.height} (train with --image-size to resize)`);
  }
  const r = resizeBilinear(p, fe.height, fe.width);
  const C = fe.channels;
  const hw = fe.height * fe.width;
  const data = new Float32Array(C * hw);
  for (let i = 0; i < hw; i++) {
    const px = r.data.subarray(i * r.channels, (i + 1) * r.channels);
    const alpha = r.channels === 4 ? px[3]! : r.channels === 2 ? px[1]! : 1;
    const rgb = r.channels >= 3 ? [px[0]!, px[1]!, px[2]!] : [px[0]!, px[0]!, px[0]!];
    const values = C === 1 ? [0.299 * rgb[0]! + 0.587 * rgb[1]! + 0.114 * rgb[2]!] : rgb;
    for (let c = 0; c < C; c++) data[c * hw + i] = (values[c]! * alpha - fe.mean[c]!) / fe.std[c]!;
  }
  return { channels: C, height: fe.height, width: fe.width, data };
}

/**
 * What toImageInput does to pixels, step by step, for someone preparing an exported model's
 * input without qkv (the ONNX metadata's `preprocessing`).
 */
export function describePreprocessing(fe: ImageFrontEnd): string {
  const C = fe.channels;
  return [
    'decode to RGB(A) values in [0, 1] (8-bit / 255, 16-bit / 65535)',
    'multiply by alpha (composite on black) and drop it',
    C === 1 ? 'gray: 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601 luma); a gray image is R = G = B' : 'RGB (a gray image: R = G = B)',
    fe.resize ? `resize to ${fe.height}×${fe.width} (height×width), bilinear, half-pixel centres, no antialiasing (torch F.interpolate align_corners=False)`
      : `images must be ${fe.height}×${fe.width} (height×width); no resizing`,
    `per channel x = (x - mean) / std with mean [${fe.mean.join(', ')}], std [${fe.std.join(', ')}]`,
    `float32 (batch, ${C}, ${fe.height}, ${fe.width}): channels first, rows top to bottom`,
  ].map((step, i) => `${i + 1}. ${step}`).join('; ');
}
