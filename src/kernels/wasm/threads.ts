// Worker threads for the wasm kernels: one job is split into parts, part 0 runs on the calling
// thread and part t on worker t-1, all on the same shared WebAssembly.Memory, each with its own
// scratch. Posting a part = writing its arguments into the worker's control slot and bumping
// SEQ (Atomics.notify wakes a sleeping worker); the caller then waits for every DONE.
// Workers start lazily on the first parallel call and take work once instantiated, so until then
// (and with threads = 1) everything runs on the calling thread. Browser-safe: the caller passes
// `spawn` (worker_threads in Node, Web Workers in a page).
import { QkvError } from '../../core/errors.js';
import type { HeapAllocator } from './heap.js';
import { ARGS_BYTE, DONE, ERROR, FN, MAX_ARGS, NARGS, READY, SEQ, SLOT_BYTES, type WorkerData } from './worker-loop.js';

/** Exports a worker may be asked to run (by index in this list). */
export const THREAD_EXPORTS = ['gemm', 'flash_forward', 'flash_backward', 'exp', 'tanh', 'gelu_tanh', 'gelu_erf', 'gelu_grad'] as const;
export type ThreadExport = (typeof THREAD_EXPORTS)[number];

/** Starts one worker on `data`; returns something whose lifetime can be ended. */
export type SpawnWorker = (data: WorkerData) => { terminate(): unknown };

export interface ThreadPoolOptions {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  allocator: HeapAllocator;
  /** Threads in all, the calling one included. */
  threads: number;
  /** Per-thread scratch bytes (the module's scratch_bytes()). */
  scratchBytes: number;
  /** The calling thread's scratch (the module's main_scratch()). */
  mainScratch: number;
  spawn: SpawnWorker;
  /** Whether the calling thread may block in Atomics.wait (Node: yes; a page's main thread: no). */
  canBlock: boolean;
}

/** Polls of a worker's DONE before the calling thread sleeps on it (parts are short: it rarely sleeps). */
const SPINS_BEFORE_BLOCKING = 100000;

export class ThreadPool {
  private size: number;
  /** Parts run on worker threads so far (tests and benchmarks read it). */
  workerParts = 0;
  private readonly o: ThreadPoolOptions;
  private workers: { terminate(): unknown }[] = [];
  private slots: number[] = []; // byte address of each worker's slot
  private scratches: number[] = [];
  private seq: number[] = [];
  private ready = 0; // workers known to be ready (they become ready in order of checking)
  private started = false;
  private words: Int32Array | null = null;
  private args: Float64Array | null = null;

  constructor(options: ThreadPoolOptions) {
    this.o = options;
    this.size = Math.max(1, Math.floor(options.threads));
  }

  /** Threads in all, the calling one included (1 once disposed). */
  get threads(): number {
    return this.size;
  }

  /** Threads that can take a part now (1 + ready workers); starts the workers on first use. */
  available(): number {
    if (this.threads === 1) return 1;
    if (!this.started) this.start();
    const words = this.view();
    while (this.ready < this.workers.length && Atomics.load(words, (this.slots[this.ready]! >> 2) + READY) === 1) this.ready++;
    return 1 + this.ready;
  }

  /** Scratch of thread t (0 = the calling thread). */
  scratch(t: number): number {
    return t === 0 ? this.o.mainScratch : this.scratches[t - 1]!;
  }

  /** Waits until every worker is instantiated (tests and benchmarks: measure with all threads). */
  async whenReady(timeoutMs = 10000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.available() < this.threads) {
      if (Date.now() > until) throw new QkvError(`wasm threads: only ${this.available()} of ${this.threads} threads started in ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Runs parts[0] here and parts[t] on worker t-1 (parts.length <= available()), returning when all are done. */
  run(fn: ThreadExport, parts: ArrayLike<number>[], local: (...args: number[]) => void): void {
    const fnIndex = THREAD_EXPORTS.indexOf(fn);
    const words = this.view();
    const args = this.args!;
    for (let t = 1; t < parts.length; t++) {
      const p = parts[t]!;
      if (p.length > MAX_ARGS) throw new QkvError(`wasm threads: ${fn} takes ${p.length} arguments, a slot holds ${MAX_ARGS}`);
      const w = this.slots[t - 1]! >> 2;
      words[w + FN] = fnIndex;
      words[w + NARGS] = p.length;
      const a = (this.slots[t - 1]! + ARGS_BYTE) >> 3;
      for (let i = 0; i < p.length; i++) args[a + i] = p[i]!;
      this.seq[t - 1] = (this.seq[t - 1]! + 1) | 0;
      Atomics.store(words, w + SEQ, this.seq[t - 1]!);
      Atomics.notify(words, w + SEQ);
    }
    this.workerParts += parts.length - 1;
    // even if this thread's part throws, wait for the workers: they write memory the caller frees
    let localError: unknown = null;
    try {
      local(...Array.from(parts[0]!));
    } catch (e) {
      localError = e;
    }
    let failed = false;
    for (let t = 1; t < parts.length; t++) {
      const w = this.slots[t - 1]! >> 2;
      const seq = this.seq[t - 1]!;
      for (let spin = 0; Atomics.load(words, w + DONE) !== seq; spin++) {
        if (this.o.canBlock && spin >= SPINS_BEFORE_BLOCKING) {
          const seen = Atomics.load(words, w + DONE);
          if (seen !== seq) Atomics.wait(words, w + DONE, seen, 1000);
        }
      }
      if (words[w + ERROR] !== 0) failed = true;
    }
    if (localError !== null) throw localError;
    if (failed) throw new QkvError(`wasm threads: ${fn} failed in a worker`);
  }

  /** Ends the workers; the pool then runs everything on the calling thread. */
  dispose(): void {
    for (const w of this.workers) w.terminate();
    this.workers = [];
    this.ready = 0;
    this.size = 1;
  }

  private start(): void {
    this.started = true;
    const n = this.threads - 1;
    // control slots and per-worker scratch live in the shared memory for good (never freed)
    const slotBlock = this.o.allocator.allocate('int32', (n * SLOT_BYTES) / 4);
    const base = slotBlock.view().byteOffset;
    new Int32Array(this.o.memory.buffer, base, (n * SLOT_BYTES) / 4).fill(0);
    for (let i = 0; i < n; i++) {
      this.slots.push(base + i * SLOT_BYTES);
      this.scratches.push(this.o.allocator.allocate('float32', this.o.scratchBytes / 4).view().byteOffset);
      this.seq.push(0);
    }
    this.words = null;
    for (let i = 0; i < n; i++) {
      this.workers.push(this.o.spawn({ module: this.o.module, memory: this.o.memory, slot: this.slots[i]!, exports: [...THREAD_EXPORTS] }));
    }
  }

  /** Views of the shared memory; a grow gives a new (longer) buffer object, the old stays valid. */
  private view(): Int32Array {
    const buf = this.o.memory.buffer;
    if (!this.words || this.words.buffer !== buf) {
      this.words = new Int32Array(buf);
      this.args = new Float64Array(buf);
    }
    return this.words;
  }
}
