// The loop a kernel worker thread runs (Node worker_threads or a browser Web Worker): it
// instantiates the same kernel module on the same shared memory, marks itself ready, then waits
// for jobs the main thread posts into its control slot (see threads.ts) and calls the named export.
// Browser-safe: no Node imports; worker-node.ts and worker-web.ts only deliver `WorkerData`.

/** What the main thread hands a worker when it starts it. */
export interface WorkerData {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  /** Byte address of this worker's control slot (SLOT_BYTES, in the shared memory). */
  slot: number;
  /** Exports a job may name, by index. */
  exports: string[];
}

// A slot, in 32-bit words: SEQ (main bumps it to post a job), DONE (the worker writes the job's
// seq back), FN (export index), NARGS, READY (1 once instantiated), ERROR (1 if the job threw);
// float64 arguments from ARGS_BYTE on. Slots are 256 bytes apart: no two workers share a cache line.
export const SLOT_BYTES = 256;
export const SEQ = 0;
export const DONE = 1;
export const FN = 2;
export const NARGS = 3;
export const READY = 4;
export const ERROR = 5;
export const ARGS_BYTE = 64;
export const MAX_ARGS = (SLOT_BYTES - ARGS_BYTE) / 8;
/**
 * How long (ms) the worker polls SEQ before it sleeps in Atomics.wait: jobs come in bursts (a
 * training step runs ~100 products with a little single-threaded work between them), and waking
 * a sleeping thread costs tens of microseconds each time.
 */
const SPIN_MS = 2;

type Kernel = (...args: number[]) => void;

export function serve({ module, memory, slot, exports }: WorkerData): void {
  const instance = new WebAssembly.Instance(module, { env: { memory, abort: () => { throw new Error('kernel module aborted'); } } });
  const fns = exports.map((name) => instance.exports[name] as Kernel);
  const words = new Int32Array(memory.buffer, slot, SLOT_BYTES / 4);
  const args = new Float64Array(memory.buffer, slot + ARGS_BYTE, MAX_ARGS);
  let last = Atomics.load(words, SEQ);
  Atomics.store(words, READY, 1);
  for (;;) {
    let seq = Atomics.load(words, SEQ);
    let since = 0;
    for (let spin = 1; seq === last; spin++) {
      if ((spin & 1023) === 0) {
        const now = performance.now();
        if (since === 0) since = now;
        else if (now - since > SPIN_MS) {
          Atomics.wait(words, SEQ, last);
          since = 0;
        }
      }
      seq = Atomics.load(words, SEQ);
    }
    last = seq;
    const n = words[NARGS]!;
    const a: number[] = new Array<number>(n);
    for (let i = 0; i < n; i++) a[i] = args[i]!;
    try {
      fns[words[FN]!]!(...a);
      words[ERROR] = 0;
    } catch {
      words[ERROR] = 1;
    }
    Atomics.store(words, DONE, seq);
    Atomics.notify(words, DONE);
  }
}
