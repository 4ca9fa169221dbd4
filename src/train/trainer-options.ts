// The Trainer's options resolved for a task: defaults filled in, each checked with a one-line
// error, and the run's length worked out from the data (steps, epochs, the dev curve, or a time
// budget alone; src/train/stopping.ts and src/train/dev-curve.ts).
import { checkOptions, optionKeys } from '../core/options.js';
import type { OptimizerName } from './optimizers.js';
import type { ScheduleName } from '../optim/schedule.js';
import { devCurvePlan, type DevCurvePlan } from './dev-curve.js';
import { resolveLength, type LengthFrom } from './stopping.js';
import type { TrainerOptions, TrainingTask } from './trainer-types.js';

export type ResolvedOptions = Required<Omit<TrainerOptions, 'decaySteps' | 'dModel' | 'maxSteps' | 'epochs' | 'devCurve' | 'timeBudget' | 'monitor' | 'now'>> & {
  decaySteps: number; dModel: number; maxSteps: number; timeBudget: number | null; monitor: string | null;
};

export interface Resolved {
  options: ResolvedOptions;
  /** Optimizer steps per epoch (null: the task does not count examples). */
  stepsPerEpoch: number | null;
  lengthFrom: LengthFrom;
  /** The dev-curve length's plan (null: the length was given). */
  plan: DevCurvePlan | null;
}

/** The options of a Trainer of `task`; `fail` makes the error (a TrainingError). */
export function resolveTrainerOptions(options: TrainerOptions, task: Pick<TrainingTask<unknown>, 'examples' | 'batchSize'>, fail: (m: string) => Error): Resolved {
  checkOptions('Trainer', options, optionKeys<TrainerOptions>({
    optimizer: 1, lr: 1, minLr: 1, weightDecay: 1, decay: 1, beta1: 1, beta2: 1, momentum: 1, schedule: 1, warmup: 1, decaySteps: 1, dModel: 1,
    maxSteps: 1, epochs: 1, devCurve: 1, timeBudget: 1, patience: 1, monitor: 1, now: 1, clip: 1, accumulate: 1, evalEvery: 1, seed: 1,
    nanGuard: 1, logEvery: 1,
  }));
  const patience = options.patience ?? 0;
  if (!Number.isInteger(patience) || patience < 0) throw fail(`patience must be an integer >= 0, got ${patience}`);
  const accumulate = options.accumulate ?? 1;
  const counted = task.examples !== undefined && task.batchSize !== undefined;
  const batchesPerEpoch = counted ? Math.max(1, Math.ceil(task.examples! / task.batchSize!)) : null;
  const stepsPerEpoch = batchesPerEpoch === null ? null : batchesPerEpoch / accumulate;
  const { maxSteps, lengthFrom } = resolveLength(options, stepsPerEpoch, fail);
  const schedule = options.schedule ?? 'cosine';
  // the dev curve lays the rate itself unless a schedule that needs no length was named
  const plan = lengthFrom === 'devCurve'
    ? devCurvePlan(options.devCurve!, stepsPerEpoch, { decaySteps: options.decaySteps, decays: schedule === 'cosine' }, fail) : null;
  const o: ResolvedOptions = {
    optimizer: 'adamw' as OptimizerName, lr: 1e-3, weightDecay: 0.01, decay: 'all' as 'all' | 'matrices', beta1: 0.9, beta2: 0.999,
    momentum: 0.9, schedule: 'cosine' as ScheduleName, warmup: 0, clip: 1, accumulate: 1, evalEvery: 100, seed: 0, patience: 0,
    nanGuard: true, logEvery: 1, ...options,
    // a run bounded by time alone decays over a nominal horizon, reached when the budget is
    maxSteps: plan ? plan.maxSteps : maxSteps, decaySteps: options.decaySteps ?? (Number.isFinite(maxSteps) ? maxSteps : 1_000_000), dModel: options.dModel ?? 512,
    timeBudget: options.timeBudget ?? null, monitor: options.monitor ?? null,
    // (an option given as undefined, as the CLI passes an unset --min-lr, takes its default too)
    minLr: options.minLr ?? (options.lr ?? 1e-3) / 10,
    // the dev curve evaluates on its own cadence and does its own early stopping
    ...(plan ? { evalEvery: plan.evalEvery, patience: 0 } : {}),
  };
  for (const k of ['accumulate', 'evalEvery', 'logEvery'] as const) {
    if (!Number.isInteger(o[k]) || o[k] < 1) throw fail(`${k} must be a positive integer, got ${o[k]}`);
  }
  if (o.timeBudget !== null && !(o.timeBudget > 0)) throw fail(`timeBudget must be > 0 seconds, got ${o.timeBudget}`);
  if (!(o.lr > 0)) throw fail(`lr must be > 0, got ${o.lr}`);
  return { options: o, stepsPerEpoch, lengthFrom, plan };
}
