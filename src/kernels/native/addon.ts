// The native addon (native/, C++ built at install by scripts/build-native.mjs): its exports, how
// it is found and loaded, and the one heap it computes on. The addon is one per process (one
// heap pointer, one thread pool, one ISA), so which buffer it is bound to and how many threads it
// runs are kept here, shared by every native backend of the process.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What native/src/addon.cc exports. Offsets are bytes into the bound heap (-1 = null); strides are elements. */
export interface NativeAddon {
  /** QKV_NATIVE_ISA as the addon saw it at load ('' when unset). */
  readonly forcedIsa: string;
  isas(): string[];
  isa(): string;
  setIsa(name: string): boolean;
  setThreads(n: number): void;
  threads(): number;
  /** What the pool did since it (re)started: jobs run on the workers, busy-detection windows closed and those where the caller waited for a CPU, jobs started while busy, and those long enough to wake the workers. */
  poolStats(): { jobs: number; windows: number; busyWindows: number; busyJobs: number; lateWakes: number };
  setMemory(bytes: Uint8Array): number;
  gemm(a: number, aRs: number, aCs: number, aBatch: number, b: number, bRs: number, bCs: number, bBatch: number,
    c: number, ldc: number, cBatch: number, batch: number, m: number, n: number, k: number, bias?: number): void;
  /** The vector FMA throughput of the ISA in use on the pool's threads, GFLOP/s (register-only multiply-add chains for about `ms`). */
  fmaPeak(ms: number): number;
  unary(op: number, x: number, out: number, n: number): void;
  geluGrad(x: number, dy: number, out: number, n: number, approximate: number): void;
  binary(op: number, form: number, a: number, b: number, out: number, n: number, inner: number): void;
  adamw(p: number, g: number, m: number, v: number, n: number, b1: number, b1c: number, b2: number, b2c: number,
    decay: number, stepSize: number, sqrtC2: number, eps: number): void;
  /** Dropout with its counter-based mask over n floats at byte offsets x, out (DropoutArgs). */
  dropout(x: number, out: number, n: number, key0: number, key1: number, threshold: number, scale: number): void;
  layerNorm(x: number, gamma: number, beta: number, rows: number, cols: number, eps: number, y: number, mean: number, rstd: number): void;
  layerNormGrad(x: number, gamma: number, mean: number, rstd: number, dy: number, rows: number, cols: number,
    dx: number, dgamma: number, dbeta: number): void;
  softmax(x: number, out: number, rows: number, cols: number, log: number): void;
  softmaxGrad(y: number, dy: number, dx: number, rows: number, cols: number, log: number): void;
  /** One decoding step of attention on a KV cache (KVStepArgs): byte offsets, then sizes. */
  kvStep(qkv: number, kCache: number, vCache: number, out: number, batch: number, heads: number, d: number, capacity: number, pos: number, scale: number): void;
  flash(q: number, k: number, v: number, pad: number, out: number, lse: number, dOut: number, dq: number, dk: number, dv: number,
    heads: number, n: number, s: number, d: number, dvDim: number, scale: number, causal: number, window: number,
    bh0: number, bh1: number, backward: boolean,
    /** Attention dropout (FlashAttentionArgs.dropout), all four or none. */
    dropKey0?: number, dropKey1?: number, dropThreshold?: number, dropScale?: number,
    /** FlashAttentionArgs.layout: (batch, head, row) strides of q, k, v, out and dOut, all fifteen or none. */
    ...layout: number[]): void;
  /** which: 0 forward (x, w -> y), 1 grad-input (dy, w -> dx), 2 grad-weight (dy, x -> dw). */
  conv1d(which: number, in0: number, in1: number, out: number, batch: number, cin: number, cout: number, groups: number,
    length: number, kernel: number, outLength: number, stride: number, padLeft: number, dilation: number): void;
  /** out = a op b over [n0, n1, n2, n3] at element strides (0 = broadcast); types: bit 1 a int32, 2 b int32, 4 out int32. */
  binaryStrided(op: number, types: number, a: number, b: number, out: number, n0: number, n1: number, n2: number, n3: number,
    sa0: number, sa1: number, sa2: number, sa3: number, sb0: number, sb1: number, sb2: number, sb3: number): void;
  /** dst = src, 32-bit elements over `rank` axes (<= 8): the sizes, then src's strides, then dst's (elements). */
  copyStrided(src: number, dst: number, rank: number, ...axes: number[]): void;
  /** n 32-bit elements at out set to `word` (a float32's bits, or an int32; as an unsigned 32-bit number). */
  fill32(out: number, n: number, word: number): void;
  /** out = cond != 0 ? a : b (32-bit words) over [n0..n3] with the strides of cond, a and b: 4 sizes then 4 strides each. */
  whereStrided(cond: number, condFloat: number, a: number, b: number, out: number, ...axes: number[]): void;
  crossEntropy(logits: number, targets: number, rows: number, classes: number, ignoreIndex: number, smoothing: number,
    loss: number, lse: number): void;
  crossEntropyGrad(logits: number, targets: number, lse: number, dloss: number, rows: number, classes: number, ignoreIndex: number,
    smoothing: number, dlogits: number): void;
  /** 32-bit rows: out[i, :] = table[ids[i], :]; ids already checked. */
  gather(table: number, cols: number, ids: number, count: number, out: number): void;
  /** out[ids[i], :] += src[i, :] in id order; ids already checked. */
  scatterAdd(src: number, cols: number, ids: number, count: number, out: number): void;
  /** Max-pool over each whole row of [rows, cols]: values and int32 indices (the first maximum). */
  maxPool(x: number, rows: number, cols: number, values: number, indices: number): void;
  /** dx = 0 but dx[r, indices[r]] = dy[r]; an index outside its row leaves the row 0. */
  maxPoolGrad(dy: number, indices: number, rows: number, cols: number, dx: number): void;
  /** Causal linear attention over [bh, n, dk|dv]: forward writes out and den; backward (dOut given) dq, dk, dv (-1 = skipped). */
  linearAttention(q: number, k: number, v: number, out: number, den: number, dOut: number, dq: number, dk: number, dv: number,
    bh: number, n: number, dkDim: number, dvDim: number, eps: number, backward: boolean): void;
}

/** Where the build puts qkv_native.node and, when it could not build it, build-note.txt (QKV_NATIVE_DIR overrides). */
export function nativeDir(): string {
  return process.env['QKV_NATIVE_DIR'] || fileURLToPath(new URL('.', import.meta.url));
}

let loaded: { addon: NativeAddon | null; reason: string } | null = null;

/** The addon, or null with the reason it is missing (the build's note, or the load error). Loaded once. */
export function loadAddon(): { addon: NativeAddon | null; reason: string } {
  if (loaded) return loaded;
  const dir = nativeDir();
  const file = join(dir, 'qkv_native.node');
  const note = join(dir, 'build-note.txt');
  if (!existsSync(file)) {
    const why = existsSync(note) ? readFileSync(note, 'utf8').trim() : `${file} does not exist (run npm run build:native)`;
    loaded = { addon: null, reason: `native addon not built: ${why}` };
  } else {
    try {
      loaded = { addon: createRequire(import.meta.url)(file) as NativeAddon, reason: '' };
    } catch (e) {
      loaded = { addon: null, reason: `native addon did not load: ${(e as Error).message.split('\n')[0]}` };
    }
  }
  return loaded;
}

// The process-wide binding of the addon: the heap buffer it computes on and its thread count.
let boundBuffer: ArrayBufferLike | null = null;
let boundThreads = 0;

/** Points the addon at `buffer` (a heap's current buffer) unless it already is. */
export function bindHeap(addon: NativeAddon, buffer: ArrayBufferLike): void {
  if (buffer === boundBuffer) return;
  addon.setMemory(new Uint8Array(buffer));
  boundBuffer = buffer;
}

/** Runs the addon's pool on `threads` threads (restarting it only when the count changes). */
export function bindThreads(addon: NativeAddon, threads: number): void {
  if (threads === boundThreads) return;
  addon.setThreads(threads);
  boundThreads = threads;
}
