// Learning-rate schedules: pure functions from the step number (0-based) to a learning rate.
import { QkvError } from '../core/errors.js';

export type Schedule = (step: number) => number;

export type ScheduleName = 'constant' | 'cosine' | 'noam';
export const SCHEDULES: readonly ScheduleName[] = ['constant', 'cosine', 'noam'];

export const constant = (lr: number): Schedule => () => lr;

/**
 * Linear warmup to `lr` over `warmup` steps, then cosine decay to `minLr` at `decaySteps`,
 * and `minLr` after (nanoGPT's get_lr).
 */
export function warmupCosine(o: { lr: number; minLr?: number; warmup?: number; decaySteps: number }): Schedule {
  const { lr, minLr = lr / 10, warmup = 0, decaySteps } = o;
  return (step) => {
    if (step < warmup) return (lr * (step + 1)) / (warmup + 1);
    if (step > decaySteps) return minLr;
    const ratio = decaySteps === warmup ? 1 : (step - warmup) / (decaySteps - warmup);
    return minLr + 0.5 * (1 + Math.cos(Math.PI * ratio)) * (lr - minLr);
  };
}

/**
 * The Transformer's schedule ("Attention is all you need", the "Noam" schedule):
 * factor · d_model^-0.5 · min(step^-0.5, step · warmup^-1.5), with step counted from 1.
 */
export function noam(o: { dModel: number; warmup: number; factor?: number }): Schedule {
  const { dModel, warmup, factor = 1 } = o;
  return (step) => {
    const s = step + 1;
    return factor * dModel ** -0.5 * Math.min(s ** -0.5, s * warmup ** -1.5);
  };
}

export function makeSchedule(name: ScheduleName, o: { lr: number; minLr?: number; warmup?: number; decaySteps: number; dModel?: number }): Schedule {
  switch (name) {
    case 'constant': return constant(o.lr);
    case 'cosine': return warmupCosine(o);
    // lr plays the role of the factor, so --lr keeps meaning "how big the steps are"
    case 'noam': return noam({ dModel: o.dModel ?? 512, warmup: Math.max(1, o.warmup ?? 4000), factor: o.lr });
    default: throw new QkvError(`unknown schedule "${String(name)}" (choose from ${SCHEDULES.join(', ')})`);
  }
}
