// Embedding lookup: rows of a [V, D] table picked by int32 ids; the gradient scatter-adds
// back into the table (rows of paddingIdx get none, as PyTorch).
import { OpError, shapeStr } from '../core/errors.js';
import { kernel } from '../kernels/registry.js';
import { record } from '../tensor/autograd.js';
import { tidy } from '../tensor/engine.js';
import { Tensor } from '../tensor/tensor.js';
import { tensor } from './creation.js';
import { reshape } from './views.js';
import { checkDtype, checkTensor, contiguousTensor, f32, fillRange, onHost, ownerOf, release } from './util.js';

export function embedding(ids: Tensor, weight: Tensor, paddingIdx?: number): Tensor {
  checkTensor('embedding', ids, 'ids');
  checkTensor('embedding', weight, 'weight');
  checkDtype('embedding', ids, 'int32', 'ids');
  if (weight.rank !== 2) throw new OpError('embedding', `weight must be [num_embeddings, dim], got ${shapeStr(weight.shape)}`);
  const [vocab, dim] = weight.shape as [number, number];
  const be = ownerOf('embedding', ids, weight);
  const ic = contiguousTensor(ids);
  let y: Tensor;
  try {
    // ids are checked where they can be read for free (a host backend); a device's kernel reads zeros for ids out of range
    const idx = onHost(ic) ? ic.buffer() as Int32Array : new Int32Array(0);
    for (let i = 0; i < idx.length; i++) {
      if (idx[i]! < 0 || idx[i]! >= vocab) {
        throw new OpError('embedding', `id ${idx[i]} at flat position ${i} of ids ${shapeStr(ids.shape)} is out of range for a table of ${vocab} rows`);
      }
    }
    y = Tensor.empty([...ids.shape, dim], weight.dtype, be);
    const wc = contiguousTensor(weight);
    // arrays read after the last allocation: a WebAssembly heap may grow and move
    kernel('Gather', be)(wc.buffer(), dim, ic.buffer() as Int32Array, y.buffer());
    release(wc, weight);
  } finally {
    release(ic, ids);
  }
  return record('embedding', [ids, weight], y, (g, [ids]) => {
    const gbe = ownerOf('embedding', ids, g);
    const dw = Tensor.empty([vocab, dim], 'float32', gbe);
    const [gc, ic] = [contiguousTensor(g), contiguousTensor(ids!)];
    kernel('Fill', gbe)(dw.buffer(), 0);
    kernel('ScatterAdd', gbe)(f32(gc), dim, ic.buffer() as Int32Array, f32(dw));
    if (paddingIdx !== undefined && paddingIdx >= 0 && paddingIdx < vocab) fillRange(dw, 0, paddingIdx * dim, dim);
    release(gc, g);
    release(ic, ids!);
    return [null, dw];
  }, [ids]);
}

/**
 * Rows `index` of x along its first axis, as torch.index_select(x, 0, index): x (N, ...) ->
 * (index.length, ...). A gather over the flattened rows, so its gradient is embedding's
 * scatter-add (a row picked twice gets both gradients). Beam search reorders its caches with it.
 */
export function indexSelect(x: Tensor, index: Tensor | ArrayLike<number>): Tensor {
  checkTensor('indexSelect', x, 'x');
  if (x.rank < 1) throw new OpError('indexSelect', 'x must have at least one axis');
  return tidy(() => {
    const ids = index instanceof Tensor ? index : tensor(Int32Array.from(index), { shape: [index.length], backend: x.backend.name });
    checkDtype('indexSelect', ids, 'int32', 'index');
    if (ids.rank !== 1) throw new OpError('indexSelect', `index must be 1-d, got ${shapeStr(ids.shape)}`);
    const [n, ...rest] = x.shape as number[];
    const rows = embedding(ids, reshape(x, [n!, rest.reduce((a, b) => a * b, 1)])); // (index.length, prod(rest))
    return reshape(rows, [ids.shape[0]!, ...rest]);
  });
}
