// The training loop: draw a batch, forward, backward (accumulating over micro-batches), clip,
// step the optimizer on a schedule, evaluate every K steps, keep the last and the best
// checkpoint, and stop with a clear message on a NaN or infinite loss (the update of that step
// is skipped, as a gradient scaler does). How long it runs: a number of steps, of epochs
// (seeded permutations, src/train/stopping.ts), a time budget, early stopping after `patience`
// evaluations without improvement, whichever comes first; or, with no length given, the dev
// curve (src/train/dev-curve.ts: train while the dev metric improves, decay, stop). It reports
// through events (start, step, eval, decay, checkpoint, stop); the CLI turns them into a
// progress bar and a JSON log. Its parts: options (trainer-options.ts), the run's length and
// learning rate (run-length.ts), a step's gradients (trainer-step.ts), checkpoints
// (trainer-saving.ts), running it (trainer-drive.ts), the contract with tasks (trainer-types.ts).
import { DeviceError, QkvError } from '../core/errors.js';
import { defaultGenerator, Generator } from '../core/rng.js';
import type { Module } from '../nn/module.js';
import type { Optimizer } from '../optim/optimizer.js';
import { makeSchedule, type Schedule } from '../optim/schedule.js';
import { setGradEnabled } from '../tensor/engine.js';
import { makeOptimizer } from './optimizers.js';
import { EpochSampler, type LengthFrom, recordEvaluation, shouldStopEarly } from './stopping.js';
import { newDevCurveState, type DevCurvePlan } from './dev-curve.js';
import { fmtNumber, RunLength } from './run-length.js';
import { resolveTrainerOptions, type ResolvedOptions } from './trainer-options.js';
import { computingGradients } from './trainer-step.js';
import { savingCheckpoint } from './trainer-saving.js';
import { drive, driveAsync, type Steps } from './trainer-drive.js';

export class TrainingError extends QkvError {
  override name = 'TrainingError';
}

export type { EvalResult, TrainingTask, HostTrainingTask, TrainerOptions, StopReason, TrainEvent, TrainerState, Checkpointer } from './trainer-types.js';
import type { EvalResult, TrainingTask, TrainerOptions, StopReason, TrainEvent, TrainerState, Checkpointer } from './trainer-types.js';
export { OPTIMIZERS, type OptimizerName } from './optimizers.js';

export class Trainer<Batch> {
  readonly optimizer: Optimizer;
  readonly schedule: Schedule;
  readonly options: ResolvedOptions;
  /** Optimizer steps per epoch (null: the task does not count examples). */
  readonly stepsPerEpoch: number | null;
  /** What bounds the length: explicit steps, epochs, the dev curve, or a time budget alone. */
  readonly lengthFrom: LengthFrom;
  /** The dev-curve length's plan for this data (null: the length was given). */
  readonly devCurve: DevCurvePlan | null;
  state: TrainerState;
  private readonly dataRng: Generator;
  private readonly sampler: EpochSampler | null;
  private readonly now: () => number;
  private readonly length: RunLength;
  private listeners: ((e: TrainEvent) => void)[] = [];
  /** Seconds a step has taken in this part of the run (what a time budget still allows). */
  private secondsPerStep = 0;
  /** The name of the metric the dev curve follows (known at the first evaluation). */
  private metric: string;

  constructor(readonly model: Module, readonly task: TrainingTask<Batch>, options: TrainerOptions, readonly checkpointer: Checkpointer | null = null) {
    const r = resolveTrainerOptions(options, task, (m) => new TrainingError(m));
    const o = (this.options = r.options);
    this.stepsPerEpoch = r.stepsPerEpoch;
    this.lengthFrom = r.lengthFrom;
    this.devCurve = r.plan;
    this.metric = o.monitor ?? 'metric';
    const counted = task.examples !== undefined && task.batchSize !== undefined;
    this.sampler = task.batchOf && counted ? new EpochSampler(task.examples!, task.batchSize!, o.seed, undefined, task.lengths ?? null) : null;
    this.now = options.now ?? (() => performance.now());
    // frozen parameters (LoRA's base weights) are left out, as torch's filter(requires_grad)
    this.optimizer = makeOptimizer(model.parameters().filter((p) => p.requiresGrad), o, (m) => new TrainingError(m));
    this.schedule = makeSchedule(o.schedule, o);
    this.length = new RunLength(o, this.schedule, r.lengthFrom, r.stepsPerEpoch, r.plan);
    this.dataRng = new Generator(o.seed);
    defaultGenerator.seed(o.seed + 1); // dropout masks and anything else drawing from the default
    this.state = {
      step: 0, dataRng: this.dataRng.getState(), dropoutRng: defaultGenerator.getState(), best: null, bestStep: null,
      bad: 0, epoch: { epoch: 0, cursor: 0 }, elapsed: 0, devCurve: this.devCurve ? newDevCurveState() : null, stop: null,
    };
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
    // checkpoints from before epochs, early stopping and the dev curve lack the newer fields
    const saved: Partial<TrainerState> = state;
    this.state = {
      ...state, bad: saved.bad ?? 0, epoch: saved.epoch ?? { epoch: 0, cursor: 0 }, elapsed: saved.elapsed ?? 0,
      devCurve: this.devCurve ? { ...(saved.devCurve ?? newDevCurveState()) } : null, stop: null,
    };
    this.dataRng.setState(state.dataRng);
    defaultGenerator.setState(state.dropoutRng);
    if (this.sampler) this.sampler.position = { ...this.state.epoch };
  }

  /** Epochs done (fractional); null when the task does not count examples. */
  get epochs(): number | null {
    if (this.sampler) return this.sampler.epochs;
    return this.stepsPerEpoch === null ? null : this.state.step / this.stepsPerEpoch;
  }

  /** The step the run ends at as things stand (Infinity: only the clock ends it). */
  get endStep(): number {
    return this.length.endStep(this.state);
  }

  private nextBatch(): Batch {
    if (!this.sampler) return this.task.nextBatch(this.dataRng);
    const batch = this.task.batchOf!(this.sampler.next(), this.dataRng);
    this.state.epoch = { ...this.sampler.position };
    return batch;
  }

  /** Runs until a stopping rule ends training (host backends; runAsync on a device). Returns the last evaluation. */
  run(): EvalResult | null {
    return drive(this.loop(() => null), () => new TrainingError('the model lives on a device backend, whose values are read asynchronously: use trainer.runAsync()'));
  }

  /**
   * `run`, giving the event loop a turn after every step so signal handlers and timers run:
   * once `signal` is aborted, training stops before the next step and the last checkpoint is
   * saved at the step reached (without an evaluation), so `--resume` loses nothing.
   * `signal.reason` (e.g. 'SIGINT') goes into the stop message.
   */
  runAsync(signal?: AbortSignal): Promise<EvalResult | null> {
    return driveAsync(this.loop(() => (signal?.aborted ? String(signal.reason ?? 'abort') : null)));
  }

  /**
   * The training loop, one step per `next()`; `interrupted` says why to stop early (or null). A
   * step whose loss must be read from a device yields the pending read and takes its values back.
   */
  private *loop(interrupted: () => string | null): Steps<EvalResult | null> {
    const o = this.options;
    const params = this.model.parameters().filter((p) => p.requiresGrad);
    let last: EvalResult | null = null;
    let lastEvalStep = -1;
    let lastSavedStep = -1;
    const t0 = this.now();
    const startStep = this.state.step;
    const startElapsed = this.state.elapsed;
    const elapsed = () => startElapsed + (this.now() - t0) / 1000;
    this.state.stop = null;
    // a metric the task lacks fails now, not after training to the first evaluation
    if (o.monitor !== null) yield* this.checkingMonitor(o.monitor);
    this.emit({
      type: 'start', step: this.state.step, maxSteps: this.length.shownEnd(this.state),
      stepsPerEpoch: this.stepsPerEpoch, timeBudget: o.timeBudget, devCurve: this.devCurve,
    });
    this.model.train();
    while (!this.state.stop) {
      const why = interrupted();
      if (why !== null) {
        this.stopWith('interrupted', `interrupted by ${why} at step ${this.state.step}`);
        // the steps since the last evaluation are kept: a checkpoint of this step (not evaluated: no metrics)
        if (lastSavedStep !== this.state.step && this.state.step > startStep) yield* this.savingLast(elapsed, {});
        this.state.elapsed = elapsed();
        return last;
      }
      if (this.state.step >= this.endStep) {
        this.stopWith(...this.length.stop(this.state, this.metric));
        break;
      }
      // at least one step per run, so a budget always buys progress
      if (o.timeBudget !== null && this.state.step > startStep && elapsed() >= o.timeBudget) {
        this.stopWith('time', this.length.timeStop(elapsed(), this.state.step));
        break;
      }
      // where the data and dropout streams stood before this step: a step a device fault cuts
      // short is saved as not taken (see savingAfterFault)
      let rewind: Rewind | null = { dataRng: this.dataRng.getState(), dropoutRng: defaultGenerator.getState(), epoch: { ...this.state.epoch } };
      try {
        const step = this.state.step;
        const ts = this.now();
        const lr = this.length.lr(this.state, step, elapsed());
        this.optimizer.lr = lr;
        const readNow = o.nanGuard || (step + 1) % o.logEvery === 0 || step + 1 >= this.endStep;
        const { loss, gradNorm, positions } = yield* computingGradients(this.task, () => this.nextBatch(), params, o, readNow);
        if (loss !== null && !Number.isFinite(loss)) {
          this.model.zeroGrad(); // the update is skipped: parameters and optimizer state stay as they were
          const where = this.state.bestStep === null && step < o.evalEvery ? 'no checkpoint was written yet' : 'the last good checkpoint is kept';
          const unread = o.nanGuard ? '' : ` (the loss is read every ${o.logEvery} steps without the NaN guard: updates since the last read may have used it)`;
          throw new TrainingError(`loss is ${loss} at step ${step + 1}${unread}; training stopped (${where}). Try a lower --lr or gradient clipping`);
        }
        this.optimizer.step();
        this.optimizer.zeroGrad();
        this.state.step = step + 1;
        rewind = null;
        const now = elapsed();
        this.secondsPerStep = (now - startElapsed) / (this.state.step - startStep);
        this.emit({
          type: 'step', step: step + 1, loss, lr, gradNorm, positions, ms: this.now() - ts, epoch: this.epochs, secondsLeft: this.length.secondsLeft(this.state, now, this.secondsPerStep),
        });
        if (this.state.step % o.evalEvery === 0 || this.state.step === this.endStep) {
          last = yield* this.evaluating(elapsed);
          lastEvalStep = lastSavedStep = this.state.step;
          if (shouldStopEarly(this.state, o.patience)) {
            this.stopWith('patience', `no improvement of ${this.monitored(last).metric} in ${o.patience} evaluations (best ${fmtNumber(this.state.best!)} at step ${this.state.bestStep})`);
          }
        }
        yield this.state.step;
      } catch (e) {
        if (!(e instanceof DeviceError)) throw e;
        if (lastSavedStep !== this.state.step && this.state.step > startStep) yield* this.savingAfterFault(rewind, elapsed);
        throw e;
      }
    }
    // a run cut by time gets its final evaluation and checkpoint
    if (lastEvalStep !== this.state.step && this.state.step > startStep) last = yield* this.evaluating(elapsed);
    this.state.elapsed = elapsed();
    return last;
  }

  /**
   * After a device fault (a lost GPU, an out-of-memory): saves the last checkpoint at the step
   * reached, as an interrupt does, when the device can still give its values back (a buffer over
   * its limit); a lost device cannot, and the checkpoint saved before stays. A step the fault cut
   * short is saved as not taken (its batch and dropout draws rewound).
   */
  private *savingAfterFault(rewind: Rewind | null, elapsed: () => number): globalThis.Generator<Promise<unknown>, void, unknown> {
    if (!this.checkpointer) return;
    if (rewind) {
      this.dataRng.setState(rewind.dataRng);
      defaultGenerator.setState(rewind.dropoutRng);
      this.state.epoch = rewind.epoch;
      if (this.sampler) this.sampler.position = { ...rewind.epoch };
    }
    this.model.zeroGrad();
    try {
      yield* this.savingLast(elapsed, {});
    } catch {
      // the device's values cannot be read back: the last checkpoint on disk is the latest
    }
  }

  private stopWith(reason: StopReason, message: string): void {
    this.state.stop = { reason, step: this.state.step, message };
    this.emit({ type: 'stop', step: this.state.step, reason, message });
  }

  /** The metric that picks the best checkpoint and drives early stopping. */
  private monitored(r: EvalResult): { metric: string; higherIsBetter: boolean } {
    const metric = this.options.monitor ?? r.main;
    if (metric === r.main) return { metric, higherIsBetter: r.higherIsBetter };
    return { metric, higherIsBetter: !/loss|perplexity|bits|error/i.test(metric) };
  }

  /** The task's evaluation before training (nothing recorded or saved): does it report `metric`? */
  private *checkingMonitor(metric: string): globalThis.Generator<Promise<unknown>, void, unknown> {
    const result = yield* this.evaluatedOnly();
    if (result.metrics[metric] === undefined) {
      throw new QkvError(`monitor "${metric}" (--monitor): the task's evaluation has no metric "${metric}"; it reports ${Object.keys(result.metrics).join(', ')}`);
    }
  }

  /** The task's evaluation in eval mode with gradients off, drawing from its own generator (never the training stream). */
  private *evaluatedOnly(): globalThis.Generator<Promise<unknown>, EvalResult, unknown> {
    this.model.eval();
    const wasEnabled = setGradEnabled(false);
    try {
      const r = this.task.evaluate(new Generator(this.options.seed + 7919 * this.state.step));
      return r instanceof Promise ? (yield r) as EvalResult : r;
    } finally {
      setGradEnabled(wasEnabled);
      this.model.train();
    }
  }

  /** Evaluates, keeps the best checkpoint, and saves the last (resumable) one (a task that answers synchronously). */
  evaluate(elapsed: () => number = () => this.state.elapsed): EvalResult {
    const steps = this.evaluating(elapsed);
    const r = steps.next();
    if (!r.done) {
      steps.return(undefined as never);
      throw new TrainingError('the task evaluates asynchronously (a device backend): run the trainer with runAsync()');
    }
    return r.value;
  }

  /**
   * evaluate(), yielding the task's pending evaluation (a device's reads) for runAsync to await.
   * The dev curve takes the evaluation before the last checkpoint is saved, so a resumed run
   * knows whether its decay has started.
   */
  private *evaluating(elapsed: () => number): globalThis.Generator<Promise<unknown>, EvalResult, unknown> {
    const t0 = this.now();
    // evaluation draws from its own generator so it never changes the training stream; grad stays
    // off until an asynchronous evaluation has finished
    const result = yield* this.evaluatedOnly();
    const { metric, higherIsBetter } = this.monitored(result);
    const value = result.metrics[metric];
    if (value === undefined) throw new TrainingError(`evaluation has no metric "${metric}" (it has ${Object.keys(result.metrics).join(', ')})`);
    const better = recordEvaluation(this.state, value, this.state.step, higherIsBetter);
    this.emit({ type: 'eval', step: this.state.step, metrics: result.metrics, main: metric, best: better, ms: this.now() - t0 });
    this.metric = metric;
    const decay = this.length.evaluated(this.state, value, higherIsBetter, elapsed(), this.secondsPerStep);
    if (decay) this.emit(decay);
    if (better && this.checkpointer) {
      yield* this.saving('best', elapsed, result.metrics);
      this.emit({ type: 'checkpoint', step: this.state.step, kind: 'best' });
    }
    yield* this.savingLast(elapsed, result.metrics);
    return result;
  }

  /** Everything a checkpoint holds, with the generators' states as they are now. */
  private snapshot(elapsed: () => number, metrics: Record<string, number>) {
    this.state.dataRng = this.dataRng.getState();
    this.state.dropoutRng = defaultGenerator.getState();
    this.state.elapsed = elapsed();
    const trainer: TrainerState = { ...this.state, epoch: { ...this.state.epoch }, devCurve: this.state.devCurve && { ...this.state.devCurve } };
    return { model: this.model, optimizer: this.optimizer, trainer, metrics };
  }

  /** Saves the last (resumable) checkpoint; `metrics` are those of the latest evaluation. */
  private *savingLast(elapsed: () => number, metrics: Record<string, number>): globalThis.Generator<Promise<unknown>, void, unknown> {
    if (!this.checkpointer) return;
    yield* this.saving('last', elapsed, metrics);
    this.emit({ type: 'checkpoint', step: this.state.step, kind: 'last' });
  }

  private *saving(kind: 'last' | 'best', elapsed: () => number, metrics: Record<string, number>): globalThis.Generator<Promise<unknown>, void, unknown> {
    yield* savingCheckpoint(this.checkpointer!, kind, this.snapshot(elapsed, metrics));
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}

/** The streams' positions before a step. */
interface Rewind { dataRng: number[]; dropoutRng: number[]; epoch: TrainerState['epoch'] }

