// Gather, ScatterAdd, Where and Fill on wasm (asm/gather.ts). Ids must be an Int32Array in the
// module's memory too, and are checked here to be rows of the table, so the kernel never reads
// or writes outside it. Gather and Fill move 32-bit elements of either dtype; Where takes the
// dense case (cond dense or one row repeated along the leading axes, as a mask [L, S] against
// [B, H, L, S]; a and b each dense or a single value; out of a's and b's dtype). Anything else
// (general broadcasting, mixed dtypes, arrays outside the memory, tiny calls) goes to the reference.
import type { KernelSignatures } from '../contract.js';
import { fill as refFill, where as refWhere } from '../ref/elementwise.js';
import { gather as refGather, scatterAdd as refScatterAdd } from '../ref/gather.js';
import type { WasmKernels } from './module.js';
import { isDense, isScalar, ptr, rowLength, type MemoryBuffer } from './util.js';

/** Below these many elements the reference's loop is as fast as the call into wasm. */
const MIN_ELEMENTS = 16;
const MIN_WHERE = 32;

/** True when every id is a row of a table of `rows` rows. */
function idsOk(ids: Int32Array, rows: number): boolean {
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (id < 0 || id >= rows) return false;
  }
  return true;
}

export function gatherKernels(w: WasmKernels, mem: MemoryBuffer, tiny: boolean): Pick<KernelSignatures, 'Gather' | 'ScatterAdd' | 'Where' | 'Fill'> {
  const min = tiny ? 0 : MIN_ELEMENTS;
  const minWhere = tiny ? 0 : MIN_WHERE;
  // a float32 value's bits, for fill32
  const f32 = new Float32Array(1);
  const bits = new Int32Array(f32.buffer);
  return {
    Gather: (table, cols, ids, out) => {
      const count = ids.length;
      if (count * cols < min || cols <= 0 || !mem.holds32(table, out) || !mem.holdsInt32(ids) || table.constructor !== out.constructor ||
        out.length < count * cols || !idsOk(ids, Math.floor(table.length / cols))) {
        return refGather(table, cols, ids, out);
      }
      w.gather(ptr(table as Float32Array), cols, ptr(ids), count, ptr(out as Float32Array));
    },
    ScatterAdd: (src, cols, ids, out) => {
      const count = ids.length;
      if (count * cols < min || cols <= 0 || !mem.holds(src, out) || !mem.holdsInt32(ids) || src.length < count * cols ||
        !idsOk(ids, Math.floor(out.length / cols))) {
        return refScatterAdd(src, cols, ids, out);
      }
      w.scatter_add(ptr(src), cols, ptr(ids), count, ptr(out));
    },
    Fill: (out, value) => {
      if (out.length < min || !mem.holds32(out)) return refFill(out, value);
      if (out instanceof Float32Array) {
        f32[0] = value;
        w.fill32(ptr(out), bits[0]!, out.length);
      } else {
        w.fill32(ptr(out as Int32Array), value | 0, out.length); // | 0 is ToInt32, what Int32Array#fill stores
      }
    },
    Where: (cond, a, b, shape, out) => {
      const n = out.length;
      const c = cond.data;
      if (n < minWhere || !mem.holds32(c, a.data, b.data, out) || a.data.constructor !== out.constructor ||
        b.data.constructor !== out.constructor) {
        return refWhere(cond, a, b, shape, out);
      }
      const aStep = isDense(a, shape) ? 1 : isScalar(a) ? 0 : -1;
      const bStep = isDense(b, shape) ? 1 : isScalar(b) ? 0 : -1;
      const inner = isDense(cond, shape) ? n : rowLength(cond, shape);
      if (aStep < 0 || bStep < 0 || inner <= 0) return refWhere(cond, a, b, shape, out);
      w.where(ptr(c as Int32Array, cond.offset), inner, c instanceof Float32Array ? 1 : 0, ptr(a.data as Float32Array, a.offset), aStep,
        ptr(b.data as Float32Array, b.offset), bStep, ptr(out as Float32Array), n);
    },
  };
}
