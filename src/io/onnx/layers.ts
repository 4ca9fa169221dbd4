// Lowerings of the basic layers and the few op patterns every model uses (opset-aware where
// ONNX moved an attribute to an input). Values are tensor names in an OnnxGraph.
import type { Conv1d } from '../../nn/conv.js';
import type { LayerNorm, Linear } from '../../nn/layers.js';
import type { Conv2d } from '../../nn/vision/conv-encoder.js';
import { ModuleError } from '../../nn/module.js';
import type { OnnxGraph } from './graph.js';

/** y = x Wᵀ + b (torch.nn.Linear); W stays in PyTorch's (out, in) layout, transposed in the graph. */
export function linear(g: OnnxGraph, x: string, lin: Linear | { weight: import('../../tensor/tensor.js').Tensor; bias: import('../../tensor/tensor.js').Tensor | null }): string {
  const y = g.op('MatMul', [x, g.op('Transpose', [g.param(lin.weight)], { perm: [1, 0] })]);
  return lin.bias ? g.op('Add', [y, g.param(lin.bias)]) : y;
}

/** One LayerNormalization node over the last dims (opset 17+). */
export function layerNorm(g: OnnxGraph, x: string, ln: LayerNorm): string {
  const n = ln.normalizedShape.length;
  const scale = ln.weight ? g.param(ln.weight) : g.table('ln_ones', ln.normalizedShape, new Float32Array(ln.normalizedShape.reduce((a, b) => a * b, 1)).fill(1));
  return g.op('LayerNormalization', ln.bias ? [x, scale, g.param(ln.bias)] : [x, scale], { axis: -n, epsilon: { float: ln.eps } });
}

/** GELU with erf (PyTorch's default, qkv's gelu): 0.5·x·(1 + erf(x/√2)); one Gelu node from opset 20. */
export function gelu(g: OnnxGraph, x: string): string {
  if (g.opset >= 20) return g.op('Gelu', [x]);
  const e = g.op('Erf', [g.op('Div', [x, g.scalar(Math.SQRT2)])]);
  return g.op('Mul', [g.op('Mul', [x, g.op('Add', [e, g.scalar(1)])]), g.scalar(0.5)]);
}

export function activation(g: OnnxGraph, x: string, kind: 'relu' | 'gelu'): string {
  return kind === 'gelu' ? gelu(g, x) : g.op('Relu', [x]);
}

/** ReduceSum/Max/Mean over `axes`: axes became an input in opset 18 (ReduceSum in 13). */
export function reduce(g: OnnxGraph, op: 'ReduceSum' | 'ReduceMax' | 'ReduceMean', x: string, axes: number[], keepdims: boolean): string {
  if (op === 'ReduceSum' || g.opset >= 18) return g.op(op, [x, g.ints(axes)], { keepdims: keepdims ? 1 : 0 });
  return g.op(op, [x], { axes, keepdims: keepdims ? 1 : 0 });
}

/** The size of axis `axis` of x as a 0-D int64 value. */
export function dim(g: OnnxGraph, x: string, axis: number): string {
  return g.op('Squeeze', [g.op('Shape', [x], { start: axis, end: axis + 1 }), g.ints([0])]);
}

export function unsqueeze(g: OnnxGraph, x: string, axes: number[]): string {
  return g.op('Unsqueeze', [x, g.ints(axes)]);
}

/** x[..., start:end] along `axis` (end may be a 1-D value name for a dynamic bound). */
export function slice(g: OnnxGraph, x: string, axis: number, start: number | string, end: number | string): string {
  const bound = (v: number | string) => (typeof v === 'number' ? g.ints([v]) : v);
  return g.op('Slice', [x, bound(start), bound(end), g.ints([axis])]);
}

/** x (B, N, H·hd) -> heads (B, H, N, hd). */
export function splitHeads(g: OnnxGraph, x: string, H: number, hd: number): string {
  return g.op('Transpose', [g.op('Reshape', [x, g.ints([0, 0, H, hd])])], { perm: [0, 2, 1, 3] });
}

/** heads (B, H, N, hd) -> (B, N, H·hd): the heads' outputs side by side. */
export function mergeHeads(g: OnnxGraph, b: string, E: number): string {
  return g.op('Reshape', [g.op('Transpose', [b], { perm: [0, 2, 1, 3] }), g.ints([0, 0, E])]);
}

/** torch.nn.Conv1d on (N, C, L). */
export function conv1d(g: OnnxGraph, x: string, conv: Conv1d): string {
  const k = conv.kernelSize;
  const span = conv.dilation * (k - 1);
  let pads: [number, number];
  if (conv.padding === 'same') pads = [Math.floor(span / 2), span - Math.floor(span / 2)];
  else if (conv.padding === 'valid') pads = [0, 0];
  else pads = [conv.padding, conv.padding];
  if (conv.padding === 'same' && conv.stride !== 1) throw new ModuleError('Conv1d', 'padding "same" with a stride cannot be exported');
  const inputs = [x, g.param(conv.weight)];
  if (conv.bias) inputs.push(g.param(conv.bias));
  return g.op('Conv', inputs, { kernel_shape: [k], pads, strides: [conv.stride], dilations: [conv.dilation], group: conv.groups });
}

/** torch.nn.Conv2d (stride 1, zero padding on every side) on (B, Cin, H, W) -> (B, Cout, Ho, Wo). */
export function conv2d(g: OnnxGraph, x: string, conv: Conv2d): string {
  const k = conv.kernelSize;
  const p = conv.padding;
  return g.op('Conv', [x, g.param(conv.weight), g.param(conv.bias)], { kernel_shape: [k, k], pads: [p, p, p, p], strides: [1, 1] });
}

/** Non-overlapping k×k max pooling (qkv's maxPool2d, F.max_pool2d(x, k)): (B, C, H, W) -> (B, C, H/k, W/k). */
export function maxPool2d(g: OnnxGraph, x: string, k: number): string {
  return g.op('MaxPool', [x], { kernel_shape: [k, k], strides: [k, k] });
}
