// Method chaining: x.add(y).relu().sum(). Each method calls the op of the same name, so a
// reader finds the behaviour in one place. installTensorMethods() (called by src/api.ts, next
// to the reference backend's registration) attaches them.
import type { Shape } from '../core/shape.js';
import { Tensor } from '../tensor/tensor.js';
import * as ops from './index.js';
import type { TensorLike } from './util.js';

declare module '../tensor/tensor.js' {
  interface Tensor {
    add(b: TensorLike): Tensor; sub(b: TensorLike): Tensor; mul(b: TensorLike): Tensor; div(b: TensorLike): Tensor;
    pow(b: TensorLike): Tensor; maximum(b: TensorLike): Tensor; minimum(b: TensorLike): Tensor;
    eq(b: TensorLike): Tensor; ne(b: TensorLike): Tensor; lt(b: TensorLike): Tensor; le(b: TensorLike): Tensor;
    gt(b: TensorLike): Tensor; ge(b: TensorLike): Tensor;
    neg(): Tensor; exp(): Tensor; log(): Tensor; sqrt(): Tensor; rsqrt(): Tensor; abs(): Tensor; sign(): Tensor;
    tanh(): Tensor; sigmoid(): Tensor; relu(): Tensor; gelu(approximate?: 'none' | 'tanh'): Tensor;
    elu(alpha?: number): Tensor; softplus(): Tensor; clamp(min?: number, max?: number): Tensor;
    sum(axes?: ops.Axes, keepdim?: boolean): Tensor; mean(axes?: ops.Axes, keepdim?: boolean): Tensor;
    max(axes?: ops.Axes, keepdim?: boolean): Tensor; min(axes?: ops.Axes, keepdim?: boolean): Tensor;
    var(axes?: ops.Axes, options?: { keepdim?: boolean; correction?: number }): Tensor;
    argmax(axis?: number, keepdim?: boolean): Tensor; argmin(axis?: number, keepdim?: boolean): Tensor;
    cumsum(axis: number, options?: { reverse?: boolean }): Tensor;
    matmul(b: Tensor): Tensor;
    softmax(axis?: number): Tensor; logSoftmax(axis?: number): Tensor;
    reshape(shape: Shape): Tensor; view(shape: Shape): Tensor; permute(dims: readonly number[]): Tensor;
    transpose(dim0?: number, dim1?: number): Tensor; slice(axis: number, start?: number, end?: number, step?: number): Tensor;
    select(axis: number, index: number): Tensor; expand(shape: Shape): Tensor;
    squeeze(axis?: number | readonly number[]): Tensor; unsqueeze(axis: number): Tensor;
    flatten(start?: number, end?: number): Tensor; contiguous(): Tensor; clone(): Tensor; cast(dtype: 'float32' | 'int32'): Tensor;
    maskedFill(mask: Tensor, value: number): Tensor;
  }
}

const methods: Record<string, (this: Tensor, ...args: never[]) => Tensor> = {
  add(b: TensorLike) { return ops.add(this, b); },
  sub(b: TensorLike) { return ops.sub(this, b); },
  mul(b: TensorLike) { return ops.mul(this, b); },
  div(b: TensorLike) { return ops.div(this, b); },
  pow(b: TensorLike) { return ops.pow(this, b); },
  maximum(b: TensorLike) { return ops.maximum(this, b); },
  minimum(b: TensorLike) { return ops.minimum(this, b); },
  eq(b: TensorLike) { return ops.equal(this, b); },
  ne(b: TensorLike) { return ops.notEqual(this, b); },
  lt(b: TensorLike) { return ops.less(this, b); },
  le(b: TensorLike) { return ops.lessEqual(this, b); },
  gt(b: TensorLike) { return ops.greater(this, b); },
  ge(b: TensorLike) { return ops.greaterEqual(this, b); },
  neg() { return ops.neg(this); },
  exp() { return ops.exp(this); },
  log() { return ops.log(this); },
  sqrt() { return ops.sqrt(this); },
  rsqrt() { return ops.rsqrt(this); },
  abs() { return ops.abs(this); },
  sign() { return ops.sign(this); },
  tanh() { return ops.tanh(this); },
  sigmoid() { return ops.sigmoid(this); },
  relu() { return ops.relu(this); },
  gelu(approximate?: 'none' | 'tanh') { return ops.gelu(this, approximate); },
  elu(alpha?: number) { return ops.elu(this, alpha); },
  softplus() { return ops.softplus(this); },
  clamp(min?: number, max?: number) { return ops.clamp(this, min, max); },
  sum(axes?: ops.Axes, keepdim?: boolean) { return ops.sum(this, axes, keepdim); },
  mean(axes?: ops.Axes, keepdim?: boolean) { return ops.mean(this, axes, keepdim); },
  max(axes?: ops.Axes, keepdim?: boolean) { return ops.max(this, axes, keepdim); },
  min(axes?: ops.Axes, keepdim?: boolean) { return ops.min(this, axes, keepdim); },
  var(axes?: ops.Axes, options?: { keepdim?: boolean; correction?: number }) { return ops.variance(this, axes, options); },
  argmax(axis?: number, keepdim?: boolean) { return ops.argmax(this, axis, keepdim); },
  argmin(axis?: number, keepdim?: boolean) { return ops.argmin(this, axis, keepdim); },
  cumsum(axis: number, options?: { reverse?: boolean }) { return ops.cumsum(this, axis, options); },
  matmul(b: Tensor) { return ops.matmul(this, b); },
  softmax(axis?: number) { return ops.softmax(this, axis); },
  logSoftmax(axis?: number) { return ops.logSoftmax(this, axis); },
  reshape(shape: Shape) { return ops.reshape(this, shape); },
  view(shape: Shape) { return ops.view(this, shape); },
  permute(dims: readonly number[]) { return ops.permute(this, dims); },
  transpose(dim0?: number, dim1?: number) { return ops.transpose(this, dim0, dim1); },
  slice(axis: number, start?: number, end?: number, step?: number) { return ops.slice(this, axis, start, end, step); },
  select(axis: number, index: number) { return ops.select(this, axis, index); },
  expand(shape: Shape) { return ops.expand(this, shape); },
  squeeze(axis?: number | readonly number[]) { return ops.squeeze(this, axis); },
  unsqueeze(axis: number) { return ops.unsqueeze(this, axis); },
  flatten(start?: number, end?: number) { return ops.flatten(this, start, end); },
  contiguous() { return ops.contiguous(this); },
  clone() { return ops.clone(this); },
  cast(dtype: 'float32' | 'int32') { return ops.cast(this, dtype); },
  maskedFill(mask: Tensor, value: number) { return ops.maskedFill(this, mask, value); },
};

/** Attaches the op methods to Tensor.prototype (idempotent). */
export function installTensorMethods(): void {
  for (const [name, fn] of Object.entries(methods)) {
    Object.defineProperty(Tensor.prototype, name, { value: fn, writable: true, configurable: true });
  }
}
