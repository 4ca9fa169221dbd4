// The WebAssembly backend's allocator: one WebAssembly.Memory, so tensors live where WebAssembly kernels can
// compute on them in place: a kernel gets a typed array whose byteOffset is its pointer.
// First-fit over a free list sorted by address, neighbours merged on free, 64-byte aligned
// (a cache line; also what 128-bit SIMD wants). The memory grows on demand; a grow detaches
// the old ArrayBuffer, so views are re-made from `memory.buffer` when it has changed.
import { BYTES_PER_ELEMENT, type DType, type TypedArray } from '../../core/dtype.js';
import { MemoryError } from '../../core/errors.js';
import type { Allocation, Allocator } from '../contract.js';

const PAGE = 65536;
const ALIGN = 64;

interface Block { start: number; size: number }

export interface HeapStats {
  /** Bytes of the WebAssembly memory. */
  capacity: number;
  /** Bytes handed out and not yet freed. */
  used: number;
  /** Free blocks below the top. */
  freeBlocks: number;
}

export class HeapAllocator implements Allocator {
  readonly memory: WebAssembly.Memory;
  private free: Block[] = []; // sorted by start, never adjacent
  private top: number; // everything at or above is free
  private used = 0;

  private readonly poison: boolean;

  /**
   * `reserved` bytes at the bottom are kept for the WebAssembly module's own data and stack.
   * `poison` fills every new allocation with NaN, so a kernel that reads memory it has not
   * written shows up in tests.
   */
  constructor(options: { memory?: WebAssembly.Memory; initialPages?: number; maximumPages?: number; reserved?: number; poison?: boolean } = {}) {
    this.poison = options.poison ?? false;
    this.memory = options.memory ?? new WebAssembly.Memory({ initial: options.initialPages ?? 16, maximum: options.maximumPages ?? 65536 });
    this.top = align(options.reserved ?? ALIGN);
  }

  stats(): HeapStats {
    return { capacity: this.memory.buffer.byteLength, used: this.used, freeBlocks: this.free.length };
  }

  allocate(dtype: DType, length: number): Allocation {
    const bytes = Math.max(ALIGN, align(length * BYTES_PER_ELEMENT[dtype]));
    const start = this.take(bytes);
    this.used += bytes;
    if (this.poison) new Float32Array(this.memory.buffer, start, bytes / 4).fill(NaN);
    let view: TypedArray | null = null;
    let freed = false;
    return {
      view: () => {
        if (freed) throw new MemoryError('use of freed heap memory');
        if (!view || view.buffer !== this.memory.buffer) {
          view = dtype === 'float32' ? new Float32Array(this.memory.buffer, start, length) : new Int32Array(this.memory.buffer, start, length);
        }
        return view;
      },
      free: () => {
        if (freed) return;
        freed = true;
        view = null;
        this.used -= bytes;
        this.give(start, bytes);
      },
    };
  }

  private take(bytes: number): number {
    for (let i = 0; i < this.free.length; i++) {
      const b = this.free[i]!;
      if (b.size < bytes) continue;
      const start = b.start;
      if (b.size === bytes) this.free.splice(i, 1);
      else { b.start += bytes; b.size -= bytes; }
      return start;
    }
    const start = this.top;
    const need = start + bytes;
    const have = this.memory.buffer.byteLength;
    if (need > have) {
      try {
        this.memory.grow(Math.ceil((need - have) / PAGE));
      } catch {
        throw new MemoryError(`out of WebAssembly memory: cannot grow to ${need} bytes`);
      }
    }
    this.top = need;
    return start;
  }

  private give(start: number, size: number): void {
    // insert sorted, then merge with neighbours; a block that reaches the top lowers it
    let i = 0;
    while (i < this.free.length && this.free[i]!.start < start) i++;
    this.free.splice(i, 0, { start, size });
    const next = this.free[i + 1];
    if (next && start + size === next.start) {
      this.free[i]!.size += next.size;
      this.free.splice(i + 1, 1);
    }
    const prev = this.free[i - 1];
    if (prev && prev.start + prev.size === start) {
      prev.size += this.free[i]!.size;
      this.free.splice(i, 1);
      i--;
    }
    const last = this.free[this.free.length - 1];
    if (last && last.start + last.size === this.top) {
      this.top = last.start;
      this.free.pop();
    }
  }
}

function align(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}
