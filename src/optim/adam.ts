// Adam and AdamW with PyTorch's semantics and defaults.
import { checkOptions, optionKeys } from '../core/options.js';
import { QkvError } from '../core/errors.js';
import { kernel } from '../kernels/registry.js';
import type { Tensor } from '../tensor/tensor.js';
import { Optimizer, type Params } from './optimizer.js';

export interface AdamOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

/** AdamW: Adam with decoupled weight decay (default 0.01, as torch.optim.AdamW). */
export class AdamW extends Optimizer {
  readonly betas: [number, number];
  readonly eps: number;
  readonly weightDecay: number;

  constructor(params: Params, options: AdamOptions = {}, defaultDecay = 0.01) {
    super(params, options.lr ?? 1e-3);
    checkOptions(this.constructor.name, options, optionKeys<AdamOptions>({ lr: 1, betas: 1, eps: 1, weightDecay: 1 }));
    this.betas = options.betas ?? [0.9, 0.999];
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? defaultDecay;
    if (this.betas.some((b) => !(b >= 0 && b < 1))) throw new QkvError(`${this.constructor.name}: betas must be in [0, 1), got [${this.betas.join(', ')}]`);
  }

  protected update(p: Tensor, g: Tensor): void {
    const [m, v] = this.buffers(p, 2);
    kernel('AdamW', p.backend)(p.buffer() as Float32Array, g.buffer() as Float32Array, m!.buffer() as Float32Array, v!.buffer() as Float32Array, {
      lr: this.lr, beta1: this.betas[0], beta2: this.betas[1], eps: this.eps, weightDecay: this.decayOf(p, this.weightDecay), step: this.stepCount,
    });
  }
}

/** Adam without weight decay by default. (Its weightDecay here is decoupled, as AdamW's.) */
export class Adam extends AdamW {
  constructor(params: Params, options: AdamOptions = {}) {
    super(params, options, 0);
  }
}
