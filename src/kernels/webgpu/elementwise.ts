// Elementwise kernels on WebGPU: copy (strided, casting), fill, the unary and binary maps over
// broadcast (strided) operands, where, and the GELU gradient. One thread per output element;
// every operand is read through its own offset and strides (as the reference does).
import type { DType, TypedArray } from '../../core/dtype.js';
import { sizeOf, type Shape } from '../../core/shape.js';
import { BINARY_KERNELS, UNARY_KERNELS, type BinaryKernelName, type KernelSignatures, type Strided, type UnaryKernelName } from '../contract.js';
import type { GpuDevice, ShaderSpec } from './device.js';
import { buf, grid, INDEX, offsetFn, squeeze, ty, WG } from './util.js';

/** A value of compute type f32 stored as dtype `to`. */
const store = (to: DType, v: string) => (to === 'int32' ? `i32(${v})` : `f32(${v})`);

// erf as the reference computes it (Abramowitz & Stegun 7.1.26)
const ERF = /* wgsl */ `
fn erf_(x: f32) -> f32 {
  let ax = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * ax);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  let y = 1.0 - poly * exp(-ax * ax);
  return select(y, -y, x < 0.0);
}
fn tanh_(x: f32) -> f32 {
  let t = exp(-2.0 * abs(x));
  let y = (1.0 - t) / (1.0 + t);
  return select(y, -y, x < 0.0);
}`;

const UNARY: Record<UnaryKernelName, string> = {
  Neg: '-x',
  Exp: 'exp(x)',
  Log: 'log(x)',
  Sqrt: 'sqrt(x)',
  Rsqrt: '1.0 / sqrt(x)',
  Abs: 'abs(x)',
  Sign: 'sign(x)',
  Tanh: 'tanh_(x)',
  Sigmoid: 'select(exp(x) / (1.0 + exp(x)), 1.0 / (1.0 + exp(-x)), x >= 0.0)',
  Relu: 'select(0.0, x, x > 0.0)',
  GeluTanh: '0.5 * x * (1.0 + tanh_(0.7978845608028654 * (x + 0.044715 * x * x * x)))',
  GeluErf: '0.5 * x * (1.0 + erf_(x * 0.7071067811865476))',
  Elu: 'select(p.param * (exp(x) - 1.0), x, x > 0.0)',
  Softplus: 'select(log(1.0 + exp(x)), x, x > 20.0)',
};

/** Binary maps in f32 (mixed or float operands). NaN-aware where the reference is. */
const BINARY_F: Record<BinaryKernelName, string> = {
  Add: 'a + b', Sub: 'a - b', Mul: 'a * b', Div: 'a / b', Pow: 'pow_(a, b)',
  Maximum: 'select(max(a, b), nan_(), is_nan(a) || is_nan(b))',
  Minimum: 'select(min(a, b), nan_(), is_nan(a) || is_nan(b))',
  Equal: 'select(0.0, 1.0, a == b)', NotEqual: 'select(0.0, 1.0, a != b)',
  Less: 'select(0.0, 1.0, a < b)', LessEqual: 'select(0.0, 1.0, a <= b)',
  Greater: 'select(0.0, 1.0, a > b)', GreaterEqual: 'select(0.0, 1.0, a >= b)',
};
/** The same over two int32 operands, in i32 (wrapping like the reference's Int32Array store). */
const BINARY_I: Record<BinaryKernelName, string> = {
  Add: 'a + b', Sub: 'a - b', Mul: 'a * b', Div: 'select(a / b, 0, b == 0)', Pow: 'i32(pow_(f32(a), f32(b)))',
  Maximum: 'max(a, b)', Minimum: 'min(a, b)',
  Equal: 'select(0, 1, a == b)', NotEqual: 'select(0, 1, a != b)',
  Less: 'select(0, 1, a < b)', LessEqual: 'select(0, 1, a <= b)',
  Greater: 'select(0, 1, a > b)', GreaterEqual: 'select(0, 1, a >= b)',
};

// Math.pow for a negative base (odd/even integer powers) and a zero base
const POW = /* wgsl */ `
fn pow_(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return 1.0; }
  if (a == 0.0) { return select(0.0, pos_inf(), b < 0.0); }
  if (a > 0.0) { return pow(a, b); }
  if (b != trunc(b)) { return nan_(); }
  let m = pow(-a, b);
  return select(m, -m, (trunc(b * 0.5) * 2.0) != b);
}`;

const stridedFields = (...names: string[]): ShaderSpec['fields'] => [
  ['shape', 'v8'], ...names.map((n) => [`${n}Str`, 'v8'] as [string, 'v8']),
  ['n', 'u32'], ['rank', 'u32'], ...names.map((n) => [`${n}Off`, 'i32'] as [string, 'i32']),
];

function stridedValues(shape: number[], ops: [string, Strided, number[]][]): Record<string, number | number[]> {
  const v: Record<string, number | number[]> = { shape, n: sizeOf(shape), rank: shape.length };
  for (const [name, s, strides] of ops) {
    v[`${name}Str`] = strides;
    v[`${name}Off`] = s.offset;
  }
  return v;
}

export function elementwiseKernels(dev: GpuDevice): Partial<KernelSignatures> {
  const k: Partial<KernelSignatures> = {};

  k.Copy = (src, dst, shape) => {
    const s = buf(src.data);
    const d = buf(dst.data);
    const m = squeeze(shape, src, dst);
    const spec: ShaderSpec = {
      key: `Copy:${s.dtype}:${d.dtype}:r${m.shape.length}`,
      fields: stridedFields('s', 'd'),
      buffers: [['src', ty(s.dtype), false], ['dst', ty(d.dtype), true]],
      code: `${INDEX}${offsetFn('s', m.shape.length)}${offsetFn('d', m.shape.length)}
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gidx(gid, nwg);
  if (i >= p.n) { return; }
  dst[off_d(i)] = ${d.dtype === 'int32' ? 'i32' : 'f32'}(src[off_s(i)]);
}`,
    };
    const values = stridedValues(m.shape, [['s', src, m.strides[0]!], ['d', dst, m.strides[1]!]]);
    dev.dispatch(spec, values, [{ b: s }, { b: d, write: true }], grid(values['n'] as number));
  };

  k.Fill = (out, value) => {
    const o = buf(out);
    const spec: ShaderSpec = {
      key: `Fill:${o.dtype}`,
      fields: [['n', 'u32'], ['value', o.dtype === 'int32' ? 'i32' : 'f32']],
      buffers: [['out', ty(o.dtype), true]],
      code: `${INDEX}
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gidx(gid, nwg);
  if (i < p.n) { out[i] = p.value; }
}`,
    };
    dev.dispatch(spec, { n: o.length, value: o.dtype === 'int32' ? value | 0 : value }, [{ b: o, write: true }], grid(o.length));
  };

  for (const name of UNARY_KERNELS) {
    k[name] = (x: Strided, shape: Shape, out: TypedArray, param: number) => {
      const xb = buf(x.data);
      const o = buf(out);
      const m = squeeze(shape, x);
      const spec: ShaderSpec = {
        key: `${name}:${xb.dtype}:${o.dtype}:r${m.shape.length}`,
        fields: [...stridedFields('x'), ['param', 'f32']],
        buffers: [['xs', ty(xb.dtype), false], ['out', ty(o.dtype), true]],
        code: `${INDEX}${ERF}${offsetFn('x', m.shape.length)}
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gidx(gid, nwg);
  if (i >= p.n) { return; }
  let x = f32(xs[off_x(i)]);
  out[i] = ${store(o.dtype, UNARY[name])};
}`,
      };
      const values: Record<string, number | number[]> = { ...stridedValues(m.shape, [['x', x, m.strides[0]!]]), param };
      dev.dispatch(spec, values, [{ b: xb }, { b: o, write: true }], grid(values['n'] as number));
    };
  }

  for (const name of BINARY_KERNELS) {
    k[name] = (a: Strided, b: Strided, shape: Shape, out: TypedArray) => {
      const ab = buf(a.data);
      const bb = buf(b.data);
      const o = buf(out);
      const ints = ab.dtype === 'int32' && bb.dtype === 'int32';
      const m = squeeze(shape, a, b);
      const expr = ints ? `${BINARY_I[name]}` : BINARY_F[name];
      const spec: ShaderSpec = {
        key: `${name}:${ab.dtype}:${bb.dtype}:${o.dtype}:r${m.shape.length}`,
        fields: stridedFields('a', 'b'),
        buffers: [['as_', ty(ab.dtype), false], ['bs', ty(bb.dtype), false], ['out', ty(o.dtype), true]],
        code: `${INDEX}${POW}${offsetFn('a', m.shape.length)}${offsetFn('b', m.shape.length)}
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gidx(gid, nwg);
  if (i >= p.n) { return; }
  let a = ${ints ? 'i32' : 'f32'}(as_[off_a(i)]);
  let b = ${ints ? 'i32' : 'f32'}(bs[off_b(i)]);
  out[i] = ${o.dtype === 'int32' ? 'i32' : 'f32'}(${expr});
}`,
      };
      const values = stridedValues(m.shape, [['a', a, m.strides[0]!], ['b', b, m.strides[1]!]]);
      dev.dispatch(spec, values, [{ b: ab }, { b: bb }, { b: o, write: true }], grid(values['n'] as number));
    };
  }

  k.Where = (cond, a, b, shape, out) => {
    const cb = buf(cond.data);
    const ab = buf(a.data);
    const bb = buf(b.data);
    const o = buf(out);
    const m = squeeze(shape, cond, a, b);
    const ot = o.dtype === 'int32' ? 'i32' : 'f32';
    const spec: ShaderSpec = {
      key: `Where:${cb.dtype}:${ab.dtype}:${bb.dtype}:${o.dtype}:r${m.shape.length}`,
      fields: stridedFields('c', 'a', 'b'),
      buffers: [['cs', ty(cb.dtype), false], ['as_', ty(ab.dtype), false], ['bs', ty(bb.dtype), false], ['out', ty(o.dtype), true]],
      code: `${INDEX}${offsetFn('c', m.shape.length)}${offsetFn('a', m.shape.length)}${offsetFn('b', m.shape.length)}
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gidx(gid, nwg);
  if (i >= p.n) { return; }
  let c = cs[off_c(i)];
  ${cb.dtype === 'int32' ? 'let on = c != 0;' : 'let on = (bitcast<u32>(c) & 0x7fffffffu) != 0u;'}
  if (on) { out[i] = ${ot}(as_[off_a(i)]); } else { out[i] = ${ot}(bs[off_b(i)]); }
}`,
    };
    const values = stridedValues(m.shape, [['c', cond, m.strides[0]!], ['a', a, m.strides[1]!], ['b', b, m.strides[2]!]]);
    dev.dispatch(spec, values, [{ b: cb }, { b: ab }, { b: bb }, { b: o, write: true }], grid(values['n'] as number));
  };

  k.GeluGrad = (x, dy, out, approximate) => {
    const o = buf(out);
    const spec: ShaderSpec = {
      key: 'GeluGrad',
      fields: [['n', 'u32'], ['approximate', 'u32']],
      buffers: [['xs', 'f32', false], ['dy', 'f32', false], ['out', 'f32', true]],
      code: `${INDEX}${ERF}
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gidx(gid, nwg);
  if (i >= p.n) { return; }
  let v = xs[i];
  if (p.approximate != 0u) {
    let u = 0.7978845608028654 * (v + 0.044715 * v * v * v);
    let t = tanh_(u);
    let du = 0.7978845608028654 * (1.0 + 3.0 * 0.044715 * v * v);
    out[i] = dy[i] * (0.5 * (1.0 + t) + 0.5 * v * (1.0 - t * t) * du);
  } else {
    let cdf = 0.5 * (1.0 + erf_(v * 0.7071067811865476));
    let pdf = exp(-0.5 * v * v) * 0.3989422804014327;
    out[i] = dy[i] * (cdf + v * pdf);
  }
}`,
    };
    const n = buf(x).length;
    dev.dispatch(spec, { n, approximate: approximate ? 1 : 0 }, [{ b: buf(x) }, { b: buf(dy) }, { b: o, write: true }], grid(n));
  };

  return k;
}
