// The training loop: draw a batch, forward, backward (accumulating over micro-batches), clip,
// step the optimizer on a schedule, evaluate every K steps, keep the last and the best
// checkpoint, and stop with a clear message on a NaN or infinite loss. It reports through
// events (step, eval, checkpoint); the CLI turns them into a progress bar and a JSON log.
import { QkvError } from '../core/errors.js';
import { checkOptions, optionKeys } from '../core/options.js';
import { defaultGenerator, Generator } from '../core/rng.js';
import type { Module } from '../nn/module.js';
import { AdamW, Adam } from '../optim/adam.js';
import { clipGradNorm } from '../optim/clip.js';
import type { Optimizer, ParamGroup } from '../optim/optimizer.js';
import { makeSchedule, type Schedule, type ScheduleName } from '../optim/schedule.js';
import { SGD } from '../optim/sgd.js';
import { noGrad, tidy } from '../tensor/engine.js';
import type { Tensor } from '../tensor/tensor.js';

export class TrainingError extends QkvError {
  override name = 'TrainingError';
}

export interface EvalResult {
  metrics: Record<string, number>;
  /** The metric that picks the best checkpoint. */
  main: string;
  higherIsBetter: boolean;
}

/** What the trainer needs from a task; batches are drawn from the generator it is given. */
export interface TrainingTask<Batch> {
  nextBatch(g: Generator): Batch;
  /** The scalar training loss of a batch. */
  loss(batch: Batch): Tensor;
  /** Positions (tokens, frames) in a batch, for throughput. */
  size(batch: Batch): number;
  /** Metrics on held-out data (grad off, model in eval mode); `g` for tasks that sample. */
  evaluate(g: Generator): EvalResult;
}

export type OptimizerName = 'adamw' | 'adam' | 'sgd';
export const OPTIMIZERS: readonly OptimizerName[] = ['adamw', 'adam', 'sgd'];

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
  maxSteps: number;
  /** Clip the global gradient norm to this (0: off). */
  clip?: number;
  /** Micro-batches whose gradients are summed before one optimizer step. */
  accumulate?: number;
  evalEvery?: number;
  seed?: number;
}

export type TrainEvent =
  | { type: 'step'; step: number; loss: number; lr: number; gradNorm: number; positions: number; ms: number }
  | { type: 'eval'; step: number; metrics: Record<string, number>; best: boolean; ms: number }
  | { type: 'checkpoint'; step: number; kind: 'last' | 'best' };

/** Everything needed to continue a run exactly where it stopped. */
export interface TrainerState {
  step: number;
  dataRng: number[];
  dropoutRng: number[];
  best: number | null;
  bestStep: number | null;
}

/** Saves checkpoints; the trainer calls it at each evaluation (Node: src/train/checkpoint.ts). */
export interface Checkpointer {
  save(kind: 'last' | 'best', state: { model: Module; optimizer: Optimizer; trainer: TrainerState; metrics: Record<string, number> }): void;
}

export class Trainer<Batch> {
  readonly optimizer: Optimizer;
  readonly schedule: Schedule;
  readonly options: Required<Omit<TrainerOptions, 'decaySteps' | 'dModel'>> & { decaySteps: number; dModel: number };
  state: TrainerState;
  private readonly dataRng: Generator;
  private listeners: ((e: TrainEvent) => void)[] = [];

  constructor(readonly model: Module, readonly task: TrainingTask<Batch>, options: TrainerOptions, readonly checkpointer: Checkpointer | null = null) {
    checkOptions('Trainer', options, optionKeys<TrainerOptions>({
      optimizer: 1, lr: 1, minLr: 1, weightDecay: 1, decay: 1, beta1: 1, beta2: 1, momentum: 1, schedule: 1, warmup: 1, decaySteps: 1, dModel: 1,
      maxSteps: 1, clip: 1, accumulate: 1, evalEvery: 1, seed: 1,
    }));
    const o = {
      optimizer: 'adamw' as OptimizerName, lr: 1e-3, minLr: (options.lr ?? 1e-3) / 10, weightDecay: 0.01, decay: 'all' as 'all' | 'matrices', beta1: 0.9, beta2: 0.999,
      momentum: 0.9, schedule: 'cosine' as ScheduleName, warmup: 0, clip: 1, accumulate: 1, evalEvery: 100, seed: 0, ...options,
      decaySteps: options.decaySteps ?? options.maxSteps, dModel: options.dModel ?? 512,
    };
    for (const k of ['maxSteps', 'accumulate', 'evalEvery'] as const) {
      if (!Number.isInteger(o[k]) || o[k] < 1) throw new TrainingError(`${k} must be a positive integer, got ${o[k]}`);
    }
    if (!(o.lr > 0)) throw new TrainingError(`lr must be > 0, got ${o.lr}`);
    this.options = o;
    const all = model.parameters();
    const params = o.decay === 'matrices' ? matrixDecayGroups(all) : all;
    this.optimizer = o.optimizer === 'sgd' ? new SGD(params, { lr: o.lr, momentum: o.momentum, weightDecay: o.weightDecay })
      : o.optimizer === 'adam' ? new Adam(params, { lr: o.lr, betas: [o.beta1, o.beta2] })
      : o.optimizer === 'adamw' ? new AdamW(params, { lr: o.lr, betas: [o.beta1, o.beta2], weightDecay: o.weightDecay })
      : (() => { throw new TrainingError(`unknown optimizer "${String(o.optimizer)}" (choose from adamw, adam, sgd)`); })();
    this.schedule = makeSchedule(o.schedule, o);
    this.dataRng = new Generator(o.seed);
    defaultGenerator.seed(o.seed + 1); // dropout masks and anything else drawing from the default
    this.state = { step: 0, dataRng: this.dataRng.getState(), dropoutRng: defaultGenerator.getState(), best: null, bestStep: null };
  }

  on(listener: (e: TrainEvent) => void): this {
    this.listeners.push(listener);
    return this;
  }

  private emit(e: TrainEvent): void {
    for (const l of this.listeners) l(e);
  }

  /** Continues from a saved state (after the model and optimizer were restored). */
  restore(state: TrainerState): void {
    this.state = { ...state };
    this.dataRng.setState(state.dataRng);
    defaultGenerator.setState(state.dropoutRng);
  }

  /** Runs from the current step to maxSteps. Returns the last evaluation. */
  run(): EvalResult | null {
    const o = this.options;
    const params = this.model.parameters();
    let last: EvalResult | null = null;
    this.model.train();
    while (this.state.step < o.maxSteps) {
      const step = this.state.step;
      const t0 = performance.now();
      const lr = this.schedule(step);
      this.optimizer.lr = lr;
      let loss = 0;
      let positions = 0;
      for (let micro = 0; micro < o.accumulate; micro++) {
        // the batch's tensors are made inside the scope, so they are freed with the step's
        // temporaries (found by scripts/long-memory.mjs: 5 tensors a step stayed alive)
        loss += tidy(() => {
          const batch = this.task.nextBatch(this.dataRng);
          positions += this.task.size(batch);
          const l = this.task.loss(batch);
          const value = l.item();
          if (Number.isFinite(value)) (o.accumulate === 1 ? l : l.div(o.accumulate)).backward();
          return value / o.accumulate;
        });
      }
      if (!Number.isFinite(loss)) {
        this.model.zeroGrad();
        const where = this.state.bestStep === null && step < o.evalEvery ? 'no checkpoint was written yet' : 'the last good checkpoint is kept';
        throw new TrainingError(`loss is ${loss} at step ${step + 1}; training stopped (${where}). Try a lower --lr or gradient clipping`);
      }
      const gradNorm = o.clip > 0 ? clipGradNorm(params, o.clip) : clipGradNorm(params, Infinity);
      this.optimizer.step();
      this.optimizer.zeroGrad();
      this.state.step = step + 1;
      this.emit({ type: 'step', step: step + 1, loss, lr, gradNorm, positions, ms: performance.now() - t0 });
      if (this.state.step % o.evalEvery === 0 || this.state.step === o.maxSteps) last = this.evaluate();
    }
    return last;
  }

  /** Evaluates, keeps the best checkpoint, and saves the last (resumable) one. */
  evaluate(): EvalResult {
    const t0 = performance.now();
    this.model.eval();
    // evaluation draws from its own generator so it never changes the training stream
    const result = noGrad(() => this.task.evaluate(new Generator(this.options.seed + 7919 * this.state.step)));
    this.model.train();
    const value = result.metrics[result.main];
    if (value === undefined) throw new TrainingError(`evaluation has no metric "${result.main}"`);
    const better = this.state.best === null || (result.higherIsBetter ? value > this.state.best : value < this.state.best);
    if (better) {
      this.state.best = value;
      this.state.bestStep = this.state.step;
    }
    this.emit({ type: 'eval', step: this.state.step, metrics: result.metrics, best: better, ms: performance.now() - t0 });
    if (this.checkpointer) {
      this.state.dataRng = this.dataRng.getState();
      this.state.dropoutRng = defaultGenerator.getState();
      const snapshot = { model: this.model, optimizer: this.optimizer, trainer: { ...this.state }, metrics: result.metrics };
      if (better) {
        this.checkpointer.save('best', snapshot);
        this.emit({ type: 'checkpoint', step: this.state.step, kind: 'best' });
      }
      this.checkpointer.save('last', snapshot);
      this.emit({ type: 'checkpoint', step: this.state.step, kind: 'last' });
    }
    return result;
  }

  dispose(): void {
    this.optimizer.dispose();
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
