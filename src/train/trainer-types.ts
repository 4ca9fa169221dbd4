// The Trainer's contract: what it needs from a task (TrainingTask), its options, the events it
// emits, the state a checkpoint keeps to resume exactly, and how checkpoints are saved. The loop
// itself is in trainer.ts.
import type { Generator } from '../core/rng.js';
import type { Module } from '../nn/module.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { ScheduleName } from '../optim/schedule.js';
import type { Tensor } from '../tensor/tensor.js';
import type { OptimizerName } from './optimizers.js';
import type { EpochPosition } from './stopping.js';
import type { DevCurveOptions, DevCurvePlan, DevCurveState } from './dev-curve.js';

export interface EvalResult {
  metrics: Record<string, number>;
  /** The metric that picks the best checkpoint. */
  main: string;
  higherIsBetter: boolean;
}

/** What the trainer needs from a task; batches are drawn from the generator it is given. */
export interface TrainingTask<Batch> {
  /** A random batch (tasks without `batchOf`, e.g. the language model's random windows). */
  nextBatch(g: Generator): Batch;
  /** The batch of these training examples (by index): the trainer then draws them in epochs. */
  batchOf?(indices: readonly number[], g: Generator): Batch;
  /** Training examples in one epoch (for lm: windows of the block size in the training text). */
  examples?: number;
  /** Examples per batch (what an epoch is counted in). */
  batchSize?: number;
  /**
   * Each training example's length (tokens, frames): with `batchOf`, the trainer then draws
   * length-bucketed batches (EpochSampler), cutting padding; leave it out for uniform batches.
   */
  lengths?: readonly number[];
  /** The scalar training loss of a batch. */
  loss(batch: Batch): Tensor;
  /** Positions (tokens, frames) in a batch, for throughput. */
  size(batch: Batch): number;
  /**
   * Metrics on held-out data (grad off, model in eval mode); `g` for tasks that sample. A task on
   * a device backend reads its predictions asynchronously and returns a promise (runAsync awaits it).
   */
  evaluate(g: Generator): EvalResult | Promise<EvalResult>;
}

/** A task whose evaluation answers synchronously (host backends): what the built-in tasks return. */
export type HostTrainingTask<Batch> = Omit<TrainingTask<Batch>, 'evaluate'> & { evaluate(g: Generator): EvalResult };

export interface TrainerOptions {
  optimizer?: OptimizerName;
  lr?: number;
  minLr?: number;
  weightDecay?: number;
  /**
   * Which parameters weight decay applies to: 'all' (torch.optim's default), or 'matrices' (those
   * of 2 or more dimensions: not biases, norms' gains; nanoGPT's configure_optimizers).
   */
  decay?: 'all' | 'matrices';
  beta1?: number;
  beta2?: number;
  momentum?: number;
  schedule?: ScheduleName;
  warmup?: number;
  /** Steps of cosine decay (default maxSteps). */
  decaySteps?: number;
  /** d_model for the Noam schedule. */
  dModel?: number;
  /** Optimizer steps; give this or `epochs` or `devCurve` (one of them), or only a `timeBudget`. */
  maxSteps?: number;
  /** Passes over the training examples (needs a task that counts examples). */
  epochs?: number;
  /**
   * No length given: train while the dev metric improves, then decay the learning rate and stop
   * (src/train/dev-curve.ts); a `timeBudget` beside it is its hard bound in time.
   */
  devCurve?: DevCurveOptions;
  /** Seconds: stop (with a final evaluation and checkpoint) once training has run this long. */
  timeBudget?: number;
  /** Stop after this many evaluations without improvement of the monitored metric (0: off). */
  patience?: number;
  /** The metric early stopping and the best checkpoint follow (default: the task's main one). */
  monitor?: string;
  /** Milliseconds clock (tests plant one). */
  now?: () => number;
  /** Clip the global gradient norm to this (0: off). */
  clip?: number;
  /** Micro-batches whose gradients are summed before one optimizer step. */
  accumulate?: number;
  /**
   * Read the loss every step and stop on a NaN or infinite one before the optimizer uses its
   * gradients (default true). Off, the loss is read every `logEvery` steps only (fewer round trips
   * to a GPU) and a non-finite loss is found at the next read.
   */
  nanGuard?: boolean;
  /** With nanGuard off: steps between reads of the loss (the step events in between carry loss null). */
  logEvery?: number;
  evalEvery?: number;
  seed?: number;
}

export type StopReason = 'steps' | 'epochs' | 'time' | 'patience' | 'devCurve' | 'interrupted';

export type TrainEvent =
  /** maxSteps is Infinity while a dev-curve run (`devCurve`: its plan) has not started its decay. */
  | { type: 'start'; step: number; maxSteps: number; stepsPerEpoch: number | null; timeBudget: number | null; devCurve: DevCurvePlan | null }
  /** loss and gradNorm are null on steps whose loss was not read (nanGuard off, between logEvery reads). */
  | { type: 'step'; step: number; loss: number | null; lr: number; gradNorm: number | null; positions: number; ms: number; epoch: number | null; secondsLeft: number | null }
  | { type: 'eval'; step: number; metrics: Record<string, number>; main: string; best: boolean; ms: number }
  | { type: 'checkpoint'; step: number; kind: 'last' | 'best' }
  /** A dev-curve run ends its stable phase at `step`: the learning rate decays over `steps` more. */
  | { type: 'decay'; step: number; steps: number; why: 'plateau' | 'steps' | 'time' }
  | { type: 'stop'; step: number; reason: StopReason; message: string };

/** Everything needed to continue a run exactly where it stopped. */
export interface TrainerState {
  step: number;
  dataRng: number[];
  dropoutRng: number[];
  best: number | null;
  bestStep: number | null;
  /** Evaluations since the best (early stopping). */
  bad: number;
  /** Position in the epoch order (tasks drawn in epochs). */
  epoch: EpochPosition;
  /** Seconds of training so far, over all resumed parts (for the time budget). */
  elapsed: number;
  /** The dev-curve length's phase and patience count (null: the length was given). */
  devCurve: DevCurveState | null;
  /** Why training stopped; null while it runs. */
  stop: { reason: StopReason; step: number; message: string } | null;
}

/** Saves checkpoints; the trainer calls it at each evaluation (Node: src/train/checkpoint.ts). */
export interface Checkpointer {
  save(kind: 'last' | 'best', state: { model: Module; optimizer: Optimizer; trainer: TrainerState; metrics: Record<string, number> }): void;
}
