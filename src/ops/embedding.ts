// Embedding lookup: rows of a [V, D] table picked by int32 ids; the gradient scatter-adds
// back into the table (rows of paddingIdx get none, as PyTorch).
import { OpError, shapeStr } from '../core/errors.js';
import { kernel } from '../kernels/registry.js';
import { record } from '../tensor/autograd.js';
import { Tensor } from '../tensor/tensor.js';
import { checkDtype, checkTensor, contiguousData } from './util.js';

export function embedding(ids: Tensor, weight: Tensor, paddingIdx?: number): Tensor {
  checkTensor('embedding', ids, 'ids');
  checkTensor('embedding', weight, 'weight');
  checkDtype('embedding', ids, 'int32', 'ids');
  if (weight.rank !== 2) throw new OpError('embedding', `weight must be [num_embeddings, dim], got ${shapeStr(weight.shape)}`);
  const [vocab, dim] = weight.shape as [number, number];
  const idx = contiguousData(ids) as Int32Array;
  for (let i = 0; i < idx.length; i++) {
    if (idx[i]! < 0 || idx[i]! >= vocab) {
      throw new OpError('embedding', `id ${idx[i]} at flat position ${i} of ids ${shapeStr(ids.shape)} is out of range for a table of ${vocab} rows`);
    }
  }
  const y = Tensor.empty([...ids.shape, dim], weight.dtype);
  // ids re-read: allocating y may have grown the heap and detached idx
  kernel('Gather')(contiguousData(weight), dim, contiguousData(ids) as Int32Array, y.buffer());
  return record('embedding', [ids, weight], y, (g, [ids]) => {
    const dw = Tensor.empty([vocab, dim]);
    kernel('Fill')(dw.buffer(), 0);
    kernel('ScatterAdd')(contiguousData(g) as Float32Array, dim, contiguousData(ids!) as Int32Array, dw.buffer() as Float32Array);
    if (paddingIdx !== undefined && paddingIdx >= 0 && paddingIdx < vocab) dw.buffer().fill(0, paddingIdx * dim, (paddingIdx + 1) * dim);
    return [null, dw];
  }, [ids]);
}
