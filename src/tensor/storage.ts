// A buffer shared by a tensor and its views, reference-counted. The memory comes from the
// active backend's allocator, so a WebAssembly backend can hand out memory its kernels
// compute on in place. `version` counts in-place writes (autograd checks it).
import { BYTES_PER_ELEMENT, type DType, type TypedArray } from '../core/dtype.js';
import { MemoryError } from '../core/errors.js';
import type { Allocation } from '../kernels/contract.js';
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
  ) {
    this.allocation = getBackend().allocator.allocate(dtype, length);
    this.bytes = length * BYTES_PER_ELEMENT[dtype];
    state.storages++;
    state.bytes += this.bytes;
    if (state.bytes > state.peakBytes) state.peakBytes = state.bytes;
  }

  /** The typed array over this buffer; re-read it after anything that may grow memory. */
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
