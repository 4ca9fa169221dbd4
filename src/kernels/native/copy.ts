// Copy and Fill on native: strided 32-bit copies (float32 to float32, int32 to int32) in the heap,
// up to 8 axes after merging, split into pieces of rows across the pool, and 32-bit fills in pieces
// (native/src/copy.h). Attention's head permutes (B, T, 3, H, d) -> (3, B, H, T, d) and back are the
// large copies of a training step, an embedding gradient's zeroing the large fill; on wasm they ran
// on the calling thread only. Casts, other arrays and small calls go to wasm.
import type { KernelSignatures } from '../contract.js';
import { ptr } from '../wasm/util.js';
import { enter, fall, type NativeContext } from './context.js';
import { mergeAxesUpTo } from './elementwise.js';

/** Below this many elements wasm's loop (no crossing into C++, no pool) is as fast. */
const MIN_COPY = 8192;
/** Fills below this many elements stay on wasm (a memset of 64 KiB costs about the crossing). */
const MIN_FILL = 16384;
const MAX_RANK = 8;

export function copyKernels(ctx: NativeContext): Pick<KernelSignatures, 'Copy' | 'Fill'> {
  const wasm = fall(ctx, 'Copy');
  const wasmFill = fall(ctx, 'Fill');
  const word = new Float32Array(1);
  const wordBits = new Uint32Array(word.buffer);
  const min = ctx.tiny ? 1 : MIN_COPY;
  const minFill = ctx.tiny ? 1 : MIN_FILL;
  return {
    Copy: (src, dst, shape) => {
      let size = 1;
      for (const d of shape) size *= d;
      if (size < min || src.data.constructor !== dst.data.constructor || !ctx.mem.holds32(src.data, dst.data)) return wasm(src, dst, shape);
      const m = mergeAxesUpTo(MAX_RANK, shape, src.strides, dst.strides);
      if (!m || m.n.length === 0) return wasm(src, dst, shape);
      enter(ctx);
      ctx.addon.copyStrided(ptr(src.data, src.offset), ptr(dst.data, dst.offset), m.n.length, ...m.n, ...m.s[0]!, ...m.s[1]!);
    },
    Fill: (out, value) => {
      if (out.length < minFill || !ctx.mem.holds32(out)) return wasmFill(out, value);
      // the element's 32 bits: the float32 rounding of value, or ToInt32 (what Int32Array#fill stores)
      if (out instanceof Float32Array) word[0] = value;
      else wordBits[0] = value | 0;
      enter(ctx);
      ctx.addon.fill32(ptr(out as Float32Array), out.length, wordBits[0]!);
    },
  };
}
