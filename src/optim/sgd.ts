// Stochastic gradient descent with momentum, dampening, Nesterov and weight decay (PyTorch semantics).
import { checkOptions, optionKeys } from '../core/options.js';
import { kernel } from '../kernels/registry.js';
import type { Tensor } from '../tensor/tensor.js';
import { Optimizer, type Params } from './optimizer.js';

export interface SgdOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

export class SGD extends Optimizer {
  readonly momentum: number;
  readonly dampening: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;

  constructor(params: Params, options: SgdOptions) {
    super(params, options.lr);
    checkOptions('SGD', options, optionKeys<SgdOptions>({ lr: 1, momentum: 1, dampening: 1, weightDecay: 1, nesterov: 1 }));
    this.momentum = options.momentum ?? 0;
    this.dampening = options.dampening ?? 0;
    this.weightDecay = options.weightDecay ?? 0;
    this.nesterov = options.nesterov ?? false;
  }

  protected update(p: Tensor, g: Tensor): void {
    // the momentum buffer starts as the first gradient (PyTorch); it exists once a step was taken
    const first = !this.state.has(p);
    const buf = this.momentum ? (this.buffers(p, 1)[0]!.buffer() as Float32Array) : null;
    kernel('Sgd', p.backend)(p.buffer() as Float32Array, g.buffer() as Float32Array, buf, {
      lr: this.lr, momentum: this.momentum, dampening: this.dampening, weightDecay: this.decayOf(p, this.weightDecay), nesterov: this.nesterov, first,
    });
  }
}
