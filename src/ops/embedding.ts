// Embedding lookup: rows of a [V, D] table picked by int32 ids; the gradient scatter-adds
// back into the table (rows of paddingIdx get none, as PyTorch).
import { OpError, shapeStr } from '../core/errors.js';
import { kernel } from '../kernels/registry.js';
import { record } from '../tensor/autograd.js';
import { Tensor } from '../tensor/tensor.js';
import { checkDtype, checkTensor, contiguousTensor, f32, release } from './util.js';

export function embedding(ids: Tensor, weight: Tensor, paddingIdx?: number): Tensor {
  checkTensor('embedding', ids, 'ids');
  checkTensor('embedding', weight, 'weight');
  checkDtype('embedding', ids, 'int32', 'ids');
  if (weight.rank !== 2) throw new OpError('embedding', `weight must be [num_embeddings, dim], got ${shapeStr(weight.shape)}`);
  const [vocab, dim] = weight.shape as [number, number];
  const ic = contiguousTensor(ids);
  let y: Tensor;
  try {
    const idx = ic.buffer() as Int32Array;
    for (let i = 0; i < idx.length; i++) {
      if (idx[i]! < 0 || idx[i]! >= vocab) {
        throw new OpError('embedding', `id ${idx[i]} at flat position ${i} of ids ${shapeStr(ids.shape)} is out of range for a table of ${vocab} rows`);
      }
    }
    y = Tensor.empty([...ids.shape, dim], weight.dtype);
    const wc = contiguousTensor(weight);
    // arrays read after the last allocation: a WebAssembly heap may grow and move
    kernel('Gather')(wc.buffer(), dim, ic.buffer() as Int32Array, y.buffer());
    release(wc, weight);
  } finally {
    release(ic, ids);
  }
  return record('embedding', [ids, weight], y, (g, [ids]) => {
    const dw = Tensor.empty([vocab, dim]);
    const [gc, ic] = [contiguousTensor(g), contiguousTensor(ids!)];
    kernel('Fill')(dw.buffer(), 0);
    kernel('ScatterAdd')(f32(gc), dim, ic.buffer() as Int32Array, f32(dw));
    if (paddingIdx !== undefined && paddingIdx >= 0 && paddingIdx < vocab) dw.buffer().fill(0, paddingIdx * dim, (paddingIdx + 1) * dim);
    release(gc, g);
    release(ic, ids!);
    return [null, dw];
  }, [ids]);
}
