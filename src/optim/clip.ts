// Gradient clipping by global norm (torch.nn.utils.clip_grad_norm_).
import { kernel } from '../kernels/registry.js';
import type { Tensor } from '../tensor/tensor.js';

/** Scales all gradients so their joint L2 norm is at most maxNorm; returns the norm before clipping. */
export function clipGradNorm(params: readonly Tensor[], maxNorm: number): number {
  let sq = 0;
  for (const p of params) {
    if (!p.grad) continue;
    const g = p.grad.buffer();
    for (let i = 0; i < g.length; i++) sq += g[i]! * g[i]!;
  }
  const norm = Math.sqrt(sq);
  const scale = maxNorm / (norm + 1e-6);
  if (scale < 1) {
    for (const p of params) {
      if (!p.grad) continue;
      const g = p.grad.buffer();
      kernel('Mul')({ data: g, offset: 0, strides: p.grad.strides }, { data: new Float32Array([scale]), offset: 0, strides: p.grad.shape.map(() => 0) }, p.grad.shape, g);
      p.grad.bumpVersion();
    }
  }
  return norm;
}
