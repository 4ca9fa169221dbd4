// The kernel contract: every kernel's name and signature. Kernels see buffer handles and sizes,
// never a Tensor. A handle is whatever the backend's allocator hands out: on the host backends
// (ref, wasm, native) the typed array itself, so their kernels compute in place and nothing is
// copied; on a device backend (a GPU) an object of its own, which JavaScript cannot read (the
// backend's `read` copies it back, asynchronously). The op layer passes handles through in the
// typed-array slots of these signatures and never reads them, so one signature serves both.
// A backend registers an implementation for some (or all) of these names; the reference backend
// (ref/) implements every one and is the oracle the others are tested against. Outputs are
// always contiguous, row-major, and written in place into `out`.
import type { DType, TypedArray } from '../core/dtype.js';
import type { Shape } from '../core/shape.js';

/** A strided read of a typed array: element (i0, i1, ...) is data[offset + Σ ik * strides[k]]. */
export interface Strided {
  readonly data: TypedArray;
  readonly offset: number;
  readonly strides: readonly number[];
}

export const UNARY_KERNELS = [
  'Neg', 'Exp', 'Log', 'Sqrt', 'Rsqrt', 'Abs', 'Sign', 'Tanh', 'Sigmoid', 'Relu',
  'GeluTanh', 'GeluErf', 'Elu', 'Softplus',
] as const;
export type UnaryKernelName = (typeof UNARY_KERNELS)[number];

export const BINARY_KERNELS = [
  'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Maximum', 'Minimum',
  'Equal', 'NotEqual', 'Less', 'LessEqual', 'Greater', 'GreaterEqual',
] as const;
export type BinaryKernelName = (typeof BINARY_KERNELS)[number];

/** y = f(x) elementwise over `shape`; `param` is the op's scalar (alpha for Elu). */
export type UnaryKernel = (x: Strided, shape: Shape, out: TypedArray, param: number) => void;
/** out = f(a, b) elementwise; a and b are already broadcast to `shape` (stride 0 where stretched). */
export type BinaryKernel = (a: Strided, b: Strided, shape: Shape, out: TypedArray) => void;
/** Reduces each row of a contiguous [rows, cols] array to one value. */
export type ReduceKernel = (x: TypedArray, rows: number, cols: number, out: TypedArray) => void;

export interface MatMulArgs {
  a: TypedArray; aOffset: number; aBatchStride: number; transA: boolean; // a: [batch, m, k] or [batch, k, m] when transA
  b: TypedArray; bOffset: number; bBatchStride: number; transB: boolean; // b: [batch, k, n] or [batch, n, k] when transB
  out: Float32Array; // [batch, m, n], contiguous
  batch: number; m: number; n: number; k: number;
  /**
   * A Linear's bias, [n] from `offset`: out[t, i, j] = (the product's sum) + bias[offset + j], the sum whole before the add
   * (as a product followed by Add, bit for bit), so a backend may fuse it into its GEMM's last writes. Passed only to a
   * backend that says it honours it (Backend.matmulBias: ref, wasm, native, webgpu), so one written before it is never given one.
   */
  bias?: { data: TypedArray; offset: number };
}

export interface Conv1dArgs {
  batch: number; cin: number; cout: number; groups: number;
  length: number; kernel: number; outLength: number;
  stride: number; padLeft: number; dilation: number;
}

export interface AdamWArgs {
  lr: number; beta1: number; beta2: number; eps: number; weightDecay: number;
  /** 1 on the first update (for the bias corrections). */
  step: number;
}

/**
 * Dropout's mask, counter-based: element i is kept (times `scale`) when (h(i) >>> 8) >= threshold, else zeroed,
 * where h(i) = mix(mix(i ^ key0) ^ key1) and mix is Wellons' lowbias32 integer hash. Each element depends
 * only on the key and its index, so any backend, thread count or device gives the same mask bit for bit
 * (kernels/ref/dropout.ts is the definition).
 */
export interface DropoutArgs {
  /** Two 32-bit words drawn from the op's Generator (Generator.dropoutKey()). */
  key0: number; key1: number;
  /** ceil(p · 2^24): the mask keeps an element with probability 1 - p (24 random bits against it). */
  threshold: number;
  /** What a kept element is (1 / (1 - p): inverted dropout). */
  scale: number;
}

export interface SgdArgs {
  lr: number; momentum: number; dampening: number; weightDecay: number; nesterov: boolean;
  /** True on the first update: the momentum buffer starts as the gradient. */
  first: boolean;
}

/**
 * Fused (FlashAttention-style) exact softmax attention over contiguous per-head arrays:
 * q [bh, n, d], k [bh, s, d], v [bh, s, dv], out [bh, n, dv], lse [bh, n]. Query i sits at
 * key position i + (s - n) (a cached past shifts it). Key j is visible to query i unless
 * `causal` and j > i + (s - n), or `window` >= 0 and |i + (s - n) - j| > window, or
 * keyPadding[(b / heads) * s + j] != 0. A query that sees no key gets out = 0, lse = -Infinity.
 * Kernels work on the slices bh0 <= b < bh1 only (threads split that range).
 */
export interface FlashAttentionArgs {
  bh: number; heads: number; n: number; s: number; d: number; dv: number;
  scale: number; causal: boolean; window: number;
  bh0: number; bh1: number;
  /**
   * Attention dropout on the weights: weight (b, i, j) of the [bh, n, s] weights is multiplied by
   * Dropout's mask element (b·n + i)·s + j (DropoutArgs) after the softmax, so the output is
   * exactly dropout(softmax(...)) V with that key; the backward uses the same mask. Null or absent: none.
   */
  dropout?: DropoutArgs | null;
  /**
   * Operands that are views of wider arrays (the heads of a fused projection side by side, as the
   * projection wrote them): element (b, h, i, c) of slice bh = b·heads + h lies at
   * b·batch + h·head + i·row + c of its array. dq, dk and dv lie as q, k and v; dOut has its own.
   * Null or absent: every operand contiguous per head as above. Only a backend with
   * `stridedAttention` is handed a layout.
   */
  layout?: FlashLayout | null;
}

/** Element strides of one attention operand: (b, h, i, c) at b·batch + h·head + i·row + c. */
export interface RowStrides { batch: number; head: number; row: number }
export interface FlashLayout { q: RowStrides; k: RowStrides; v: RowStrides; out: RowStrides; dOut: RowStrides }

/**
 * One decoding step of softmax attention on a KV cache, in place. qkv [batch, 3·heads·d] holds
 * each sequence's new q, k, v side by side (a fused projection's output, one position); the caches
 * [batch·heads, capacity, d] get k and v at position `pos`, then each head's query attends to the
 * cached positions 0..pos: out [batch, heads·d] (heads side by side), with FlashAttention's
 * arithmetic for one query over s = pos + 1 keys.
 */
export interface KVStepArgs {
  batch: number; heads: number; d: number; capacity: number; pos: number; scale: number;
}

export interface KernelSignatures {
  // --- memory
  /** dst[...] = src[...] over `shape` (casts between dtypes). */
  Copy: (src: Strided, dst: Strided, shape: Shape) => void;
  Fill: (out: TypedArray, value: number) => void;
  // --- elementwise
  Neg: UnaryKernel; Exp: UnaryKernel; Log: UnaryKernel; Sqrt: UnaryKernel; Rsqrt: UnaryKernel;
  Abs: UnaryKernel; Sign: UnaryKernel; Tanh: UnaryKernel; Sigmoid: UnaryKernel; Relu: UnaryKernel;
  GeluTanh: UnaryKernel; GeluErf: UnaryKernel; Elu: UnaryKernel; Softplus: UnaryKernel;
  /** dx = dy * gelu'(x); approximate: 1 for the tanh form, 0 for the erf form. */
  GeluGrad: (x: Float32Array, dy: Float32Array, out: Float32Array, approximate: number) => void;
  Add: BinaryKernel; Sub: BinaryKernel; Mul: BinaryKernel; Div: BinaryKernel; Pow: BinaryKernel;
  Maximum: BinaryKernel; Minimum: BinaryKernel;
  Equal: BinaryKernel; NotEqual: BinaryKernel; Less: BinaryKernel; LessEqual: BinaryKernel;
  Greater: BinaryKernel; GreaterEqual: BinaryKernel;
  /** out = cond != 0 ? a : b, all three broadcast to `shape`. */
  Where: (cond: Strided, a: Strided, b: Strided, shape: Shape, out: TypedArray) => void;
  // --- reductions over the last axis of a contiguous [rows, cols] array
  Sum: ReduceKernel; Max: ReduceKernel; Min: ReduceKernel;
  ArgMax: ReduceKernel; ArgMin: ReduceKernel;
  /**
   * Max-pooling over the whole last axis (PyTorch's max_pool1d with the window the row, return_indices):
   * values[r] = max_c x[r, c], indices[r] = its column, the first of equal maxima (a NaN wins, the first one).
   */
  MaxPool: (x: Float32Array, rows: number, cols: number, values: Float32Array, indices: Int32Array) => void;
  /** dx[r, c] = c === indices[r] ? dy[r] : 0 (every element written; an index outside [0, cols) leaves its row 0): the max-pool's gradient. */
  MaxPoolGrad: (dy: Float32Array, indices: Int32Array, rows: number, cols: number, dx: Float32Array) => void;
  /** The k largest of each row, sorted descending (ties: lower index first). */
  TopK: (x: TypedArray, rows: number, cols: number, k: number, values: TypedArray, indices: Int32Array) => void;
  /** Cumulative sum along the middle axis of a contiguous [outer, size, inner] array. */
  Cumsum: (x: TypedArray, outer: number, size: number, inner: number, reverse: boolean, out: TypedArray) => void;
  // --- linear algebra
  MatMul: (args: MatMulArgs) => void;
  // --- normalisation and losses (rows of a contiguous [rows, cols] array)
  Softmax: (x: Float32Array, rows: number, cols: number, out: Float32Array) => void;
  LogSoftmax: (x: Float32Array, rows: number, cols: number, out: Float32Array) => void;
  /** dx = y * (dy - Σ dy*y) for y = softmax(x). */
  SoftmaxGrad: (y: Float32Array, dy: Float32Array, rows: number, cols: number, dx: Float32Array) => void;
  /** dx = dy - exp(y) * Σ dy for y = logSoftmax(x). */
  LogSoftmaxGrad: (y: Float32Array, dy: Float32Array, rows: number, cols: number, dx: Float32Array) => void;
  /** y = (x - mean) * rstd * gamma + beta per row; saves mean and rstd for the gradient. */
  LayerNorm: (x: Float32Array, gamma: Float32Array | null, beta: Float32Array | null, rows: number, cols: number,
    eps: number, y: Float32Array, mean: Float32Array, rstd: Float32Array) => void;
  /** dx, and dgamma/dbeta accumulated (+=) when given. */
  LayerNormGrad: (x: Float32Array, gamma: Float32Array | null, mean: Float32Array, rstd: Float32Array, dy: Float32Array,
    rows: number, cols: number, dx: Float32Array, dgamma: Float32Array | null, dbeta: Float32Array | null) => void;
  /** Per-row loss -Σ q log softmax(x) with q = (1-ε)·onehot(t) + ε/C; 0 where t = ignoreIndex. Saves logsumexp. */
  CrossEntropy: (logits: Float32Array, targets: Int32Array, rows: number, classes: number, ignoreIndex: number,
    smoothing: number, loss: Float32Array, lse: Float32Array) => void;
  /** dlogits = dloss_row * (softmax(x) - q); 0 on ignored rows. */
  CrossEntropyGrad: (logits: Float32Array, targets: Int32Array, lse: Float32Array, dloss: Float32Array, rows: number,
    classes: number, ignoreIndex: number, smoothing: number, dlogits: Float32Array) => void;
  // --- indexing
  /** out[i, :] = table[ids[i], :]. */
  Gather: (table: TypedArray, cols: number, ids: Int32Array, out: TypedArray) => void;
  /** out[ids[i], :] += src[i, :]. */
  ScatterAdd: (src: Float32Array, cols: number, ids: Int32Array, out: Float32Array) => void;
  // --- optimizer updates, in place over a parameter's buffer
  /** Adam/AdamW (PyTorch semantics): decoupled weight decay p *= 1 - lr*wd, then the Adam step. */
  AdamW: (p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, args: AdamWArgs) => void;
  /** SGD with momentum (PyTorch semantics: buf = momentum*buf + (1-dampening)*g, first step buf = g). */
  Sgd: (p: Float32Array, g: Float32Array, buf: Float32Array | null, args: SgdArgs) => void;
  // --- randomness
  /**
   * out[i] = x[i] · (kept(i) ? scale : 0) over contiguous arrays (DropoutArgs): the forward, and the
   * backward on the gradient with the same key, so no mask is ever stored.
   */
  Dropout: (x: Float32Array, out: Float32Array, args: DropoutArgs) => void;
  // --- convolution, PyTorch layout: x [B, Cin, L], w [Cout, Cin/groups, K]
  Conv1d: (x: Float32Array, w: Float32Array, args: Conv1dArgs, out: Float32Array) => void;
  Conv1dGradInput: (dy: Float32Array, w: Float32Array, args: Conv1dArgs, dx: Float32Array) => void;
  Conv1dGradWeight: (dy: Float32Array, x: Float32Array, args: Conv1dArgs, dw: Float32Array) => void;
  // --- linear attention ("Transformers are RNNs", Katharopoulos et al. 2020) over contiguous
  // [bh, n, dk] φ(Q), φ(K) (already feature-mapped) and [bh, n, dv] V; one dk×dv state at a time
  /** Causal: out_i = φq_iᵀ S_i / den_i, S_i = Σ_{j≤i} φk_j v_jᵀ, den_i = φq_i·z_i + eps (written, [bh, n]), z_i = Σ_{j≤i} φk_j. */
  CausalLinearAttention: (phiQ: Float32Array, phiK: Float32Array, v: Float32Array, bh: number, n: number, dk: number,
    dv: number, eps: number, out: Float32Array, den: Float32Array) => void;
  /** The paper's memory-efficient gradient (forward cumsum for φq, reverse for φk and v), through den too; null outputs are skipped. */
  CausalLinearAttentionGrad: (phiQ: Float32Array, phiK: Float32Array, v: Float32Array, out: Float32Array, den: Float32Array,
    dOut: Float32Array, bh: number, n: number, dk: number, dv: number,
    dPhiQ: Float32Array | null, dPhiK: Float32Array | null, dV: Float32Array | null) => void;
  // --- fused softmax attention (FlashAttention: tiles, online softmax, logsumexp saved, O(N) memory)
  /** out = softmax(scale·q kᵀ + masks) v and lse = logsumexp of each masked score row, never an n×s buffer. */
  FlashAttention: (q: Float32Array, k: Float32Array, v: Float32Array, keyPadding: Int32Array | null,
    args: FlashAttentionArgs, out: Float32Array, lse: Float32Array) => void;
  /** dq, dk, dv (overwritten) from dOut, recomputing the weights from q, k and the saved lse. */
  FlashAttentionGrad: (q: Float32Array, k: Float32Array, v: Float32Array, keyPadding: Int32Array | null,
    out: Float32Array, lse: Float32Array, dOut: Float32Array, args: FlashAttentionArgs,
    dq: Float32Array, dk: Float32Array, dv: Float32Array) => void;
  /**
   * KVStepArgs: append the new k, v to the caches and attend (decoding). Optional: a backend may
   * have it (native); ops/kv-attention.ts is used only there, and the reference function in
   * kernels/ref/kv-attention.ts is what tests compare it with.
   */
  KVAttentionStep?: (qkv: Float32Array, kCache: Float32Array, vCache: Float32Array, args: KVStepArgs, out: Float32Array) => void;
  /** One RNN step per bh: S [bh, dk, dv] += φk vᵀ, z [bh, dk] += φk in place; out [bh, dv] = φqᵀ S / (φq·z + eps). */
  LinearAttentionStep: (phiQ: Float32Array, phiK: Float32Array, v: Float32Array, S: Float32Array, z: Float32Array,
    bh: number, dk: number, dv: number, eps: number, out: Float32Array) => void;
}

export type KernelName = keyof KernelSignatures;

/**
 * Memory a backend hands out. `view()` is the handle kernels get: the typed array on a host
 * backend (it may be a new array object after the backing memory grows, as WebAssembly's does,
 * so callers re-read it instead of keeping it), the backend's own buffer object on a device.
 */
export interface Allocation {
  view(): TypedArray;
  free(): void;
}

export interface Allocator {
  allocate(dtype: DType, length: number): Allocation;
}

/**
 * 'host': handles are typed arrays in this process (ref, wasm, native); kernels a host backend
 * lacks run the reference kernel on the same arrays. 'device': handles are opaque (a GPU
 * buffer); every kernel it is asked for must be its own (a missing one is an error naming it,
 * never a silent trip through the CPU), and values cross only through `read` and `write`.
 */
export type BackendKind = 'host' | 'device';

export interface Backend {
  readonly name: string;
  /** Default 'host'. */
  readonly kind?: BackendKind;
  readonly allocator: Allocator;
  readonly kernels: Partial<KernelSignatures>;
  /** Device backends: `length` elements of a buffer from element `offset`, copied to the host once queued work is done. */
  read?(handle: TypedArray, dtype: DType, offset: number, length: number): Promise<TypedArray>;
  /** Device backends: host values written into a buffer at element `offset`, in order with the kernels queued before and after. */
  write?(handle: TypedArray, values: TypedArray, offset: number): void;
  /** FlashAttention and FlashAttentionGrad take FlashAttentionArgs.layout (strided operands, no head permutes). */
  readonly stridedAttention?: boolean;
  /** MatMul honours MatMulArgs.bias: `linear` hands its bias to the product only on such a backend (else the product, then Add). */
  readonly matmulBias?: boolean;
}
