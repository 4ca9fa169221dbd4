// Row kernels on native: Softmax, LogSoftmax and their gradients, LayerNorm(+Grad) over
// contiguous [rows, cols] float32 arrays in the heap, rows split across the pool (dgamma/dbeta
// as column sums, each column summed down the rows in order). Anything else goes to wasm.
import type { KernelSignatures } from '../contract.js';
import { ptr } from '../wasm/util.js';
import { addr, enter, fall, type NativeContext } from './context.js';

type Names = 'Softmax' | 'SoftmaxGrad' | 'LogSoftmax' | 'LogSoftmaxGrad' | 'LayerNorm' | 'LayerNormGrad';

/** Below this many elements a call stays on wasm (a decoding step's single row of 128 is cheaper there). */
const MIN_ELEMENTS = 2048;

export function rowKernels(ctx: NativeContext): Pick<KernelSignatures, Names> {
  const { addon, mem } = ctx;
  const w = {
    Softmax: fall(ctx, 'Softmax'), SoftmaxGrad: fall(ctx, 'SoftmaxGrad'), LogSoftmax: fall(ctx, 'LogSoftmax'),
    LogSoftmaxGrad: fall(ctx, 'LogSoftmaxGrad'), LayerNorm: fall(ctx, 'LayerNorm'), LayerNormGrad: fall(ctx, 'LayerNormGrad'),
  };
  const fits = (rows: number, cols: number, ...a: Float32Array[]): boolean =>
    (ctx.tiny || rows * cols >= MIN_ELEMENTS) && a.every((x) => x.length >= rows * cols);
  const big = (rows: number, cols: number): boolean => ctx.tiny || rows * cols >= MIN_ELEMENTS;
  return {
    Softmax: (x, rows, cols, out) => {
      if (!mem.holds(x, out) || !fits(rows, cols, x, out)) return w.Softmax(x, rows, cols, out);
      enter(ctx);
      addon.softmax(ptr(x), ptr(out), rows, cols, 0);
    },
    LogSoftmax: (x, rows, cols, out) => {
      if (!mem.holds(x, out) || !fits(rows, cols, x, out)) return w.LogSoftmax(x, rows, cols, out);
      enter(ctx);
      addon.softmax(ptr(x), ptr(out), rows, cols, 1);
    },
    SoftmaxGrad: (y, dy, rows, cols, dx) => {
      if (!mem.holds(y, dy, dx) || !fits(rows, cols, y, dy, dx)) return w.SoftmaxGrad(y, dy, rows, cols, dx);
      enter(ctx);
      addon.softmaxGrad(ptr(y), ptr(dy), ptr(dx), rows, cols, 0);
    },
    LogSoftmaxGrad: (y, dy, rows, cols, dx) => {
      if (!mem.holds(y, dy, dx) || !fits(rows, cols, y, dy, dx)) return w.LogSoftmaxGrad(y, dy, rows, cols, dx);
      enter(ctx);
      addon.softmaxGrad(ptr(y), ptr(dy), ptr(dx), rows, cols, 1);
    },
    LayerNorm: (x, gamma, beta, rows, cols, eps, y, mean, rstd) => {
      if (!big(rows, cols) || !mem.holds(x, gamma, beta, y, mean, rstd)) return w.LayerNorm(x, gamma, beta, rows, cols, eps, y, mean, rstd);
      enter(ctx);
      addon.layerNorm(ptr(x), addr(gamma), addr(beta), rows, cols, eps, ptr(y), ptr(mean), ptr(rstd));
    },
    LayerNormGrad: (x, gamma, mean, rstd, dy, rows, cols, dx, dgamma, dbeta) => {
      if (!big(rows, cols) || !mem.holds(x, gamma, mean, rstd, dy, dx, dgamma, dbeta)) {
        return w.LayerNormGrad(x, gamma, mean, rstd, dy, rows, cols, dx, dgamma, dbeta);
      }
      enter(ctx);
      addon.layerNormGrad(ptr(x), addr(gamma), ptr(mean), ptr(rstd), ptr(dy), rows, cols, ptr(dx), addr(dgamma), addr(dbeta));
    },
  };
}
