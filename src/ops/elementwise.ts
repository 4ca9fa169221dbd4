// Elementwise ops with broadcasting, and their gradients. Each op runs one kernel into a
// fresh contiguous output and records how to send the gradient back (src/tensor/autograd.ts).
import { promote, type DType } from '../core/dtype.js';
import { OpError, shapeStr } from '../core/errors.js';
import { broadcastShapes, broadcastStrides, type Shape } from '../core/shape.js';
import type { BinaryKernelName, Strided, UnaryKernelName } from '../kernels/contract.js';
import { kernel } from '../kernels/registry.js';
import { record } from '../tensor/autograd.js';
import { noGrad, state, tidy } from '../tensor/engine.js';
import { Tensor } from '../tensor/tensor.js';
import { checkTensor, contiguousTensor, f32, isWhole, onHost, ownerOf, release, scalar, type TensorLike } from './util.js';

// ---- unary

function unary(op: string, name: UnaryKernelName, x: Tensor, param = 0, keepInt = false): Tensor {
  checkTensor(op, x);
  const y = Tensor.empty(x.shape, keepInt && x.dtype === 'int32' ? 'int32' : 'float32', x.backend);
  kernel(name, x.backend)(x.strided(op), x.shape, y.buffer(), param);
  return y;
}

export function neg(x: Tensor): Tensor {
  return record('neg', [x], unary('neg', 'Neg', x, 0, true), (g) => [neg(g)]);
}
export function exp(x: Tensor): Tensor {
  const y = unary('exp', 'Exp', x);
  return record('exp', [x], y, (g, [y]) => [mul(g, y!)], [y]);
}
export function log(x: Tensor): Tensor {
  return record('log', [x], unary('log', 'Log', x), (g, [x]) => [div(g, x!)], [x]);
}
export function sqrt(x: Tensor): Tensor {
  const y = unary('sqrt', 'Sqrt', x);
  return record('sqrt', [x], y, (g, [y]) => [div(mul(g, 0.5), y!)], [y]);
}
export function rsqrt(x: Tensor): Tensor {
  const y = unary('rsqrt', 'Rsqrt', x);
  // d/dx x^(-1/2) = -1/2 y^3
  return record('rsqrt', [x], y, (g, [y]) => [mul(g, mul(pow(y!, 3), -0.5))], [y]);
}
export function abs(x: Tensor): Tensor {
  return record('abs', [x], unary('abs', 'Abs', x, 0, true), (g, [x]) => [mul(g, sign(x!))], [x]);
}
/** -1, 0 or 1 (no gradient). */
export function sign(x: Tensor): Tensor {
  return unary('sign', 'Sign', x, 0, true);
}
export function tanh(x: Tensor): Tensor {
  const y = unary('tanh', 'Tanh', x);
  return record('tanh', [x], y, (g, [y]) => [mul(g, sub(1, mul(y!, y!)))], [y]);
}
export function sigmoid(x: Tensor): Tensor {
  const y = unary('sigmoid', 'Sigmoid', x);
  return record('sigmoid', [x], y, (g, [y]) => [mul(g, mul(y!, sub(1, y!)))], [y]);
}
export function relu(x: Tensor): Tensor {
  const y = unary('relu', 'Relu', x);
  // PyTorch's threshold_backward: g where y > 0, else 0 (a select, not g times an int32 mask: a NaN or
  // inf gradient stays out of the zeroed positions, and no kernel mixes int32 and float32 operands)
  return record('relu', [x], y, (g, [y]) => [where(greater(y!, 0), g, 0)], [y]);
}
/** GELU, exact (erf) by default or with PyTorch's tanh approximation. */
export function gelu(x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor {
  if (approximate !== 'none' && approximate !== 'tanh') throw new OpError('gelu', `approximate must be "none" or "tanh", got "${approximate}"`);
  const y = unary('gelu', approximate === 'tanh' ? 'GeluTanh' : 'GeluErf', x);
  return record('gelu', [x], y, (g, [x]) => {
    const be = ownerOf('gelu', x, g);
    const dx = Tensor.empty(x!.shape, 'float32', be);
    // views at an offset (select, slice) are copied too: contiguousTensor is the one test of "kernel-ready"
    const [xc, gc] = [contiguousTensor(x!), contiguousTensor(g)];
    kernel('GeluGrad', be)(f32(xc), f32(gc), f32(dx), approximate === 'tanh' ? 1 : 0);
    release(xc, x);
    release(gc, g);
    return [dx];
  }, [x]);
}
/**
 * gelu of a tensor the caller just made and holds alone (a Linear's output), computed in its own
 * memory where no gradient is recorded (inference, decoding): no second buffer of its size. With
 * gradients, gelu (its backward reads x).
 */
export function geluToFresh(x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor {
  checkTensor('gelu', x);
  if ((state.gradEnabled && x.requiresGrad) || !onHost(x) || !isWhole(x) || x.dtype !== 'float32') return gelu(x, approximate);
  if (approximate !== 'none' && approximate !== 'tanh') throw new OpError('gelu', `approximate must be "none" or "tanh", got "${approximate}"`);
  kernel(approximate === 'tanh' ? 'GeluTanh' : 'GeluErf', x.backend)(x.strided('gelu'), x.shape, x.buffer(), 0);
  x.bumpVersion();
  return x;
}
export function elu(x: Tensor, alpha = 1): Tensor {
  const y = unary('elu', 'Elu', x, alpha);
  // d/dx = 1 for x > 0, else alpha*exp(x) = y + alpha
  return record('elu', [x], y, (g, [x, y]) => [mul(g, where(greater(x!, 0), 1, add(y!, alpha)))], [x, y]);
}
export function softplus(x: Tensor): Tensor {
  return record('softplus', [x], unary('softplus', 'Softplus', x), (g, [x]) => [mul(g, sigmoid(x!))], [x]);
}

// ---- binary, with NumPy broadcasting

function bstrided(t: Tensor, shape: Shape, op: string): Strided {
  const s = t.strided(op);
  return { data: s.data, offset: s.offset, strides: broadcastStrides(t.shape, t.strides, shape) };
}

/** Runs a binary kernel; numbers become 0-d tensors that are disposed afterwards. */
function binary(op: string, name: BinaryKernelName, a: TensorLike, b: TensorLike, dtype?: DType,
  grad?: (g: Tensor, saved: Tensor[], needs: boolean[]) => (Tensor | null)[], saveInputs = false): Tensor {
  const ta = typeof a === 'number' ? scalar(a, b instanceof Tensor ? b : undefined) : checkTensor(op, a, 'first input');
  const tb = typeof b === 'number' ? scalar(b, ta) : checkTensor(op, b, 'second input');
  try {
    const shape = broadcastShapes(op, ta.shape, tb.shape);
    const be = ownerOf(op, ta, tb);
    const out = Tensor.empty(shape, dtype ?? promote(ta.dtype, tb.dtype), be);
    kernel(name, be)(bstrided(ta, shape, op), bstrided(tb, shape, op), shape, out.buffer());
    return grad ? record(op, [ta, tb], out, grad, saveInputs ? [ta, tb] : []) : out;
  } finally {
    if (ta !== a) ta.dispose();
    if (tb !== b) tb.dispose();
  }
}

export function add(a: TensorLike, b: TensorLike): Tensor {
  return binary('add', 'Add', a, b, undefined, (g) => [g, g]);
}

/**
 * a + b written over a, for an `a` the caller has just made and holds alone (a product, a layer's
 * output): a bias, a LoRA update, a residual added without a second buffer and a pass over it.
 * Exact for autograd: the sum's gradient is g for both sides and reads neither value, and no one
 * saved a. When b takes no gradient a is returned (its own node passes g on); else a new handle
 * on a's memory records the add. A device backend, a view, or a b that widens a: the plain add.
 */
export function addToFresh(a: Tensor, b: Tensor): Tensor {
  checkTensor('add', a, 'first input');
  checkTensor('add', b, 'second input');
  if (!onHost(a) || !isWhole(a) || a.dtype !== 'float32' || b.dtype !== 'float32') return add(a, b);
  const shape = broadcastShapes('add', a.shape, b.shape);
  if (shape.length !== a.rank || shape.some((d, i) => d !== a.shape[i])) return add(a, b);
  kernel('Add', ownerOf('add', a, b))(a.strided('add'), bstrided(b, shape, 'add'), shape, a.buffer());
  a.bumpVersion();
  if (!state.gradEnabled || !b.requiresGrad) return a;
  return record('add', [a, b], a.makeView(a.shape, a.strides, 0), (g) => [g, g]);
}
export function sub(a: TensorLike, b: TensorLike): Tensor {
  return binary('sub', 'Sub', a, b, undefined, (g, _s, needs) => [g, needs[1] ? neg(g) : null]);
}
export function mul(a: TensorLike, b: TensorLike): Tensor {
  return binary('mul', 'Mul', a, b, undefined, (g, [a, b], needs) => [
    needs[0] ? mul(g, b!) : null,
    needs[1] ? mul(g, a!) : null,
  ], true);
}
/** True division: the result is float32 even for int32 inputs. */
export function div(a: TensorLike, b: TensorLike): Tensor {
  return binary('div', 'Div', a, b, 'float32', (g, [a, b], needs) => [
    needs[0] ? div(g, b!) : null,
    needs[1] ? neg(div(mul(g, a!), mul(b!, b!))) : null,
  ], true);
}
export function pow(a: TensorLike, b: TensorLike): Tensor {
  return binary('pow', 'Pow', a, b, undefined, (g, [a, b], needs) => [
    needs[0] ? mul(g, mul(b!, pow(a!, sub(b!, 1)))) : null,
    needs[1] ? mul(g, mul(pow(a!, b!), log(a!))) : null,
  ], true);
}
/** Elementwise maximum; on ties the gradient is shared equally (as PyTorch). */
export function maximum(a: TensorLike, b: TensorLike): Tensor {
  return binary('maximum', 'Maximum', a, b, undefined, (g, [a, b]) => tieSplit(g, a!, b!), true);
}
export function minimum(a: TensorLike, b: TensorLike): Tensor {
  return binary('minimum', 'Minimum', a, b, undefined, (g, [a, b]) => tieSplit(g, b!, a!), true);
}
function tieSplit(g: Tensor, winner: Tensor, loser: Tensor): Tensor[] {
  const share = add(greater(winner, loser), mul(equal(winner, loser), 0.5));
  return [mul(g, share), mul(g, sub(1, share))];
}

/** Clamps into [min, max] (either may be omitted); the gradient passes where min <= x <= max. */
export function clamp(x: Tensor, min?: number, max?: number): Tensor {
  checkTensor('clamp', x);
  const lo = min ?? -Infinity;
  const hi = max ?? Infinity;
  const out = noGrad(() => tidy(() => minimum(maximum(x, lo), hi)));
  return record('clamp', [x], out, (g, [x]) => {
    return [where(greaterEqual(x!, lo), where(lessEqual(x!, hi), g, 0), 0)];
  }, [x]);
}

// comparisons: int32 0/1, no gradient
export const equal = (a: TensorLike, b: TensorLike): Tensor => binary('equal', 'Equal', a, b, 'int32');
export const notEqual = (a: TensorLike, b: TensorLike): Tensor => binary('notEqual', 'NotEqual', a, b, 'int32');
export const less = (a: TensorLike, b: TensorLike): Tensor => binary('less', 'Less', a, b, 'int32');
export const lessEqual = (a: TensorLike, b: TensorLike): Tensor => binary('lessEqual', 'LessEqual', a, b, 'int32');
export const greater = (a: TensorLike, b: TensorLike): Tensor => binary('greater', 'Greater', a, b, 'int32');
export const greaterEqual = (a: TensorLike, b: TensorLike): Tensor => binary('greaterEqual', 'GreaterEqual', a, b, 'int32');

/** cond ? a : b elementwise, all three broadcast together; cond is any nonzero-is-true tensor. */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  checkTensor('where', cond, 'condition');
  const ta = typeof a === 'number' ? scalar(a, b instanceof Tensor ? b : undefined) : checkTensor('where', a, 'first value');
  const tb = typeof b === 'number' ? scalar(b, ta) : checkTensor('where', b, 'second value');
  try {
    const shape = broadcastShapes('where', cond.shape, ta.shape, tb.shape);
    const be = ownerOf('where', cond, ta, tb);
    const out = Tensor.empty(shape, promote(ta.dtype, tb.dtype), be);
    kernel('Where', be)(bstrided(cond, shape, 'where'), bstrided(ta, shape, 'where'), bstrided(tb, shape, 'where'), shape, out.buffer());
    return record('where', [ta, tb], out, (g, [c], needs) => [
      needs[0] ? where(c!, g, 0) : null,
      needs[1] ? where(c!, 0, g) : null,
    ], [cond]);
  } finally {
    if (ta !== a) ta.dispose();
    if (tb !== b) tb.dispose();
  }
}

/** x with `value` wherever mask is nonzero (mask broadcasts to x's shape). */
export function maskedFill(x: Tensor, mask: Tensor, value: number): Tensor {
  checkTensor('maskedFill', x);
  checkTensor('maskedFill', mask, 'mask');
  const shape = broadcastShapes('maskedFill', x.shape, mask.shape);
  if (shape.length !== x.rank || shape.some((d, i) => d !== x.shape[i])) {
    throw new OpError('maskedFill', `mask of shape ${shapeStr(mask.shape)} does not broadcast to input shape ${shapeStr(x.shape)}`);
  }
  return where(mask, value, x);
}
