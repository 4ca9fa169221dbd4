// Elementwise kernels on native: Exp, Tanh, both GELUs and GeluGrad on dense float32, and
// Add/Sub/Mul/Div when both operands are dense or one is a scalar or a repeated row (a bias),
// split into fixed pieces across the pool. Smaller calls and other layouts go to wasm.
import type { BinaryKernel, KernelSignatures, UnaryKernel } from '../contract.js';
import { isDense, isScalar, ptr, rowLength } from '../wasm/util.js';
import { enter, fall, type NativeContext } from './context.js';

/** Below this many elements wasm (one thread, a cheaper call) is as fast. */
const MIN_UNARY = 2048;
const MIN_BINARY = 8192;

// the addon's codes (native/src/kernels.h)
const UNARY = { Exp: 0, Tanh: 1, GeluTanh: 2, GeluErf: 3 } as const;
const BINARY = { Add: 0, Sub: 1, Mul: 2, Div: 3 } as const;
const FORM = { VV: 0, VS: 1, SV: 2, VR: 3, RV: 4 } as const;

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
    const n = out.length;
    if (n >= min && ctx.mem.holds(a.data, b.data, out)) {
      const aDense = isDense(a, shape);
      const bDense = isDense(b, shape);
      const pa = ptr(a.data as Float32Array, a.offset);
      const pb = ptr(b.data as Float32Array, b.offset);
      const po = ptr(out as Float32Array);
      let form = -1;
      let inner = 0;
      if (aDense && bDense) form = FORM.VV;
      else if (aDense && isScalar(b)) form = FORM.VS;
      else if (bDense && isScalar(a)) form = FORM.SV;
      else if (aDense && (inner = rowLength(b, shape)) > 0) form = FORM.VR;
      else if (bDense && (inner = rowLength(a, shape)) > 0) form = FORM.RV;
      if (form >= 0) {
        enter(ctx);
        ctx.addon.binary(op, form, pa, pb, po, n, inner);
        return;
      }
    }
    wasm(a, b, shape, out);
  };
}

type Names = 'Add' | 'Sub' | 'Mul' | 'Div' | 'Exp' | 'Tanh' | 'GeluTanh' | 'GeluErf' | 'GeluGrad';

export function elementwiseKernels(ctx: NativeContext): Pick<KernelSignatures, Names> {
  const min = ctx.tiny ? 0 : MIN_UNARY;
  const wasmGeluGrad = fall(ctx, 'GeluGrad');
  return {
    Add: binary(ctx, 'Add'), Sub: binary(ctx, 'Sub'), Mul: binary(ctx, 'Mul'), Div: binary(ctx, 'Div'),
    Exp: unary(ctx, 'Exp'), Tanh: unary(ctx, 'Tanh'), GeluTanh: unary(ctx, 'GeluTanh'), GeluErf: unary(ctx, 'GeluErf'),
    GeluGrad: (x, dy, out, approximate) => {
      if (out.length < min || !ctx.mem.holds(x, dy, out)) return wasmGeluGrad(x, dy, out, approximate);
      enter(ctx);
      ctx.addon.geluGrad(ptr(x), ptr(dy), ptr(out), out.length, approximate ? 1 : 0);
    },
  };
}
