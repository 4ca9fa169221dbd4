// MatMul's bias (contract.ts, MatMulArgs.bias) for a backend whose GEMM has no bias epilogue: the
// product, then the backend's own Add in place, the bias broadcast over the rows. The same float32
// sums as a product followed by Add, in one kernel call from the op layer.
import type { KernelSignatures } from './contract.js';

/** `MatMul` with its bias done by `Add` after the product (both the backend's own kernels). */
export function biasByAdd(k: Pick<KernelSignatures, 'MatMul' | 'Add'>): KernelSignatures['MatMul'] {
  const { MatMul: matMul, Add: add } = k;
  return (x) => {
    if (!x.bias) return matMul(x);
    matMul({ ...x, bias: undefined });
    const shape = [x.batch * x.m, x.n];
    add({ data: x.out, offset: 0, strides: [x.n, 1] }, { data: x.bias.data, offset: x.bias.offset, strides: [0, 1] }, shape, x.out);
  };
}
