// Elementwise kernels on wasm: Add/Sub/Mul/Div when both operands are dense (row-major from their
// offset), or one is a broadcast scalar or a row repeated along the leading axes (a bias); Exp/Tanh/GeluTanh/GeluErf/Relu and GeluGrad on dense
// float32 input. Other layouts (general broadcasting, strided views) and int32 go to the reference.
import type { BinaryKernel, KernelSignatures, UnaryKernel } from '../contract.js';
import { binaryKernels, geluGrad as refGeluGrad, unaryKernels } from '../ref/elementwise.js';
import type { WasmKernels } from './module.js';
import type { ThreadExport, ThreadPool } from './threads.js';
import { isDense, isScalar, ptr, rowLength, type MemoryBuffer } from './util.js';

type VV = (a: number, b: number, out: number, n: number) => void;
type VS = (a: number, s: number, out: number, n: number) => void;
type SV = (s: number, a: number, out: number, n: number) => void;
type VR = (a: number, row: number, out: number, n: number, inner: number) => void;
type RV = (row: number, a: number, out: number, n: number, inner: number) => void;

/** Below these many elements the reference's loop is as fast as the call into wasm (measured). */
const MIN_BINARY = 32;
const MIN_UNARY = 16;
/** From this many elements the transcendental ones (exp, tanh, GELU and its gradient) are split across threads. */
const MIN_PARALLEL = 1 << 15;

/**
 * Runs f over n elements: on one thread, or in contiguous 64-byte-aligned pieces across the
 * pool's threads; `at(start, count)` gives one piece's arguments.
 */
function pieces(pool: ThreadPool | null, min: number, fn: ThreadExport, local: (...a: number[]) => void, n: number,
  at: (start: number, count: number) => number[]): void {
  const threads = pool && n >= min ? pool.available() : 1;
  if (threads === 1) return local(...at(0, n));
  const size = Math.ceil(n / threads / 16) * 16;
  const parts: number[][] = [];
  for (let s = 0; s < n; s += size) parts.push(at(s, Math.min(size, n - s)));
  pool!.run(fn, parts, local);
}

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

function unary(mem: MemoryBuffer, min: number, ref: UnaryKernel, f: (x: number, out: number, n: number) => void,
  pool: ThreadPool | null = null, fn: ThreadExport | null = null, minParallel = MIN_PARALLEL): UnaryKernel {
  return (x, shape, out, param) => {
    if (out.length >= min && mem.holds(x.data, out) && isDense(x, shape)) {
      const xp = ptr(x.data as Float32Array, x.offset);
      const op = ptr(out as Float32Array);
      if (!fn) return f(xp, op, out.length);
      return pieces(pool, minParallel, fn, f as (...a: number[]) => void, out.length, (s, c) => [xp + 4 * s, op + 4 * s, c]);
    }
    ref(x, shape, out, param);
  };
}

type ElementwiseNames = 'Add' | 'Sub' | 'Mul' | 'Div' | 'Exp' | 'Tanh' | 'GeluTanh' | 'GeluErf' | 'Relu' | 'GeluGrad';

export function elementwiseKernels(w: WasmKernels, mem: MemoryBuffer, tiny: boolean, pool: ThreadPool | null = null): Pick<KernelSignatures, ElementwiseNames> {
  const minB = tiny ? 0 : MIN_BINARY;
  const minU = tiny ? 0 : MIN_UNARY;
  const minP = tiny ? 0 : MIN_PARALLEL;
  // the scalar-on-the-left forms of the commutative ops are the scalar-on-the-right ones
  const swap = (f: VS): SV => (s, a, out, n) => f(a, s, out, n);
  const swapRow = (f: VR): RV => (row, a, out, n, inner) => f(a, row, out, n, inner);
  const u = (name: 'exp' | 'tanh' | 'gelu_tanh' | 'gelu_erf' | 'relu'): WasmKernels['exp'] => w[name];
  return {
    Add: binary(mem, minB, binaryKernels.Add, w.add_vv, w.add_vs, swap(w.add_vs), w.add_vr, swapRow(w.add_vr)),
    Sub: binary(mem, minB, binaryKernels.Sub, w.sub_vv, w.sub_vs, w.sub_sv, w.sub_vr, w.sub_rv),
    Mul: binary(mem, minB, binaryKernels.Mul, w.mul_vv, w.mul_vs, swap(w.mul_vs), w.mul_vr, swapRow(w.mul_vr)),
    Div: binary(mem, minB, binaryKernels.Div, w.div_vv, w.div_vs, w.div_sv, w.div_vr, w.div_rv),
    Exp: unary(mem, minU, unaryKernels.Exp, u('exp'), pool, 'exp', minP),
    Tanh: unary(mem, minU, unaryKernels.Tanh, u('tanh'), pool, 'tanh', minP),
    GeluTanh: unary(mem, minU, unaryKernels.GeluTanh, u('gelu_tanh'), pool, 'gelu_tanh', minP),
    GeluErf: unary(mem, minU, unaryKernels.GeluErf, u('gelu_erf'), pool, 'gelu_erf', minP),
    Relu: unary(mem, minU, unaryKernels.Relu, u('relu')),
    GeluGrad: (x, dy, out, approximate) => {
      if (!mem.holds(x, dy, out)) return refGeluGrad(x, dy, out, approximate);
      const [xp, dp, op] = [ptr(x), ptr(dy), ptr(out)];
      pieces(pool, minP, 'gelu_grad', w.gelu_grad as (...a: number[]) => void, out.length, (s, c) => [xp + 4 * s, dp + 4 * s, op + 4 * s, c, approximate ? 1 : 0]);
    },
  };
}
