// Dropout: zero each element with probability p and scale the rest by 1/(1-p) (inverted
// dropout). The mask is counter-based (kernels/ref/dropout.ts): the seeded generator gives a key
// and the backend's Dropout kernel computes each element's keep bit from the key and the element's
// index, on the device the tensor lives on. The backward runs the same kernel on the gradient with
// the same key, so no mask is stored (memory: none per dropout layer) and every backend gives the
// same values bit for bit for a seed.
import { OpError } from '../core/errors.js';
import { defaultGenerator, type Generator } from '../core/rng.js';
import type { DropoutArgs } from '../kernels/contract.js';
import { kernel } from '../kernels/registry.js';
import { dropoutThreshold } from '../kernels/ref/dropout.js';
import { record } from '../tensor/autograd.js';
import { tidy } from '../tensor/engine.js';
import { Tensor } from '../tensor/tensor.js';
import { clone } from './views.js';
import { checkDtype, checkTensor, contiguousTensor, f32 } from './util.js';

/** x times the mask of `a` (x's elements in row-major order are the mask's indices), with the same op as its gradient. */
function applyDropout(x: Tensor, a: DropoutArgs): Tensor {
  const y = tidy(() => {
    const xc = contiguousTensor(x);
    const out = Tensor.empty(x.shape, 'float32', x.backend);
    kernel('Dropout', x.backend)(f32(xc), f32(out), a);
    return out;
  });
  return record('dropout', [x], y, (g) => [applyDropout(g, a)]);
}

export function dropout(x: Tensor, p = 0.5, training = true, generator: Generator = defaultGenerator): Tensor {
  checkTensor('dropout', x);
  if (!(p >= 0 && p <= 1)) throw new OpError('dropout', `p must be in [0, 1], got ${p}`);
  if (!training || p === 0) return clone(x); // a tensor of its own, as when dropout runs
  checkDtype('dropout', x, 'float32');
  const [key0, key1] = generator.dropoutKey();
  return applyDropout(x, { key0, key1, threshold: dropoutThreshold(p), scale: p === 1 ? 0 : 1 / (1 - p) });
}
