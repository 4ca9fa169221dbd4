// Dropout: zero each element with probability p and scale the rest by 1/(1-p) (inverted
// dropout). The mask is counter-based (kernels/ref/dropout.ts): the seeded generator gives a key,
// the backend's DropoutMask kernel makes the mask where the tensor lives, the same bits on every
// backend, so runs are reproducible from a seed and a GPU never waits for a mask from the host.
import { OpError } from '../core/errors.js';
import { defaultGenerator, type Generator } from '../core/rng.js';
import { kernel } from '../kernels/registry.js';
import { dropoutThreshold } from '../kernels/ref/dropout.js';
import { Tensor } from '../tensor/tensor.js';
import { mul } from './elementwise.js';
import { clone } from './views.js';
import { checkTensor, f32 } from './util.js';

/** The mask dropout(x, p) multiplies by, for `generator`'s next key: kept elements are 1/(1-p), the rest 0. */
function dropoutMask(shape: readonly number[], p: number, like: Tensor, generator: Generator = defaultGenerator): Tensor {
  const [key0, key1] = generator.dropoutKey();
  const mask = Tensor.empty(shape, 'float32', like.backend);
  kernel('DropoutMask', like.backend)(f32(mask), { key0, key1, threshold: dropoutThreshold(p), scale: p === 1 ? 0 : 1 / (1 - p) });
  return mask;
}

export function dropout(x: Tensor, p = 0.5, training = true, generator: Generator = defaultGenerator): Tensor {
  checkTensor('dropout', x);
  if (!(p >= 0 && p <= 1)) throw new OpError('dropout', `p must be in [0, 1], got ${p}`);
  if (!training || p === 0) return clone(x); // a tensor of its own, as when dropout runs
  const mask = dropoutMask(x.shape, p, x, generator);
  const y = mul(x, mask);
  mask.dispose();
  return y;
}
