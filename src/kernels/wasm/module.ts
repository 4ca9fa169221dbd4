// Instantiating qkv's WebAssembly kernels (asm/, built by scripts/build-wasm.mjs) on a memory the
// JS side owns: the module imports `env.memory`, keeps the bottom `reserved()` bytes for its own
// data and GEMM packing scratch, and a HeapAllocator hands out everything above to tensors.
// Nothing here touches files or the network: callers bring the bytes (node.ts reads them from
// disk, index.ts fetches them in a browser).
import { QkvError } from '../../core/errors.js';
import { HeapAllocator } from './heap.js';

/** The two builds: plain 128-bit SIMD, and SIMD + relaxed-SIMD (fused multiply-add). */
export type WasmVariant = 'simd' | 'relaxed-simd';

/** File names of the builds, next to this module in dist/src/kernels/wasm/ (private memory). */
export const WASM_FILES: Record<WasmVariant, string> = {
  'simd': 'kernels-simd.wasm',
  'relaxed-simd': 'kernels-relaxed-simd.wasm',
};

/** The file of a build: `shared` ones import a shared memory (for worker threads). */
export function wasmFile(variant: WasmVariant, shared: boolean): string {
  return shared ? WASM_FILES[variant].replace('.wasm', '-shared.wasm') : WASM_FILES[variant];
}

/** True when this engine can share a WebAssembly.Memory with workers (a page must be cross-origin isolated). */
export function sharedMemorySupported(): boolean {
  if (typeof SharedArrayBuffer === 'undefined') return false;
  const g = globalThis as { crossOriginIsolated?: boolean };
  if (g.crossOriginIsolated === false) return false;
  try {
    return new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }).buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}

/** The module's exports; pointers are byte addresses in the shared memory, sizes are element counts. */
export interface WasmKernels {
  reserved(): number;
  relaxed(): number;
  params(): number;
  copy(src: number, srcOffset: number, dst: number, dstOffset: number, rank: number): void;
  main_scratch(): number;
  flash_scratch_bytes(n: number, s: number, d: number, dv: number): number;
  flash_forward(...args: number[]): void;
  flash_backward(...args: number[]): void;
  scratch_bytes(): number;
  gemm(a: number, aRs: number, aCs: number, aBatch: number, b: number, bRs: number, bCs: number, bBatch: number,
    out: number, ldc: number, cBatch: number, batch: number, m: number, n: number, k: number, scratch: number): void;
  add_vv(a: number, b: number, out: number, n: number): void;
  sub_vv(a: number, b: number, out: number, n: number): void;
  mul_vv(a: number, b: number, out: number, n: number): void;
  div_vv(a: number, b: number, out: number, n: number): void;
  add_vs(a: number, s: number, out: number, n: number): void;
  sub_vs(a: number, s: number, out: number, n: number): void;
  mul_vs(a: number, s: number, out: number, n: number): void;
  div_vs(a: number, s: number, out: number, n: number): void;
  sub_sv(s: number, a: number, out: number, n: number): void;
  div_sv(s: number, a: number, out: number, n: number): void;
  add_vr(a: number, row: number, out: number, n: number, inner: number): void;
  sub_vr(a: number, row: number, out: number, n: number, inner: number): void;
  mul_vr(a: number, row: number, out: number, n: number, inner: number): void;
  div_vr(a: number, row: number, out: number, n: number, inner: number): void;
  sub_rv(row: number, a: number, out: number, n: number, inner: number): void;
  div_rv(row: number, a: number, out: number, n: number, inner: number): void;
  exp(x: number, out: number, n: number): void;
  tanh(x: number, out: number, n: number): void;
  gelu_tanh(x: number, out: number, n: number): void;
  gelu_erf(x: number, out: number, n: number): void;
  relu(x: number, out: number, n: number): void;
  gelu_grad(x: number, dy: number, out: number, n: number, approximate: number): void;
  softmax(x: number, out: number, rows: number, cols: number): void;
  softmax_grad(y: number, dy: number, dx: number, rows: number, cols: number): void;
  layernorm(x: number, gamma: number, beta: number, rows: number, cols: number, eps: number,
    y: number, mean: number, rstd: number): void;
  layernorm_grad(x: number, gamma: number, mean: number, rstd: number, dy: number, rows: number, cols: number,
    dx: number, dgamma: number, dbeta: number): void;
  /** Dropout with its counter-based mask: elements [start, start + n) of x into out (DropoutArgs). */
  dropout(x: number, out: number, start: number, n: number, key0: number, key1: number, threshold: number, scale: number): void;
  adamw(p: number, g: number, m: number, v: number, n: number, beta1: number, oneMinusBeta1: number, beta2: number,
    oneMinusBeta2: number, decay: number, stepSize: number, sqrtC2: number, eps: number): void;
  /** Bytes of scratch causal_linear_attention(_grad) need (16-byte aligned). */
  linear_attention_scratch(dk: number, dv: number): number;
  causal_linear_attention(phiQ: number, phiK: number, v: number, n: number, dk: number, dv: number, eps: number,
    out: number, den: number, scratch: number, bh0: number, bh1: number): void;
  causal_linear_attention_grad(phiQ: number, phiK: number, v: number, out: number, den: number, dOut: number,
    n: number, dk: number, dv: number, dPhiQ: number, dPhiK: number, dV: number, scratch: number, bh0: number, bh1: number): void;
  linear_attention_step(phiQ: number, phiK: number, v: number, S: number, z: number, dk: number, dv: number, eps: number,
    out: number, bh0: number, bh1: number): void;
  log_softmax(x: number, out: number, rows: number, cols: number): void;
  log_softmax_grad(y: number, dy: number, dx: number, rows: number, cols: number): void;
  cross_entropy(logits: number, targets: number, rows: number, classes: number, ignoreIndex: number, smoothing: number,
    loss: number, lse: number): void;
  cross_entropy_grad(logits: number, targets: number, lse: number, dloss: number, rows: number, classes: number,
    ignoreIndex: number, smoothing: number, dlogits: number): void;
  sum_rows(x: number, rows: number, cols: number, out: number): void;
  max_rows(x: number, rows: number, cols: number, out: number): void;
  max_pool(x: number, rows: number, cols: number, values: number, indices: number): void;
  max_pool_grad(dy: number, indices: number, rows: number, cols: number, dx: number): void;
  gather(table: number, cols: number, ids: number, count: number, out: number): void;
  scatter_add(src: number, cols: number, ids: number, count: number, out: number): void;
  fill32(out: number, bits: number, n: number): void;
  where(cond: number, inner: number, condFloat: number, a: number, aStep: number, b: number, bStep: number, out: number, n: number): void;
  im2col(x: number, col: number, batch: number, cin: number, length: number, kernel: number, outLength: number,
    stride: number, padLeft: number, dilation: number): void;
  col2im(dcol: number, dx: number, batch: number, cin: number, length: number, kernel: number, outLength: number,
    stride: number, padLeft: number, dilation: number): void;
  transpose_batched(src: number, dst: number, batch: number, rows: number, cols: number): void;
}

/** A module using the smallest SIMD instruction set the kernels need: () -> v128 (three v128.const, then `op`). */
function probe(op: number[]): Uint8Array<ArrayBuffer> {
  const konst = [0xfd, 0x0c, ...new Array<number>(16).fill(0)];
  const body = [0x00, ...konst, ...konst, ...konst, ...op, 0x0b];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type section: () -> v128
    0x03, 0x02, 0x01, 0x00, // one function of type 0
    0x0a, body.length + 2, 0x01, body.length, ...body, // code section
  ]);
}

/** True when this engine runs 128-bit SIMD (v128.bitselect takes three vectors). */
export function simdSupported(): boolean {
  return WebAssembly.validate(probe([0xfd, 0x52]));
}

/**
 * True when this engine runs relaxed SIMD (f32x4.relaxed_madd). Chrome 114+, Firefox 120+;
 * Node 20 only with --experimental-wasm-relaxed-simd, so the plain SIMD build is used there.
 */
export function relaxedSimdSupported(): boolean {
  return WebAssembly.validate(probe([0xfd, 0x85, 0x02]));
}

/** The best build this engine can run; an error when it has no WebAssembly SIMD at all. */
export function pickVariant(): WasmVariant {
  if (relaxedSimdSupported()) return 'relaxed-simd';
  if (simdSupported()) return 'simd';
  throw new QkvError('wasm backend: this JavaScript engine has no WebAssembly SIMD (needs Node 16.4+, Chrome 91+, Firefox 89+, Safari 16.4+)');
}

export interface WasmInstance {
  kernels: WasmKernels;
  memory: WebAssembly.Memory;
  allocator: HeapAllocator;
  module: WebAssembly.Module;
  /** Whether the memory is shared (a *-shared build), so worker threads can join. */
  shared: boolean;
}

export interface WasmInstanceOptions {
  /** Fill every new tensor allocation with NaN (tests: catches reads of unwritten memory). */
  poison?: boolean;
  /** Initial pages of tensor memory above the module's reserved region (64 KiB each; default 16). */
  initialPages?: number;
}

/** Instantiates a compiled kernel module on a fresh memory (shared for a *-shared build); synchronous. */
export function instantiate(module: WebAssembly.Module, options: WasmInstanceOptions = {}, shared = false): WasmInstance {
  const memory = new WebAssembly.Memory({ initial: 16, maximum: 65536, shared });
  const instance = new WebAssembly.Instance(module, { env: { memory, abort: abortImport } });
  const kernels = instance.exports as unknown as WasmKernels;
  const reserved = kernels.reserved();
  const pages = Math.ceil(reserved / 65536) + (options.initialPages ?? 16);
  if (memory.buffer.byteLength < pages * 65536) memory.grow(pages - memory.buffer.byteLength / 65536);
  const allocator = new HeapAllocator({ memory, reserved, poison: options.poison ?? false });
  return { kernels, memory, allocator, module, shared };
}

// AssemblyScript's abort hook; the kernels are built with --noAssert, so it is never called.
function abortImport(): never {
  throw new QkvError('wasm backend: the kernel module aborted');
}
