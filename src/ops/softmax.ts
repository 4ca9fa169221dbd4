// softmax and logSoftmax along an axis, fused into single kernels with fused gradients.
import { normalizeAxis } from '../core/shape.js';
import { kernel } from '../kernels/registry.js';
import { record } from '../tensor/autograd.js';
import { Tensor } from '../tensor/tensor.js';
import { emptyRows, rowsOf } from './lastaxis.js';
import { checkDtype, checkTensor, ownerOf, release } from './util.js';

function rowOp(op: 'softmax' | 'logSoftmax', x: Tensor, axis: number): Tensor {
  checkTensor(op, x);
  checkDtype(op, x, 'float32');
  const ax = normalizeAxis(op, axis, x.rank);
  const out = emptyRows(x.shape, ax, x.backend);
  const xr = rowsOf(x, ax);
  const { rows, cols } = xr;
  // arrays read after the last allocation: a WebAssembly heap may grow and move
  kernel(op === 'softmax' ? 'Softmax' : 'LogSoftmax', x.backend)(xr.data(), rows, cols, out.data());
  release(xr.t, x);
  return record(op, [x], out.t, (g, [y]) => {
    const be = ownerOf(op, y, g);
    const dx = emptyRows(x.shape, ax, be);
    const dy = rowsOf(g, ax);
    const yr = rowsOf(y!, ax);
    kernel(op === 'softmax' ? 'SoftmaxGrad' : 'LogSoftmaxGrad', be)(yr.data(), dy.data(), rows, cols, dx.data());
    release(dy.t, g);
    release(yr.t, y!);
    return [dx.t];
  }, [out.t]);
}

/** exp(x) / Σ exp(x) along `axis` (last by default). */
export const softmax = (x: Tensor, axis = -1): Tensor => rowOp('softmax', x, axis);
/** x - log Σ exp(x) along `axis` (last by default). */
export const logSoftmax = (x: Tensor, axis = -1): Tensor => rowOp('logSoftmax', x, axis);
