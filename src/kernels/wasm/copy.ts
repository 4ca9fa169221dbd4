// Copy on wasm: strided 32-bit copies (float32 to float32, int32 to int32) between arrays in the
// module's memory, rank <= 8. Casts between dtypes, other arrays and tiny copies go to the reference.
import type { KernelSignatures } from '../contract.js';
import { copy as refCopy } from '../ref/elementwise.js';
import type { WasmKernels } from './module.js';
import type { MemoryBuffer } from './util.js';

const MAX_RANK = 8;
/** Below this many elements the reference's loop is as fast as the call into wasm (measured). */
const MIN_ELEMENTS = 16;

export function copyKernels(w: WasmKernels, mem: MemoryBuffer, tiny: boolean): Pick<KernelSignatures, 'Copy'> {
  const min = tiny ? 0 : MIN_ELEMENTS;
  const paramsAt = w.params();
  let params: Int32Array<ArrayBufferLike> = new Int32Array(0);
  return {
    Copy: (src, dst, shape) => {
      const buf = mem.get(dst.data);
      const s = src.data;
      const d = dst.data;
      const rank = shape.length;
      let size = 1;
      for (let i = 0; i < rank; i++) size *= shape[i]!;
      if (size < min || size === 0 || rank > MAX_RANK || s.buffer !== buf || d.buffer !== buf || s.constructor !== d.constructor) {
        return refCopy(src, dst, shape);
      }
      if (params.buffer !== buf) params = new Int32Array(buf, paramsAt, 4 * MAX_RANK);
      for (let i = 0; i < rank; i++) {
        params[i] = shape[i]!;
        params[MAX_RANK + i] = src.strides[i]!;
        params[2 * MAX_RANK + i] = dst.strides[i]!;
      }
      w.copy(s.byteOffset, src.offset, d.byteOffset, dst.offset, rank);
    },
  };
}
