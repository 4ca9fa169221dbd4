// Elementwise kernels on native: Exp, Tanh, both GELUs, Relu and GeluGrad on dense float32, and
// Add/Sub/Mul/Div when both operands are dense or one is a scalar or a repeated row (a bias),
// split into fixed pieces across the pool (smaller such calls go to wasm). Every other layout
// (broadcast over leading and trailing axes, strided views, int32 masks) and the comparisons,
// Maximum and Minimum, which wasm would leave to the reference's index tables, run the strided
// kernel (native/src/strided.h) at any size worth a call; Where likewise for the layouts wasm's lacks.
import type { Shape } from '../../core/shape.js';
import type { BinaryKernel, BinaryKernelName, KernelSignatures, Strided, UnaryKernel } from '../contract.js';
import { binaryKernels } from '../ref/elementwise.js';
import { isDense, isScalar, ptr, rowLength } from '../wasm/util.js';
import { enter, fall, type NativeContext } from './context.js';

/** Below this many elements wasm (one thread, a cheaper call) is as fast. */
const MIN_UNARY = 2048;
const MIN_BINARY = 8192;
/** Below this many elements the reference's index-table loop costs about what the crossing into C++ does (~2 µs with the layout's arguments; measured at 16-512 elements). */
const MIN_STRIDED = 64;

// the addon's codes (native/src/kernels.h)
const UNARY = { Exp: 0, Tanh: 1, GeluTanh: 2, GeluErf: 3, Relu: 4 } as const;
const BINARY = { Add: 0, Sub: 1, Mul: 2, Div: 3 } as const;
const FORM = { VV: 0, VS: 1, SV: 2, VR: 3, RV: 4 } as const;
const STRIDED = {
  Add: 0, Sub: 1, Mul: 2, Div: 3, Maximum: 4, Minimum: 5,
  Equal: 6, NotEqual: 7, Less: 8, LessEqual: 9, Greater: 10, GreaterEqual: 11,
} as const;
type StridedName = keyof typeof STRIDED;
const COMPARISON = new Set<BinaryKernelName>(['Equal', 'NotEqual', 'Less', 'LessEqual', 'Greater', 'GreaterEqual']);

/**
 * `shape` with each operand's strides, size-1 axes dropped and neighbours merged where every
 * operand steps through them as one: the sizes and each operand's strides, outer axis first
 * (none for a single element); null when more than `maxRank` axes remain.
 */
export function mergeAxesUpTo(maxRank: number, shape: Shape, ...strides: (readonly number[])[]): { n: number[]; s: number[][] } | null {
  const n: number[] = [];
  const s: number[][] = strides.map(() => []);
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i]!;
    if (d === 1) continue;
    const last = n.length - 1;
    // the previous (outer) axis folds into this one when its strides are this one's times d
    if (last >= 0 && strides.every((st, k) => s[k]![last] === st[i]! * d)) {
      n[last] = n[last]! * d;
      strides.forEach((st, k) => { s[k]![last] = st[i]!; });
    } else {
      n.push(d);
      strides.forEach((st, k) => s[k]!.push(st[i]!));
    }
  }
  return n.length > maxRank ? null : { n, s };
}

/**
 * mergeAxesUpTo 4 (out is contiguous, so it always merges), padded in front to 4 axes:
 * [n0..n3, then 4 strides per operand]; null when more than 4 axes remain.
 */
export function mergeAxes(shape: Shape, ...strides: (readonly number[])[]): number[] | null {
  const m = mergeAxesUpTo(4, shape, ...strides);
  if (!m) return null;
  const { n, s } = m;
  while (n.length < 4) { n.unshift(1); for (const sk of s) sk.unshift(0); }
  return [...n, ...s.flat()];
}

/** The strided kernel for `name`, or null (then `other` runs): float32 or int32 operands in the heap, int32 out only for a comparison. */
function strided(ctx: NativeContext, name: StridedName, a: Strided, b: Strided, shape: Shape, out: ArrayBufferView): boolean {
  if (out.byteLength < 4 * (ctx.tiny ? 1 : MIN_STRIDED) || !ctx.mem.holds32(a.data, b.data, out)) return false;
  const outInt = out instanceof Int32Array;
  const aInt = a.data instanceof Int32Array;
  const bInt = b.data instanceof Int32Array;
  if (outInt && !COMPARISON.has(name)) return false;
  const m = mergeAxes(shape, a.strides, b.strides);
  if (!m) return false;
  enter(ctx);
  ctx.addon.binaryStrided(STRIDED[name], (aInt ? 1 : 0) | (bInt ? 2 : 0) | (outInt ? 4 : 0),
    ptr(a.data as Float32Array, a.offset), ptr(b.data as Float32Array, b.offset), ptr(out as Float32Array),
    m[0]!, m[1]!, m[2]!, m[3]!, m[4]!, m[5]!, m[6]!, m[7]!, m[8]!, m[9]!, m[10]!, m[11]!);
  return true;
}

/** Maximum, Minimum and the comparisons: wasm has none, so every layout worth a call runs here. */
function stridedOnly(ctx: NativeContext, name: StridedName): BinaryKernel {
  const other = ctx.fallback[name] ?? binaryKernels[name];
  return (a, b, shape, out) => {
    if (!strided(ctx, name, a, b, shape, out)) other(a, b, shape, out);
  };
}

function unary(ctx: NativeContext, name: keyof typeof UNARY): UnaryKernel {
  const min = ctx.tiny ? 0 : MIN_UNARY;
  const wasm = fall(ctx, name);
  return (x, shape, out, param) => {
    if (out.length < min || !ctx.mem.holds(x.data, out) || !isDense(x, shape)) return wasm(x, shape, out, param);
    enter(ctx);
    ctx.addon.unary(UNARY[name], ptr(x.data as Float32Array, x.offset), ptr(out as Float32Array), out.length);
  };
}

function binary(ctx: NativeContext, name: keyof typeof BINARY): BinaryKernel {
  const min = ctx.tiny ? 0 : MIN_BINARY;
  const wasm = fall(ctx, name);
  const op = BINARY[name];
  return (a, b, shape, out) => {
    if (ctx.mem.holds(a.data, b.data, out)) {
      const [form, inner] = formOf(a, b, shape);
      // a layout wasm has a loop for: native from MIN_BINARY elements, wasm below
      if (form >= 0 && out.length < min) return wasm(a, b, shape, out);
      if (form >= 0) {
        enter(ctx);
        ctx.addon.binary(op, form, ptr(a.data as Float32Array, a.offset), ptr(b.data as Float32Array, b.offset),
          ptr(out as Float32Array), out.length, inner);
        return;
      }
    }
    if (!strided(ctx, name, a, b, shape, out)) wasm(a, b, shape, out);
  };
}

/** The addon's (and wasm's) loop for float32 a and b in the heap: [form, row length], form -1 when none fits. */
function formOf(a: Strided, b: Strided, shape: Shape): [number, number] {
  const aDense = isDense(a, shape);
  const bDense = isDense(b, shape);
  let inner = 0;
  if (aDense && bDense) return [FORM.VV, 0];
  if (aDense && isScalar(b)) return [FORM.VS, 0];
  if (bDense && isScalar(a)) return [FORM.SV, 0];
  if (aDense && (inner = rowLength(b, shape)) > 0) return [FORM.VR, inner];
  if (bDense && (inner = rowLength(a, shape)) > 0) return [FORM.RV, inner];
  return [-1, 0];
}

/**
 * Where on native for the layouts wasm's loop lacks (a condition broadcast along trailing axes, a
 * mask against [batch, time, d]; strided values): a 32-bit select, so values keep their dtype.
 */
function where(ctx: NativeContext): KernelSignatures['Where'] {
  const other = ctx.fallback.Where!;
  return (cond, a, b, shape, out) => {
    const wasmLoop = (isDense(a, shape) || isScalar(a)) && (isDense(b, shape) || isScalar(b)) &&
      (isDense(cond, shape) || rowLength(cond, shape) > 0);
    if (out.length < (ctx.tiny ? 1 : MIN_STRIDED) || (wasmLoop && !ctx.tiny) || !ctx.mem.holds32(cond.data, a.data, b.data, out) ||
      a.data.constructor !== out.constructor || b.data.constructor !== out.constructor) return other(cond, a, b, shape, out);
    const m = mergeAxes(shape, cond.strides, a.strides, b.strides);
    if (!m) return other(cond, a, b, shape, out);
    enter(ctx);
    ctx.addon.whereStrided(ptr(cond.data as Int32Array, cond.offset), cond.data instanceof Float32Array ? 1 : 0,
      ptr(a.data as Float32Array, a.offset), ptr(b.data as Float32Array, b.offset), ptr(out as Float32Array), ...m);
  };
}

type Names = 'Where' | 'Add' | 'Sub' | 'Mul' | 'Div' | 'Maximum' | 'Minimum' | 'Equal' | 'NotEqual' | 'Less' | 'LessEqual'
  | 'Greater' | 'GreaterEqual' | 'Exp' | 'Tanh' | 'GeluTanh' | 'GeluErf' | 'Relu' | 'GeluGrad';

export function elementwiseKernels(ctx: NativeContext): Pick<KernelSignatures, Names> {
  const min = ctx.tiny ? 0 : MIN_UNARY;
  const wasmGeluGrad = fall(ctx, 'GeluGrad');
  return {
    Where: where(ctx),
    Add: binary(ctx, 'Add'), Sub: binary(ctx, 'Sub'), Mul: binary(ctx, 'Mul'), Div: binary(ctx, 'Div'),
    Maximum: stridedOnly(ctx, 'Maximum'), Minimum: stridedOnly(ctx, 'Minimum'), Equal: stridedOnly(ctx, 'Equal'),
    NotEqual: stridedOnly(ctx, 'NotEqual'), Less: stridedOnly(ctx, 'Less'), LessEqual: stridedOnly(ctx, 'LessEqual'),
    Greater: stridedOnly(ctx, 'Greater'), GreaterEqual: stridedOnly(ctx, 'GreaterEqual'),
    Exp: unary(ctx, 'Exp'), Tanh: unary(ctx, 'Tanh'), GeluTanh: unary(ctx, 'GeluTanh'), GeluErf: unary(ctx, 'GeluErf'),
    Relu: unary(ctx, 'Relu'),
    GeluGrad: (x, dy, out, approximate) => {
      if (out.length < min || !ctx.mem.holds(x, dy, out)) return wasmGeluGrad(x, dy, out, approximate);
      enter(ctx);
      ctx.addon.geluGrad(ptr(x), ptr(dy), ptr(out), out.length, approximate ? 1 : 0);
    },
  };
}
