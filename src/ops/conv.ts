// 1-D convolution with PyTorch's F.conv1d semantics: x [B, Cin, L], weight [Cout, Cin/groups, K],
// bias [Cout]; stride, zero padding (a number, 'same' or 'valid'), dilation and groups.
import { OpError, shapeStr } from '../core/errors.js';
import type { Conv1dArgs } from '../kernels/contract.js';
import { kernel } from '../kernels/registry.js';
import { record } from '../tensor/autograd.js';
import { tidy } from '../tensor/engine.js';
import { Tensor } from '../tensor/tensor.js';
import { add } from './elementwise.js';
import { reshape } from './views.js';
import { checkDtype, checkTensor, contiguousTensor, f32, ownerOf, release } from './util.js';

export interface Conv1dOptions {
  stride?: number;
  padding?: number | 'same' | 'valid';
  dilation?: number;
  groups?: number;
}

export function conv1d(x: Tensor, weight: Tensor, bias?: Tensor | null, options: Conv1dOptions = {}): Tensor {
  const { stride = 1, padding = 0, dilation = 1, groups = 1 } = options;
  checkTensor('conv1d', x);
  checkTensor('conv1d', weight, 'weight');
  checkDtype('conv1d', x, 'float32');
  checkDtype('conv1d', weight, 'float32', 'weight');
  if (x.rank !== 3) throw new OpError('conv1d', `input must be [batch, channels, length], got ${shapeStr(x.shape)}`);
  if (weight.rank !== 3) throw new OpError('conv1d', `weight must be [out_channels, in_channels/groups, kernel], got ${shapeStr(weight.shape)}`);
  for (const [name, v] of [['stride', stride], ['dilation', dilation], ['groups', groups]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new OpError('conv1d', `${name} must be a positive integer, got ${v}`);
  }
  const [batch, cin, length] = x.shape as [number, number, number];
  const [cout, cinG, k] = weight.shape as [number, number, number];
  if (cin % groups !== 0 || cout % groups !== 0 || cinG !== cin / groups) {
    throw new OpError('conv1d', `input ${shapeStr(x.shape)} and weight ${shapeStr(weight.shape)} do not match with groups=${groups}`);
  }
  if (bias && (bias.rank !== 1 || bias.shape[0] !== cout)) throw new OpError('conv1d', `bias ${shapeStr(bias.shape)} must be [${cout}]`);
  const span = dilation * (k - 1) + 1;
  let padLeft: number;
  let padTotal: number;
  if (padding === 'valid') [padLeft, padTotal] = [0, 0];
  else if (padding === 'same') {
    if (stride !== 1) throw new OpError('conv1d', "padding='same' needs stride 1");
    padTotal = span - 1;
    padLeft = Math.floor(padTotal / 2);
  } else if (Number.isInteger(padding) && padding >= 0) [padLeft, padTotal] = [padding, 2 * padding];
  else throw new OpError('conv1d', `padding must be a non-negative integer, 'same' or 'valid', got ${padding}`);
  const outLength = Math.floor((length + padTotal - span) / stride) + 1;
  if (outLength < 1) throw new OpError('conv1d', `input length ${length} is too short for kernel ${k} with dilation ${dilation} and padding ${padTotal}`);
  const args: Conv1dArgs = { batch, cin, cout, groups, length, kernel: k, outLength, stride, padLeft, dilation };
  const be = ownerOf('conv1d', x, weight, bias);
  const y = Tensor.empty([batch, cout, outLength], 'float32', be);
  const [xc, wc] = [contiguousTensor(x), contiguousTensor(weight)];
  kernel('Conv1d', be)(f32(xc), f32(wc), args, f32(y));
  release(xc, x);
  release(wc, weight);
  const conv = record('conv1d', [x, weight], y, (g, [x, w], needs) => {
    // every allocation first: allocating may grow the heap and detach views taken before
    const gbe = ownerOf('conv1d', x, g);
    const dx = needs[0] ? Tensor.empty(x!.shape, 'float32', gbe) : null;
    const dw = needs[1] ? Tensor.empty(w!.shape, 'float32', gbe) : null;
    const gc = contiguousTensor(g);
    const wc = dx ? contiguousTensor(w!) : null;
    const xc = dw ? contiguousTensor(x!) : null;
    if (dx) kernel('Conv1dGradInput', gbe)(f32(gc), f32(wc!), args, f32(dx));
    if (dw) kernel('Conv1dGradWeight', gbe)(f32(gc), f32(xc!), args, f32(dw));
    release(gc, g);
    release(wc, w!);
    release(xc, x!);
    return [dx, dw];
  }, [x, weight]);
  if (!bias) return conv;
  const out = tidy(() => add(conv, reshape(bias, [cout, 1])));
  conv.dispose();
  return out;
}
