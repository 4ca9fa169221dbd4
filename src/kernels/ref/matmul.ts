// Batched matrix multiply, every transpose variant: out[b] = op(a[b]) @ op(b[b]) (+ bias).
// The reference is the plain triple loop (i, p, j order), accumulating a row in float64; the bias
// is added to the stored float32 product, as a product followed by Add.
import type { MatMulArgs } from '../contract.js';

export function matMul(args: MatMulArgs): void {
  const { a, b, out, batch, m, n, k, transA, transB } = args;
  // element (i, p) of op(a) and (p, j) of op(b), as strides
  const aRow = transA ? 1 : k;
  const aCol = transA ? m : 1;
  const bRow = transB ? 1 : n;
  const bCol = transB ? k : 1;
  const acc = new Float64Array(n);
  for (let t = 0; t < batch; t++) {
    const a0 = args.aOffset + t * args.aBatchStride;
    const b0 = args.bOffset + t * args.bBatchStride;
    const o0 = t * m * n;
    if (transB && !transA) {
      // rows of a and rows of b are both contiguous: out[i, j] = a[i, :] · b[j, :]
      for (let i = 0; i < m; i++) {
        const ai = a0 + i * k;
        for (let j = 0; j < n; j++) {
          const bj = b0 + j * k;
          let s = 0;
          for (let p = 0; p < k; p++) s += a[ai + p]! * b[bj + p]!;
          out[o0 + i * n + j] = s;
        }
      }
      addBias(args, o0);
      continue;
    }
    for (let i = 0; i < m; i++) {
      acc.fill(0);
      for (let p = 0; p < k; p++) {
        const av = a[a0 + i * aRow + p * aCol]!;
        if (av === 0) continue;
        const bp = b0 + p * bRow;
        for (let j = 0; j < n; j++) acc[j]! += av * b[bp + j * bCol]!;
      }
      for (let j = 0; j < n; j++) out[o0 + i * n + j] = acc[j]!;
    }
    addBias(args, o0);
  }
}

/** out[o0 + i·n + j] += bias[j] over matrix t's m rows (float32 sums: each stored, then added and stored). */
function addBias(args: MatMulArgs, o0: number): void {
  if (!args.bias) return;
  const { out, m, n } = args;
  const { data, offset } = args.bias;
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) out[o0 + i * n + j] = out[o0 + i * n + j]! + data[offset + j]!;
}
