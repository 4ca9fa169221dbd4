// The Trainer's optimizer from its options: AdamW, Adam or SGD over the model's parameters, with
// weight decay on every parameter (torch.optim's default) or on matrices only (nanoGPT's rule).
import { AdamW, Adam } from '../optim/adam.js';
import type { Optimizer, ParamGroup } from '../optim/optimizer.js';
import { SGD } from '../optim/sgd.js';
import type { Tensor } from '../tensor/tensor.js';

export type OptimizerName = 'adamw' | 'adam' | 'sgd';
export const OPTIMIZERS: readonly OptimizerName[] = ['adamw', 'adam', 'sgd'];

export interface OptimizerSettings {
  optimizer: OptimizerName;
  lr: number;
  weightDecay: number;
  decay: 'all' | 'matrices';
  beta1: number;
  beta2: number;
  momentum: number;
}

/** The optimizer the settings name; `fail` makes the error for an unknown name. */
export function makeOptimizer(all: Tensor[], o: OptimizerSettings, fail: (message: string) => Error): Optimizer {
  const params = o.decay === 'matrices' ? matrixDecayGroups(all) : all;
  switch (o.optimizer) {
    case 'sgd': return new SGD(params, { lr: o.lr, momentum: o.momentum, weightDecay: o.weightDecay });
    case 'adam': return new Adam(params, { lr: o.lr, betas: [o.beta1, o.beta2] });
    case 'adamw': return new AdamW(params, { lr: o.lr, betas: [o.beta1, o.beta2], weightDecay: o.weightDecay });
    default: throw fail(`unknown optimizer "${String(o.optimizer)}" (choose from ${OPTIMIZERS.join(', ')})`);
  }
}

/**
 * Groups in which only matrices (2 or more dimensions) decay, runs of the model's own order, so
 * the optimizer's parameter positions (which name its checkpoint state) are the model's.
 */
function matrixDecayGroups(all: Tensor[]): ParamGroup[] {
  const groups: { params: Tensor[]; weightDecay?: number }[] = [];
  for (const p of all) {
    const matrix = p.rank >= 2;
    const last = groups[groups.length - 1];
    if (last && (last.weightDecay === undefined) === matrix) last.params.push(p);
    else groups.push(matrix ? { params: [p] } : { params: [p], weightDecay: 0 });
  }
  return groups;
}
