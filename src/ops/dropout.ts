// Dropout: zero each element with probability p and scale the rest by 1/(1-p) (inverted
// dropout), with the mask drawn from a seeded generator so runs are reproducible.
import { OpError } from '../core/errors.js';
import { defaultGenerator, type Generator } from '../core/rng.js';
import { Tensor } from '../tensor/tensor.js';
import { mul } from './elementwise.js';
import { clone } from './views.js';
import { checkTensor, onHost } from './util.js';

export function dropout(x: Tensor, p = 0.5, training = true, generator: Generator = defaultGenerator): Tensor {
  checkTensor('dropout', x);
  if (!(p >= 0 && p <= 1)) throw new OpError('dropout', `p must be in [0, 1], got ${p}`);
  if (!training || p === 0) return clone(x); // a tensor of its own, as when dropout runs
  const scale = p === 1 ? 0 : 1 / (1 - p);
  // the mask is drawn by the seeded generator on the host (m[i] = uniform() >= p ? scale : 0):
  // in place on a host backend, written to a device in one transfer
  let mask: Tensor;
  if (onHost(x)) {
    mask = Tensor.empty(x.shape, 'float32', x.backend);
    generator.fillMask(mask.buffer() as Float32Array, p, scale);
  } else {
    const m = new Float32Array(x.size);
    generator.fillMask(m, p, scale);
    mask = Tensor.fromHost(m, x.shape, x.backend);
  }
  const y = mul(x, mask);
  mask.dispose();
  return y;
}
