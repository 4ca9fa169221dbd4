// Elementwise kernels: unary maps, binary maps over broadcast operands, where, copy and fill.
import type { TypedArray } from '../../core/dtype.js';
import type { Shape } from '../../core/shape.js';
import type { BinaryKernel, BinaryKernelName, Strided, UnaryKernel, UnaryKernelName } from '../contract.js';
import { erf } from './erf.js';
import { offsets } from './strided.js';

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const GELU_C = 0.044715;

const unaryFns: Record<UnaryKernelName, (x: number, p: number) => number> = {
  Neg: (x) => -x,
  Exp: (x) => Math.exp(x),
  Log: (x) => Math.log(x),
  Sqrt: (x) => Math.sqrt(x),
  Rsqrt: (x) => 1 / Math.sqrt(x),
  Abs: (x) => Math.abs(x),
  Sign: (x) => Math.sign(x),
  Tanh: (x) => Math.tanh(x),
  Sigmoid: (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))),
  Relu: (x) => (x > 0 ? x : 0),
  GeluTanh: (x) => 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + GELU_C * x * x * x))),
  GeluErf: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
  Elu: (x, alpha) => (x > 0 ? x : alpha * Math.expm1(x)),
  // PyTorch's softplus: linear above the threshold 20 (beta = 1).
  Softplus: (x) => (x > 20 ? x : Math.log1p(Math.exp(x))),
};

function unary(f: (x: number, p: number) => number): UnaryKernel {
  return (x, shape, out, param) => {
    const d = x.data;
    if (isDense(x, shape)) {
      for (let i = 0, o = x.offset; i < out.length; i++, o++) out[i] = f(d[o]!, param);
      return;
    }
    const ix = offsets(x, shape);
    for (let i = 0; i < ix.length; i++) out[i] = f(d[ix[i]!]!, param);
  };
}

/** True when x walks memory in row-major order (no index table needed). */
function isDense(x: Strided, shape: Shape): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && x.strides[i] !== expected) return false;
    expected *= shape[i]!;
  }
  return true;
}

/** True when every stride is 0 (a broadcast scalar). */
function isScalar(x: Strided): boolean {
  return x.strides.every((s) => s === 0);
}

export const unaryKernels = Object.fromEntries(
  Object.entries(unaryFns).map(([name, f]) => [name, unary(f)]),
) as Record<UnaryKernelName, UnaryKernel>;

const binaryFns: Record<BinaryKernelName, (a: number, b: number) => number> = {
  Add: (a, b) => a + b,
  Sub: (a, b) => a - b,
  Mul: (a, b) => a * b,
  Div: (a, b) => a / b,
  Pow: (a, b) => Math.pow(a, b),
  Maximum: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b)),
  Minimum: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.min(a, b)),
  Equal: (a, b) => (a === b ? 1 : 0),
  NotEqual: (a, b) => (a !== b ? 1 : 0),
  Less: (a, b) => (a < b ? 1 : 0),
  LessEqual: (a, b) => (a <= b ? 1 : 0),
  Greater: (a, b) => (a > b ? 1 : 0),
  GreaterEqual: (a, b) => (a >= b ? 1 : 0),
};

function binary(f: (a: number, b: number) => number): BinaryKernel {
  return (a, b, shape, out) => {
    const da = a.data;
    const db = b.data;
    // common cases without index tables: both dense, or one side a broadcast scalar
    const aDense = isDense(a, shape);
    const bDense = isDense(b, shape);
    if (aDense && bDense) {
      for (let i = 0, oa = a.offset, ob = b.offset; i < out.length; i++) out[i] = f(da[oa + i]!, db[ob + i]!);
      return;
    }
    if (aDense && isScalar(b)) {
      const bv = db[b.offset]!;
      for (let i = 0, oa = a.offset; i < out.length; i++) out[i] = f(da[oa + i]!, bv);
      return;
    }
    if (bDense && isScalar(a)) {
      const av = da[a.offset]!;
      for (let i = 0, ob = b.offset; i < out.length; i++) out[i] = f(av, db[ob + i]!);
      return;
    }
    const ia = offsets(a, shape);
    const ib = offsets(b, shape);
    for (let i = 0; i < ia.length; i++) out[i] = f(da[ia[i]!]!, db[ib[i]!]!);
  };
}

export const binaryKernels = Object.fromEntries(
  Object.entries(binaryFns).map(([name, f]) => [name, binary(f)]),
) as Record<BinaryKernelName, BinaryKernel>;

export function where(cond: Strided, a: Strided, b: Strided, shape: Shape, out: TypedArray): void {
  const ic = offsets(cond, shape);
  const ia = offsets(a, shape);
  const ib = offsets(b, shape);
  for (let i = 0; i < ic.length; i++) out[i] = cond.data[ic[i]!] !== 0 ? a.data[ia[i]!]! : b.data[ib[i]!]!;
}

export function copy(src: Strided, dst: Strided, shape: Shape): void {
  const is = offsets(src, shape);
  const id = offsets(dst, shape);
  const s = src.data;
  const d = dst.data;
  // float -> int truncates toward zero, like PyTorch's .to(torch.int32)
  if (d instanceof Int32Array && s instanceof Float32Array) {
    for (let i = 0; i < is.length; i++) d[id[i]!] = Math.trunc(s[is[i]!]!);
  } else {
    for (let i = 0; i < is.length; i++) d[id[i]!] = s[is[i]!]!;
  }
}

export function fill(out: TypedArray, value: number): void {
  out.fill(value);
}

export function geluGrad(x: Float32Array, dy: Float32Array, out: Float32Array, approximate: number): void {
  if (approximate) {
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      const u = SQRT_2_OVER_PI * (v + GELU_C * v * v * v);
      const t = Math.tanh(u);
      const du = SQRT_2_OVER_PI * (1 + 3 * GELU_C * v * v);
      out[i] = dy[i]! * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * du);
    }
  } else {
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      const cdf = 0.5 * (1 + erf(v / Math.SQRT2));
      const pdf = Math.exp(-0.5 * v * v) / Math.sqrt(2 * Math.PI);
      out[i] = dy[i]! * (cdf + v * pdf);
    }
  }
}
