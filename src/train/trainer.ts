// The training loop: draw a batch, forward, backward (accumulating over micro-batches), clip,
// step the optimizer on a schedule, evaluate every K steps, keep the last and the best
// checkpoint, and stop with a clear message on a NaN or infinite loss (the update of that step
// is skipped, as a gradient scaler does). The loss (and the gradient norm beside it) is read back
// once per step after the update is queued, or once per `logEvery` steps with the NaN guard off:
// on a GPU that one read is the step's only trip to the CPU. How long it runs: a
// number of steps, of epochs (seeded permutations, src/train/stopping.ts), a time budget, and
// early stopping after `patience` evaluations without improvement, whichever comes first.
// It reports through events (start, step, eval, checkpoint); the CLI turns them into a
// progress bar and a JSON log.
import { DeviceError, QkvError } from '../core/errors.js';
import { checkOptions, optionKeys } from '../core/options.js';
import { defaultGenerator, Generator } from '../core/rng.js';
import type { Module } from '../nn/module.js';
import { clipGradNorm } from '../optim/clip.js';
import type { Optimizer } from '../optim/optimizer.js';
import { makeSchedule, type Schedule, type ScheduleName } from '../optim/schedule.js';
import { makeOptimizer, type OptimizerName } from './optimizers.js';
import { EpochSampler, resolveLength, type LengthFrom, formatDuration, recordEvaluation, shouldStopEarly } from './stopping.js';
import type { TypedArray } from '../core/dtype.js';
import { isDeviceBackend } from '../kernels/registry.js';
import { add } from '../ops/elementwise.js';
import { stack } from '../ops/join.js';
import { noGrad, setGradEnabled, tidy } from '../tensor/engine.js';
import type { Tensor } from '../tensor/tensor.js';

export class TrainingError extends QkvError {
  override name = 'TrainingError';
}

export type { EvalResult, TrainingTask, HostTrainingTask, TrainerOptions, StopReason, TrainEvent, TrainerState, Checkpointer } from './trainer-types.js';
import type { EvalResult, TrainingTask, TrainerOptions, StopReason, TrainEvent, TrainerState, Checkpointer } from './trainer-types.js';
export { OPTIMIZERS, type OptimizerName } from './optimizers.js';

type ResolvedOptions = Required<Omit<TrainerOptions, 'decaySteps' | 'dModel' | 'maxSteps' | 'epochs' | 'auto' | 'timeBudget' | 'monitor' | 'now'>> & {
  decaySteps: number; dModel: number; maxSteps: number; timeBudget: number | null; monitor: string | null;
};

export class Trainer<Batch> {
  readonly optimizer: Optimizer;
  readonly schedule: Schedule;
  readonly options: ResolvedOptions;
  /** Optimizer steps per epoch (null: the task does not count examples). */
  readonly stepsPerEpoch: number | null;
  /** What bounds the length: explicit steps, epochs, or the automatic rule. */
  readonly lengthFrom: LengthFrom;
  state: TrainerState;
  private readonly dataRng: Generator;
  private readonly sampler: EpochSampler | null;
  private readonly now: () => number;
  private listeners: ((e: TrainEvent) => void)[] = [];

  constructor(readonly model: Module, readonly task: TrainingTask<Batch>, options: TrainerOptions, readonly checkpointer: Checkpointer | null = null) {
    checkOptions('Trainer', options, optionKeys<TrainerOptions>({
      optimizer: 1, lr: 1, minLr: 1, weightDecay: 1, decay: 1, beta1: 1, beta2: 1, momentum: 1, schedule: 1, warmup: 1, decaySteps: 1, dModel: 1,
      maxSteps: 1, epochs: 1, auto: 1, timeBudget: 1, patience: 1, monitor: 1, now: 1, clip: 1, accumulate: 1, evalEvery: 1, seed: 1,
      nanGuard: 1, logEvery: 1,
    }));
    const accumulate = options.accumulate ?? 1;
    const seed = options.seed ?? 0;
    const counted = task.examples !== undefined && task.batchSize !== undefined;
    this.sampler = task.batchOf && counted ? new EpochSampler(task.examples!, task.batchSize!, seed, undefined, task.lengths ?? null) : null;
    const batchesPerEpoch = counted ? Math.max(1, Math.ceil(task.examples! / task.batchSize!)) : null;
    this.stepsPerEpoch = batchesPerEpoch === null ? null : batchesPerEpoch / accumulate;
    const { maxSteps, lengthFrom } = resolveLength(options, this.stepsPerEpoch, (m) => new TrainingError(m));
    this.lengthFrom = lengthFrom;
    const o = {
      optimizer: 'adamw' as OptimizerName, lr: 1e-3, minLr: (options.lr ?? 1e-3) / 10, weightDecay: 0.01, decay: 'all' as 'all' | 'matrices', beta1: 0.9, beta2: 0.999,
      momentum: 0.9, schedule: 'cosine' as ScheduleName, warmup: 0, clip: 1, accumulate: 1, evalEvery: 100, seed: 0, patience: 0,
      nanGuard: true, logEvery: 1, ...options,
      // a run bounded by time alone decays over a nominal horizon, reached when the budget is
      maxSteps, decaySteps: options.decaySteps ?? (Number.isFinite(maxSteps) ? maxSteps : 1_000_000), dModel: options.dModel ?? 512,
      timeBudget: options.timeBudget ?? null, monitor: options.monitor ?? null,
    };
    for (const k of ['accumulate', 'evalEvery', 'logEvery'] as const) {
      if (!Number.isInteger(o[k]) || o[k] < 1) throw new TrainingError(`${k} must be a positive integer, got ${o[k]}`);
    }
    if (!Number.isInteger(o.patience) || o.patience < 0) throw new TrainingError(`patience must be an integer >= 0, got ${o.patience}`);
    if (o.timeBudget !== null && !(o.timeBudget > 0)) throw new TrainingError(`timeBudget must be > 0 seconds, got ${o.timeBudget}`);
    if (!(o.lr > 0)) throw new TrainingError(`lr must be > 0, got ${o.lr}`);
    this.options = o;
    this.now = options.now ?? (() => performance.now());
    // frozen parameters (LoRA's base weights) are left out, as torch's filter(requires_grad)
    this.optimizer = makeOptimizer(model.parameters().filter((p) => p.requiresGrad), o, (m) => new TrainingError(m));
    this.schedule = makeSchedule(o.schedule, o);
    this.dataRng = new Generator(o.seed);
    defaultGenerator.seed(o.seed + 1); // dropout masks and anything else drawing from the default
    this.state = {
      step: 0, dataRng: this.dataRng.getState(), dropoutRng: defaultGenerator.getState(), best: null, bestStep: null,
      bad: 0, epoch: { epoch: 0, cursor: 0 }, elapsed: 0, stop: null,
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
    // checkpoints from before epochs and early stopping lack the newer fields
    const saved: Partial<TrainerState> = state;
    this.state = { ...state, bad: saved.bad ?? 0, epoch: saved.epoch ?? { epoch: 0, cursor: 0 }, elapsed: saved.elapsed ?? 0, stop: null };
    this.dataRng.setState(state.dataRng);
    defaultGenerator.setState(state.dropoutRng);
    if (this.sampler) this.sampler.position = { ...this.state.epoch };
  }

  /** Epochs done (fractional); null when the task does not count examples. */
  get epochs(): number | null {
    if (this.sampler) return this.sampler.epochs;
    return this.stepsPerEpoch === null ? null : this.state.step / this.stepsPerEpoch;
  }

  private nextBatch(): Batch {
    if (!this.sampler) return this.task.nextBatch(this.dataRng);
    const batch = this.task.batchOf!(this.sampler.next(), this.dataRng);
    this.state.epoch = { ...this.sampler.position };
    return batch;
  }

  /**
   * The learning rate of `step`: the schedule laid over the run's real length. With a time
   * budget the schedule runs at least as fast as the budget is used, so a run cut by time still
   * ends its cosine decay.
   */
  private lrAt(step: number, elapsed: number): number {
    const o = this.options;
    if (o.timeBudget === null || o.schedule !== 'cosine' || step < o.warmup) return this.schedule(step);
    return this.schedule(Math.max(step, Math.floor((elapsed / o.timeBudget) * o.decaySteps)));
  }

  /** Runs until a stopping rule ends training (host backends; runAsync on a device). Returns the last evaluation. */
  run(): EvalResult | null {
    const steps = this.loop(() => null);
    let r = steps.next();
    while (!r.done) {
      if (r.value instanceof Promise) throw new TrainingError('the model lives on a device backend, whose values are read asynchronously: use trainer.runAsync()');
      r = steps.next();
    }
    return r.value;
  }

  /**
   * `run`, giving the event loop a turn after every step so signal handlers and timers run:
   * once `signal` is aborted, training stops before the next step and the last checkpoint is
   * saved at the step reached (without an evaluation), so `--resume` loses nothing.
   * `signal.reason` (e.g. 'SIGINT') goes into the stop message.
   */
  async runAsync(signal?: AbortSignal): Promise<EvalResult | null> {
    const steps = this.loop(() => (signal?.aborted ? String(signal.reason ?? 'abort') : null));
    let r = steps.next();
    while (!r.done) {
      // a step yields a pending read (a device's loss) to wait for, or its number when done; a
      // read that fails (a lost GPU) is thrown into the loop, which saves what it can
      let read: unknown;
      try {
        read = r.value instanceof Promise ? await r.value : undefined;
      } catch (e) {
        r = steps.throw(e);
        continue;
      }
      if (read === undefined) await yieldToEventLoop();
      r = steps.next(read);
    }
    return r.value;
  }

  /**
   * The training loop, one step per `next()`; `interrupted` says why to stop early (or null). A
   * step whose loss must be read from a device yields the pending read and takes its values back.
   */
  private *loop(interrupted: () => string | null): globalThis.Generator<number | Promise<unknown>, EvalResult | null, unknown> {
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
    this.emit({ type: 'start', step: this.state.step, maxSteps: o.maxSteps, stepsPerEpoch: this.stepsPerEpoch, timeBudget: o.timeBudget });
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
      if (this.state.step >= o.maxSteps) {
        this.stopWith(this.lengthFrom === 'epochs' ? 'epochs' : 'steps', this.lengthFrom === 'epochs'
          ? `finished ${epochs(o.maxSteps / this.stepsPerEpoch!)} (${o.maxSteps} steps)`
          : this.lengthFrom === 'auto' ? `reached the length picked from the data: ${o.maxSteps} steps${this.stepsPerEpoch ? ` (${epochs(o.maxSteps / this.stepsPerEpoch)})` : ''}`
            : `reached ${o.maxSteps} steps`);
        break;
      }
      // at least one step per run, so a budget always buys progress
      if (o.timeBudget !== null && this.state.step > startStep && elapsed() >= o.timeBudget) {
        this.stopWith('time', `used the time budget of ${formatDuration(o.timeBudget)} (${formatDuration(elapsed())} at step ${this.state.step})`);
        break;
      }
      // where the data and dropout streams stood before this step: a step a device fault cuts
      // short is saved as not taken (see savingAfterFault)
      let rewind: Rewind | null = { dataRng: this.dataRng.getState(), dropoutRng: defaultGenerator.getState(), epoch: { ...this.state.epoch } };
      try {
        const step = this.state.step;
        const ts = this.now();
        const lr = this.lrAt(step, elapsed());
        this.optimizer.lr = lr;
        let lossSum: Tensor | null = null; // the micro-batches' mean loss, 0-d, never read inside the step
        let positions = 0;
        for (let micro = 0; micro < o.accumulate; micro++) {
          // the batch's tensors are made inside the scope, so they are freed with the step's
          // temporaries (found by scripts/long-memory.mjs: 5 tensors a step stayed alive)
          const part = tidy(() => {
            const batch = this.nextBatch();
            positions += this.task.size(batch);
            const l = this.task.loss(batch);
            const scaled = o.accumulate === 1 ? l : l.div(o.accumulate);
            scaled.backward();
            return scaled.detach();
          });
          const sum: Tensor = lossSum ? noGrad(() => add(lossSum!, part)) : part;
          if (lossSum) { lossSum.dispose(); part.dispose(); }
          lossSum = sum;
        }
        const norm = o.clip > 0 ? clipGradNorm(params, o.clip) : clipGradNorm(params, Infinity);
        // one read for both numbers: [loss, gradNorm]
        const readNow = o.nanGuard || (step + 1) % o.logEvery === 0 || step + 1 >= o.maxSteps;
        let stats: TypedArray | null = null;
        if (readNow) {
          const both = noGrad(() => stack([lossSum!, norm]));
          stats = isDeviceBackend(both.backend) ? (yield both.data().finally(() => both.dispose())) as TypedArray : both.toTypedArray();
          if (!isDeviceBackend(both.backend)) both.dispose();
        }
        lossSum!.dispose();
        norm.dispose();
        const loss = stats ? stats[0]! : null;
        const gradNorm = stats ? stats[1]! : null;
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
        const perStep = (now - startElapsed) / (this.state.step - startStep);
        const bySteps = Number.isFinite(o.maxSteps) ? (o.maxSteps - this.state.step) * perStep : Infinity;
        const secondsLeft = Math.min(bySteps, o.timeBudget === null ? Infinity : Math.max(0, o.timeBudget - now));
        this.emit({
          type: 'step', step: step + 1, loss, lr, gradNorm, positions, ms: this.now() - ts, epoch: this.epochs,
          secondsLeft: Number.isFinite(secondsLeft) ? secondsLeft : null,
        });
        if (this.state.step % o.evalEvery === 0 || this.state.step === o.maxSteps) {
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
      throw new QkvError(`--monitor ${metric}: the task's evaluation has no metric "${metric}"; it reports ${Object.keys(result.metrics).join(', ')}`);
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

  /** evaluate(), yielding the task's pending evaluation (a device's reads) for runAsync to await. */
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
    return { model: this.model, optimizer: this.optimizer, trainer: { ...this.state }, metrics };
  }

  /** Saves the last (resumable) checkpoint; `metrics` are those of the latest evaluation. */
  private *savingLast(elapsed: () => number, metrics: Record<string, number>): globalThis.Generator<Promise<unknown>, void, unknown> {
    if (!this.checkpointer) return;
    yield* this.saving('last', elapsed, metrics);
    this.emit({ type: 'checkpoint', step: this.state.step, kind: 'last' });
  }

  /**
   * Saves a checkpoint. The writer reads tensors synchronously, so on a device backend the model's
   * and the optimizer's tensors are first read to host copies (one pending read, counted as
   * transfers: a checkpoint is the one place a run moves its weights), which it then writes.
   */
  private *saving(kind: 'last' | 'best', elapsed: () => number, metrics: Record<string, number>): globalThis.Generator<Promise<unknown>, void, unknown> {
    const snap = this.snapshot(elapsed, metrics);
    const first = this.model.parameters()[0];
    if (!first || !isDeviceBackend(first.backend)) return this.checkpointer!.save(kind, snap);
    const model = this.model.stateDict();
    const opt = this.optimizer.exportState();
    const toHost = async (m: Map<string, Tensor>) => new Map(await Promise.all([...m].map(async ([k, t]) => [k, await t.toAsync('ref')] as [string, Tensor])));
    const [hostModel, hostOpt] = (yield Promise.all([toHost(model), toHost(opt.tensors)])) as [Map<string, Tensor>, Map<string, Tensor>];
    try {
      this.checkpointer!.save(kind, {
        ...snap,
        // what the writer asks of them: the state dict, the optimizer's state
        model: { stateDict: () => hostModel } as unknown as Module,
        optimizer: { exportState: () => ({ tensors: hostOpt, stepCount: opt.stepCount }) } as unknown as Optimizer,
      });
    } finally {
      for (const t of [...hostModel.values(), ...hostOpt.values()]) t.dispose();
    }
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}

/** The streams' positions before a step. */
interface Rewind { dataRng: number[]; dropoutRng: number[]; epoch: TrainerState['epoch'] }

/** A turn of the event loop (setImmediate in Node: no 1 ms timer floor per step). */
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => {
  if (typeof setImmediate === 'function') setImmediate(resolve);
  else setTimeout(resolve, 0);
});

const epochs = (n: number): string => `${fmtNumber(n)} epoch${n === 1 ? '' : 's'}`;
const fmtNumber = (x: number): string => (Number.isInteger(x) ? String(x) : x.toFixed(4).replace(/0+$/, ''));
