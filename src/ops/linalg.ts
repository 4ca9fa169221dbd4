// Matrix multiply with torch.matmul semantics: 1-D operands are vectors, leading dims are
// batch dims that broadcast. Transposed views are passed to the kernel as flags, not copied.
import { OpError, shapeStr } from '../core/errors.js';
import { broadcastShapes, broadcastStrides, contiguousStrides, sizeOf } from '../core/shape.js';
import { kernel } from '../kernels/registry.js';
import { record } from '../tensor/autograd.js';
import { tidy } from '../tensor/engine.js';
import { Tensor } from '../tensor/tensor.js';
import { addToFresh } from './elementwise.js';
import { checkDtype, checkTensor, ownerOf } from './util.js';
import { reshape, squeeze, transpose, unsqueeze } from './views.js';

export function matmul(a: Tensor, b: Tensor): Tensor {
  checkTensor('matmul', a, 'first input');
  checkTensor('matmul', b, 'second input');
  checkDtype('matmul', a, 'float32', 'first input');
  checkDtype('matmul', b, 'float32', 'second input');
  if (a.rank === 0 || b.rank === 0) throw new OpError('matmul', `both inputs need at least 1 dimension, got ${shapeStr(a.shape)} and ${shapeStr(b.shape)}`);
  if (a.rank === 1 || b.rank === 1) {
    // vectors: make them matrices, multiply, drop the added axis
    return tidy(() => {
      const a2 = a.rank === 1 ? unsqueeze(a, 0) : a;
      const b2 = b.rank === 1 ? unsqueeze(b, 1) : b;
      const y = matmul(a2, b2);
      return squeeze(y, [...(a.rank === 1 ? [-2] : []), ...(b.rank === 1 ? [-1] : [])]);
    });
  }
  return product(a, b, null);
}

/**
 * a @ b (+ bias over the last axis) for a and b of rank 2 or more: one MatMul call, the bias (a
 * Linear's, contiguous [n]) added by the kernel as the product's sums become whole.
 */
function product(a: Tensor, b: Tensor, bias: Tensor | null): Tensor {
  const [m, k] = a.shape.slice(-2) as [number, number];
  const [k2, n] = b.shape.slice(-2) as [number, number];
  if (k !== k2) throw new OpError('matmul', `shapes ${shapeStr(a.shape)} and ${shapeStr(b.shape)} cannot be multiplied (${k} != ${k2})`);
  const batchShape = broadcastShapes('matmul', a.shape.slice(0, -2), b.shape.slice(0, -2));
  const be = bias ? ownerOf('linear', a, b, bias) : ownerOf('matmul', a, b);
  const y = Tensor.empty([...batchShape, m, n], 'float32', be);
  const batch = sizeOf(batchShape);
  const A = operand(a, batchShape);
  const B = operand(b, batchShape);
  // a stack of matrices against one shared B (x @ Wᵀ over [batch, time, features]) whose rows run
  // on from one matrix to the next is one tall product of batch·m rows, and y [batch, m, n] is
  // its [batch·m, n] result as laid out: the GEMM then blocks across the stack instead of tiling
  // each (say 64-row) matrix alone. Every element sums the same k products in the same order.
  const tall = batch > 1 && B.batchStride === 0 && !A.trans && A.batchStride === m * k;
  kernel('MatMul', be)({
    a: A.t.storage.data, aOffset: A.t.offset, aBatchStride: tall ? 0 : A.batchStride, transA: A.trans,
    b: B.t.storage.data, bOffset: B.t.offset, bBatchStride: B.batchStride, transB: B.trans,
    out: y.buffer() as Float32Array, batch: tall ? 1 : batch, m: tall ? batch * m : m, n, k,
    ...(bias ? { bias: { data: bias.storage.data, offset: bias.offset } } : {}),
  });
  if (A.t !== a) A.t.dispose();
  if (B.t !== b) B.t.dispose();
  // dA = g @ B^T, dB = A^T @ g, dbias = g (the walker sums broadcast batch dims, and the bias's rows, back)
  return record(bias ? 'linear' : 'matmul', bias ? [a, b, bias] : [a, b], y, (g, [a, b], needs) => [
    needs[0] ? matmul(g, transpose(b!)) : null,
    needs[1] ? (b!.rank === 2 ? weightGrad(a!, b!, g) : matmul(transpose(a!), g)) : null,
    ...(bias ? [needs[2] ? g : null] : []),
  ], [a, b]);
}

/**
 * dB for a 2-D B shared by every row of A (x @ W over [batch, time, features]): Σ_t A[t]ᵀ g[t]
 * is one product of the stacked rows, (rows × k)ᵀ (rows × n), instead of a product per matrix
 * and a sum over the batch afterwards. When B is a transposed view (a Linear's x @ Wᵀ), the
 * product is taken as (gᵀ A)ᵀ, so it lands in W's own row-major layout and reaches W.grad
 * without a transposing copy (the same sums, taken over the same rows) — unless W has fewer
 * than 32 inputs (a LoRA lora_B [out, r]): then that product would be n-skinny for the GEMM
 * and the copy it saves is small.
 */
function weightGrad(a: Tensor, b: Tensor, g: Tensor): Tensor {
  return tidy(() => {
    const a2 = a.rank > 2 ? reshape(a, [-1, a.shape[a.rank - 1]!]) : a;
    const g2 = g.rank > 2 ? reshape(g, [-1, g.shape[g.rank - 1]!]) : g;
    const transposed = b.strides[0] === 1 && b.strides[1] === b.shape[0] && b.shape[0]! >= 32 && b.shape[1]! > 1;
    return transposed ? transpose(matmul(transpose(g2), a2)) : matmul(transpose(a2), g2);
  });
}

interface Operand { t: Tensor; trans: boolean; batchStride: number }

/**
 * How the kernel reads one operand: as-is when its matrices are row-major or transposed
 * (strides (c,1) or (1,r)) and its batch dims are one uniform stride or broadcast; else a copy.
 */
function operand(x: Tensor, batchShape: readonly number[]): Operand {
  const r = x.rank;
  const [rows, cols] = [x.shape[r - 2]!, x.shape[r - 1]!];
  const [sr, sc] = [x.strides[r - 2]!, x.strides[r - 1]!];
  const rowMajor = sc === 1 && (sr === cols || rows === 1);
  const colMajor = sr === 1 && (sc === rows || cols === 1) && !rowMajor;
  const batch = sizeOf(batchShape);
  if (rowMajor || colMajor) {
    const uniform = uniformBatchStride(x, batchShape);
    if (uniform !== null) return { t: x, trans: colMajor, batchStride: batch === 1 ? 0 : uniform };
  }
  // fall back to a contiguous copy broadcast over the batch
  const full = [...batchShape, rows, cols];
  const c = Tensor.empty(full, 'float32', x.backend);
  kernel('Copy', x.backend)({ data: x.storage.data, offset: x.offset, strides: broadcastStrides(x.shape, x.strides, full) },
    { data: c.buffer(), offset: 0, strides: c.strides }, full);
  return { t: c, trans: false, batchStride: rows * cols };
}

/** The single stride that steps from one batch matrix to the next, 0 if broadcast, or null. */
function uniformBatchStride(x: Tensor, batchShape: readonly number[]): number | null {
  const own = x.shape.slice(0, -2);
  const lead = batchShape.length - own.length;
  // every batch dim of x broadcast (or absent): stride 0
  if (own.every((d) => d === 1)) return 0;
  // x's batch dims must equal the broadcast batch dims and be laid out contiguously
  if (lead !== 0 || own.some((d, i) => d !== batchShape[i])) return null;
  const inner = x.strides[x.rank - 3]!;
  const expect = contiguousStrides(own).map((s) => s * inner);
  return own.every((d, i) => d === 1 || x.strides[i] === expect[i]) ? inner : null;
}

/** x @ W^T + b, the linear layer of PyTorch (W: [out, in]). */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  checkTensor('linear', x);
  checkTensor('linear', weight, 'weight');
  if (weight.rank !== 2 || x.shape[x.rank - 1] !== weight.shape[1]) {
    throw new OpError('linear', `input ${shapeStr(x.shape)} does not match weight ${shapeStr(weight.shape)} (last dim must be ${weight.shape[1]})`);
  }
  if (bias && (bias.rank !== 1 || bias.shape[0] !== weight.shape[0])) {
    throw new OpError('linear', `bias ${shapeStr(bias.shape)} does not match weight ${shapeStr(weight.shape)}`);
  }
  // the bias in the product's kernel call where it is a plain float32 [n] (one call, C written once);
  // else the product, then the add
  const fused = bias && x.rank >= 2 && bias.dtype === 'float32' && bias.strides[0] === 1 && x.dtype === 'float32' && weight.dtype === 'float32' &&
    ownerOf('linear', x, weight, bias).matmulBias === true;
  return tidy(() => {
    if (fused) return product(x, transpose(weight), bias);
    const y = matmul(x, transpose(weight));
    return bias ? addToFresh(y, bias) : y; // y is this call's own product
  });
}
