// Shared checks of the wasm kernel wrappers. A wasm kernel can only read and write arrays that
// are views of the module's own memory (a tensor from the wasm backend's allocator is one); any
// other array (a plain JS array from the reference allocator, or a temporary an op made with
// `new Float32Array`) sends the call to the reference kernel instead. Nothing is copied.
import type { Shape } from '../../core/shape.js';
import type { Strided } from '../contract.js';

/**
 * The module's memory buffer, cached: the `WebAssembly.Memory#buffer` getter costs ~30 ns, more
 * than a small kernel. A grow replaces the buffer object: a private memory's old one is detached,
 * a shared memory's old one stays valid but short. On a mismatch the buffer is fetched again, so
 * an array counts as ours only when it is a view of the memory's current buffer (views made
 * before a grow are refused and the call goes to the reference kernel, which is still correct).
 */
export class MemoryBuffer {
  private buf: ArrayBufferLike;
  constructor(private readonly memory: WebAssembly.Memory) {
    this.buf = memory.buffer;
  }

  /** The current buffer; `probe`, an array the caller is about to use, triggers a re-fetch when it is not on the cached one. */
  get(probe?: ArrayBufferView): ArrayBufferLike {
    if (this.buf.byteLength === 0 || (probe && probe.buffer !== this.buf)) this.buf = this.memory.buffer;
    return this.buf;
  }

  /** True when an int32 array (indices, masks) is a view of the module's memory. */
  holdsInt(a: Int32Array): boolean {
    return a.buffer === this.get(a);
  }

  /** True when every given array (nulls skipped) is a Float32Array over the module's memory. */
  holds(...arrays: (ArrayBufferView | null)[]): boolean {
    let buf = this.get();
    for (const a of arrays) {
      if (a === null) continue;
      if (a.buffer !== buf) {
        buf = this.buf = this.memory.buffer;
        if (a.buffer !== buf) return false;
      }
      if (!(a instanceof Float32Array)) return false;
    }
    return true;
  }

  /** True when every given array is an Int32Array over the module's memory (ids, targets). */
  holdsInt32(...arrays: ArrayBufferView[]): boolean {
    const buf = this.get(arrays[0]);
    for (const a of arrays) {
      if (a.buffer !== buf || !(a instanceof Int32Array)) return false;
    }
    return true;
  }

  /** True when every given array is a Float32Array or Int32Array over the module's memory (32-bit moves of either dtype). */
  holds32(...arrays: ArrayBufferView[]): boolean {
    const buf = this.get(arrays[0]);
    for (const a of arrays) {
      if (a.buffer !== buf || !(a instanceof Float32Array || a instanceof Int32Array)) return false;
    }
    return true;
  }
}


/** The byte address of element `offset` of a 32-bit array (float32, or int32 ids) that lives in the module's memory. */
export function ptr(a: Float32Array | Int32Array, offset = 0): number {
  return a.byteOffset + 4 * offset;
}

/** True when x walks memory in row-major order from its offset (no index table needed). */
export function isDense(x: Strided, shape: Shape): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && x.strides[i] !== expected) return false;
    expected *= shape[i]!;
  }
  return true;
}

/**
 * The length of the repeated row when x is a dense block broadcast along its leading axes (a bias
 * against [..., n]: strides [0, ..., 0, 1]): trailing axes dense, leading ones stride 0; else 0.
 */
export function rowLength(x: Strided, shape: Shape): number {
  let inner = 1;
  let i = shape.length - 1;
  for (; i >= 0; i--) {
    if (shape[i] !== 1 && x.strides[i] !== inner) break;
    inner *= shape[i]!;
  }
  for (; i >= 0; i--) if (shape[i] !== 1 && x.strides[i] !== 0) return 0;
  return inner;
}

/** True when every stride is 0 (one value broadcast everywhere). */
export function isScalar(x: Strided): boolean {
  return x.strides.every((s) => s === 0);
}
