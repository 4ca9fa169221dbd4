// MaxPool and MaxPoolGrad on native (native/src/maxpool.h): rows in pieces across the pool, each
// row computed alone, so the thread count never changes a result. The C++ never writes outside a
// row (it checks each index); arrays outside the heap and small calls go to wasm.
import type { KernelSignatures } from '../contract.js';
import { ptr } from '../wasm/util.js';
import { enter, fall, type NativeContext } from './context.js';

/** Below this many elements a call stays on wasm (the Node-API crossing costs more than it saves). */
const MIN_ELEMENTS = 4096;

export function maxPoolKernels(ctx: NativeContext): Pick<KernelSignatures, 'MaxPool' | 'MaxPoolGrad'> {
  const { addon, mem } = ctx;
  const wasmPool = fall(ctx, 'MaxPool');
  const wasmGrad = fall(ctx, 'MaxPoolGrad');
  const big = (n: number): boolean => ctx.tiny || n >= MIN_ELEMENTS;
  return {
    MaxPool: (x, rows, cols, values, indices) => {
      if (!big(rows * cols) || cols < 1 || !mem.holds(x, values) || !mem.holdsInt32(indices) || x.length < rows * cols ||
        values.length < rows || indices.length < rows) {
        return wasmPool(x, rows, cols, values, indices);
      }
      enter(ctx);
      addon.maxPool(ptr(x), rows, cols, ptr(values), ptr(indices));
    },
    // the C++ checks each index itself (a row whose index is outside it stays 0)
    MaxPoolGrad: (dy, indices, rows, cols, dx) => {
      if (!big(rows * cols) || !mem.holds(dy, dx) || !mem.holdsInt32(indices) || dy.length < rows || indices.length < rows ||
        dx.length < rows * cols) {
        return wasmGrad(dy, indices, rows, cols, dx);
      }
      enter(ctx);
      addon.maxPoolGrad(ptr(dy), ptr(indices), rows, cols, ptr(dx));
    },
  };
}
