// 2-D images as sequences of vectors, and the 2-D convolution of the CNN baseline, built from
// views and matmul (so the gradients are those ops' own, already tested):
//   unfold2d: every kh×kw patch of (B, C, H, W) as one vector, (B, L, C·kh·kw) with
//             L = Ho·Wo patches in row-major order and each vector in (c, i, j) order, i.e.
//             torch.nn.functional.unfold transposed to a sequence. Stride = kernel gives the
//             ViT patching (lecture: an image is a set of vectors); stride 1 gives im2col.
//   conv2d:   F.conv2d semantics (weight (Cout, Cin, kh, kw), bias (Cout)), as unfold2d then
//             one matmul.
//   maxPool2d: non-overlapping k×k max pooling (H and W divisible by k).
import { OpError, shapeStr } from '../core/errors.js';
import { tidy } from '../tensor/engine.js';
import type { Tensor } from '../tensor/tensor.js';
import { add } from './elementwise.js';
import { pad, stack } from './join.js';
import { matmul } from './linalg.js';
import { max } from './reduce.js';
import { contiguous, permute, reshape, slice, transpose } from './views.js';
import { checkTensor } from './util.js';

export interface Unfold2dOptions {
  /** Step between patches (default: the kernel size, non-overlapping patches). */
  stride?: number;
  /** Zeros added on every side (default 0). */
  padding?: number;
}

const pair = (k: number | readonly [number, number]): [number, number] => (typeof k === 'number' ? [k, k] : [k[0], k[1]]);

function geometry(op: string, x: Tensor, kernel: number | readonly [number, number], stride: number, padding: number) {
  checkTensor(op, x);
  if (x.rank !== 4) throw new OpError(op, `input must be [batch, channels, height, width], got ${shapeStr(x.shape)}`);
  const [kh, kw] = pair(kernel);
  for (const [name, v, min] of [['kernel', kh, 1], ['kernel', kw, 1], ['stride', stride, 1], ['padding', padding, 0]] as const) {
    if (!Number.isInteger(v) || v < min) throw new OpError(op, `${name} must be an integer >= ${min}, got ${v}`);
  }
  const [B, C, H, W] = x.shape as [number, number, number, number];
  const Ho = Math.floor((H + 2 * padding - kh) / stride) + 1;
  const Wo = Math.floor((W + 2 * padding - kw) / stride) + 1;
  if (Ho < 1 || Wo < 1) throw new OpError(op, `input ${shapeStr(x.shape)} is smaller than the ${kh}×${kw} kernel (padding ${padding})`);
  return { B, C, kh, kw, Ho, Wo };
}

/** (B, C, H, W) -> (B, Ho·Wo, C·kh·kw): each patch flattened in (channel, row, column) order. */
export function unfold2d(x: Tensor, kernel: number | readonly [number, number], options: Unfold2dOptions = {}): Tensor {
  const stride = options.stride ?? pair(kernel)[0];
  const padding = options.padding ?? 0;
  const { B, C, kh, kw, Ho, Wo } = geometry('unfold2d', x, kernel, stride, padding);
  return tidy(() => {
    const xp = padding ? pad(x, [padding, padding, padding, padding]) : x;
    const shifted: Tensor[] = []; // one (B, C, Ho, Wo) view per kernel offset (i, j)
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        shifted.push(slice(slice(xp, 2, i, i + stride * (Ho - 1) + 1, stride), 3, j, j + stride * (Wo - 1) + 1, stride));
      }
    }
    const cols = reshape(stack(shifted, 2), [B, C * kh * kw, Ho * Wo]); // (B, C·kh·kw, L): F.unfold's layout
    return contiguous(transpose(cols, 1, 2)); // (B, L, C·kh·kw)
  });
}

export interface Conv2dOptions {
  stride?: number;
  padding?: number;
}

/** F.conv2d: x (B, Cin, H, W), weight (Cout, Cin, kh, kw), bias (Cout) -> (B, Cout, Ho, Wo). */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, options: Conv2dOptions = {}): Tensor {
  checkTensor('conv2d', weight, 'weight');
  if (weight.rank !== 4) throw new OpError('conv2d', `weight must be [out_channels, in_channels, kh, kw], got ${shapeStr(weight.shape)}`);
  const [cout, cin, kh, kw] = weight.shape as [number, number, number, number];
  const { stride = 1, padding = 0 } = options;
  const { B, C, Ho, Wo } = geometry('conv2d', x, [kh, kw], stride, padding);
  if (C !== cin) throw new OpError('conv2d', `input ${shapeStr(x.shape)} has ${C} channels, weight ${shapeStr(weight.shape)} expects ${cin}`);
  if (bias && (bias.rank !== 1 || bias.shape[0] !== cout)) throw new OpError('conv2d', `bias ${shapeStr(bias.shape)} must be [${cout}]`);
  return tidy(() => {
    const cols = unfold2d(x, [kh, kw], { stride, padding }); // (B, L, Cin·kh·kw)
    let y = matmul(cols, transpose(reshape(weight, [cout, cin * kh * kw]), 0, 1)); // (B, L, Cout)
    if (bias) y = add(y, bias);
    return contiguous(permute(reshape(y, [B, Ho, Wo, cout]), [0, 3, 1, 2])); // (B, Cout, Ho, Wo)
  });
}

/** k×k max pooling with stride k: (B, C, H, W) -> (B, C, H/k, W/k). */
export function maxPool2d(x: Tensor, k: number): Tensor {
  checkTensor('maxPool2d', x);
  if (x.rank !== 4) throw new OpError('maxPool2d', `input must be [batch, channels, height, width], got ${shapeStr(x.shape)}`);
  const [B, C, H, W] = x.shape as [number, number, number, number];
  if (!Number.isInteger(k) || k < 1 || H % k || W % k) throw new OpError('maxPool2d', `height ${H} and width ${W} must be multiples of the pool size ${k}`);
  return tidy(() => max(reshape(x, [B, C, H / k, k, W / k, k]), [3, 5]));
}
