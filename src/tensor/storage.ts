// A buffer shared by a tensor and its views, reference-counted. The memory comes from a
// backend's allocator (the default backend's unless one is named) and the storage remembers
// which: kernels are dispatched by that owner, so a WebAssembly heap, a plain array and a GPU
// buffer can live side by side. `version` counts in-place writes (autograd checks it).
import { BYTES_PER_ELEMENT, type DType, type TypedArray } from '../core/dtype.js';
import { MemoryError } from '../core/errors.js';
import type { Allocation, Backend } from '../kernels/contract.js';
import { getBackend } from '../kernels/registry.js';
import { state } from './engine.js';

export class Storage {
  private refs = 1;
  private allocation: Allocation | null;
  version = 0;
  readonly bytes: number;

  constructor(
    readonly dtype: DType,
    readonly length: number,
    /** The backend whose allocator made this buffer; its kernels compute on it. */
    readonly backend: Backend = getBackend(),
  ) {
    this.allocation = backend.allocator.allocate(dtype, length);
    this.bytes = length * BYTES_PER_ELEMENT[dtype];
    state.storages++;
    state.bytes += this.bytes;
    if (state.bytes > state.peakBytes) state.peakBytes = state.bytes;
  }

  /**
   * The handle kernels get: the typed array on a host backend (re-read it after anything that may
   * grow memory), the backend's own buffer object on a device (never read it in JavaScript).
   */
  get data(): TypedArray {
    if (!this.allocation) throw new MemoryError('use of a freed buffer');
    return this.allocation.view();
  }

  get refCount(): number {
    return this.refs;
  }

  retain(): void {
    this.refs++;
  }

  release(): void {
    if (--this.refs > 0) return;
    this.allocation?.free();
    this.allocation = null;
    state.storages--;
    state.bytes -= this.bytes;
  }
}
