// Gradient clipping by global norm (torch.nn.utils.clip_grad_norm_), on the gradients' own
// backend: the norm is a 0-d tensor and every gradient is scaled by min(1, maxNorm / (norm + 1e-6))
// in place, so nothing is read back to JavaScript (on a GPU, nothing leaves the device).
import { OpError } from '../core/errors.js';
import { kernel } from '../kernels/registry.js';
import { add, div, minimum, sqrt } from '../ops/elementwise.js';
import { matmul } from '../ops/linalg.js';
import { reshape } from '../ops/views.js';
import { onHost, ownerOf, scalar } from '../ops/util.js';
import { noGrad, tidy } from '../tensor/engine.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * Scales all gradients so their joint L2 norm is at most maxNorm (Infinity: only measure it).
 * Returns the norm before clipping as a 0-d tensor (`.item()` on a host backend, `await .itemAsync()` anywhere).
 */
export function clipGradNorm(params: readonly Tensor[], maxNorm: number): Tensor {
  if (!(maxNorm > 0)) throw new OpError('clipGradNorm', `maxNorm must be > 0, got ${maxNorm}`);
  const grads = params.flatMap((p) => (p.grad ? [p.grad] : []));
  return noGrad(() => tidy(() => {
    const be = ownerOf('clipGradNorm', ...grads);
    // Σ g·g per gradient as a 1×n by n×1 product (no squared copy of the gradient), summed
    let sq: Tensor = scalar(0, grads[0]);
    for (const g of grads) {
      const flat = reshape(g, [1, g.size]);
      sq = add(sq, reshape(matmul(flat, reshape(g, [g.size, 1])), []));
    }
    const norm = sqrt(sq);
    if (maxNorm !== Infinity) {
      const coef = minimum(div(maxNorm, add(norm, 1e-6)), 1); // 0-d: 1 when under the limit (PyTorch clamps likewise)
      // on the host a factor of exactly 1 (the usual case once training settles) would rewrite every
      // gradient unchanged: look at it in place (host memory: no device to wait for, not a read-back
      // of a result) and skip those passes
      if (onHost(coef) && (coef.buffer() as Float32Array)[coef.offset] === 1) return norm;
      for (const g of grads) {
        kernel('Mul', be)(g.strided(), { data: coef.buffer(), offset: 0, strides: g.shape.map(() => 0) }, g.shape, g.buffer());
        g.bumpVersion();
      }
    }
    return norm;
  }));
}
