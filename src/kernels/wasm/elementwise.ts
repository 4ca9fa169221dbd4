// Elementwise kernels on wasm: Add/Sub/Mul/Div when both operands are dense (row-major from their
// offset), or one is a broadcast scalar or a row repeated along the leading axes (a bias); Exp/Tanh/GeluTanh/GeluErf/Relu and GeluGrad on dense
// float32 input. Other layouts (general broadcasting, strided views) and int32 go to the reference.
import type { BinaryKernel, KernelSignatures, UnaryKernel } from '../contract.js';
import { binaryKernels, geluGrad as refGeluGrad, unaryKernels } from '../ref/elementwise.js';
import type { WasmKernels } from './module.js';
import { isDense, isScalar, ptr, rowLength, type MemoryBuffer } from './util.js';

type VV = (a: number, b: number, out: number, n: number) => void;
type VS = (a: number, s: number, out: number, n: number) => void;
type SV = (s: number, a: number, out: number, n: number) => void;
type VR = (a: number, row: number, out: number, n: number, inner: number) => void;
type RV = (row: number, a: number, out: number, n: number, inner: number) => void;

/** Below these many elements the reference's loop is as fast as the call into wasm (measured). */
const MIN_BINARY = 32;
const MIN_UNARY = 16;

function binary(mem: MemoryBuffer, min: number, ref: BinaryKernel, vv: VV, vs: VS, sv: SV, vr: VR, rv: RV): BinaryKernel {
  return (a, b, shape, out) => {
    const n = out.length;
    const buf = n >= min ? mem.get(out) : null;
    if (out.buffer === buf && out instanceof Float32Array && a.data instanceof Float32Array && b.data instanceof Float32Array) {
      const aDense = a.data.buffer === buf && isDense(a, shape);
      const bDense = b.data.buffer === buf && isDense(b, shape);
      if (aDense && bDense) return vv(ptr(a.data, a.offset), ptr(b.data, b.offset), ptr(out), n);
      if (aDense && isScalar(b)) return vs(ptr(a.data, a.offset), b.data[b.offset]!, ptr(out), n);
      if (bDense && isScalar(a)) return sv(a.data[a.offset]!, ptr(b.data, b.offset), ptr(out), n);
      // a row (a bias) repeated along the leading axes
      const aRow = aDense ? 0 : a.data.buffer === buf ? rowLength(a, shape) : 0;
      const bRow = bDense ? 0 : b.data.buffer === buf ? rowLength(b, shape) : 0;
      if (aDense && bRow > 0) return vr(ptr(a.data, a.offset), ptr(b.data, b.offset), ptr(out), n, bRow);
      if (bDense && aRow > 0) return rv(ptr(a.data, a.offset), ptr(b.data, b.offset), ptr(out), n, aRow);
    }
    ref(a, b, shape, out);
  };
}

function unary(mem: MemoryBuffer, min: number, ref: UnaryKernel, f: (x: number, out: number, n: number) => void): UnaryKernel {
  return (x, shape, out, param) => {
    if (out.length >= min && mem.holds(x.data, out) && isDense(x, shape)) return f(ptr(x.data as Float32Array, x.offset), ptr(out as Float32Array), out.length);
    ref(x, shape, out, param);
  };
}

type ElementwiseNames = 'Add' | 'Sub' | 'Mul' | 'Div' | 'Exp' | 'Tanh' | 'GeluTanh' | 'GeluErf' | 'Relu' | 'GeluGrad';

export function elementwiseKernels(w: WasmKernels, mem: MemoryBuffer, tiny: boolean): Pick<KernelSignatures, ElementwiseNames> {
  const minB = tiny ? 0 : MIN_BINARY;
  const minU = tiny ? 0 : MIN_UNARY;
  // the scalar-on-the-left forms of the commutative ops are the scalar-on-the-right ones
  const swap = (f: VS): SV => (s, a, out, n) => f(a, s, out, n);
  const swapRow = (f: VR): RV => (row, a, out, n, inner) => f(a, row, out, n, inner);
  const u = (name: 'exp' | 'tanh' | 'gelu_tanh' | 'gelu_erf' | 'relu'): WasmKernels['exp'] => w[name];
  return {
    Add: binary(mem, minB, binaryKernels.Add, w.add_vv, w.add_vs, swap(w.add_vs), w.add_vr, swapRow(w.add_vr)),
    Sub: binary(mem, minB, binaryKernels.Sub, w.sub_vv, w.sub_vs, w.sub_sv, w.sub_vr, w.sub_rv),
    Mul: binary(mem, minB, binaryKernels.Mul, w.mul_vv, w.mul_vs, swap(w.mul_vs), w.mul_vr, swapRow(w.mul_vr)),
    Div: binary(mem, minB, binaryKernels.Div, w.div_vv, w.div_vs, w.div_sv, w.div_vr, w.div_rv),
    Exp: unary(mem, minU, unaryKernels.Exp, u('exp')),
    Tanh: unary(mem, minU, unaryKernels.Tanh, u('tanh')),
    GeluTanh: unary(mem, minU, unaryKernels.GeluTanh, u('gelu_tanh')),
    GeluErf: unary(mem, minU, unaryKernels.GeluErf, u('gelu_erf')),
    Relu: unary(mem, minU, unaryKernels.Relu, u('relu')),
    GeluGrad: (x, dy, out, approximate) => {
      if (!mem.holds(x, dy, out)) return refGeluGrad(x, dy, out, approximate);
      w.gelu_grad(ptr(x), ptr(dy), ptr(out), out.length, approximate ? 1 : 0);
    },
  };
}
