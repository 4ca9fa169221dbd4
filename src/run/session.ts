// A training run on disk (Node): DIR/last (resumable: model, optimizer, loop state),
// DIR/best (the best model by the task's main metric), both written atomically at every
// evaluation. `resume` continues from DIR/last exactly: same batches, same dropout masks.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Generator } from '../core/rng.js';
import type { TaskDriver, TaskInstance, TaskName } from '../tasks/driver.js';
import { readCheckpoint, saveCheckpoint, CheckpointError, isCheckpoint } from '../train/checkpoint.js';
import { Trainer, type EvalResult, type TrainEvent, type TrainerOptions, type TrainerState } from '../train/trainer.js';

export const CHECKPOINT_FORMAT = 'qkv-checkpoint';

export interface SessionOptions {
  out: string;
  resume?: boolean;
  trainer: TrainerOptions;
  /** Task options (batch size, label smoothing, model hyperparameters...). */
  task: Record<string, unknown>;
  /** Written into config.json, e.g. where the data came from. */
  meta?: Record<string, unknown>;
  /** Evaluate on at most this many dev examples (the first N): bounds the cost of each evaluation. */
  evalMax?: number;
  onEvent?: (e: TrainEvent) => void;
  /** Called after every evaluation with the model being trained (e.g. to record its attention). */
  onEvaluated?: (instance: TaskInstance, step: number, metrics: Record<string, number>) => void;
}

export interface SessionResult {
  out: string;
  steps: number;
  seconds: number;
  /** Seconds of those spent evaluating (and checkpointing is not in it). */
  evalSeconds: number;
  /** Epochs done in all (null: the task does not count examples). */
  epochs: number | null;
  /** Why and at which step training stopped. */
  stop: TrainerState['stop'];
  /** Dev examples each evaluation used, of how many. */
  dev: { used: number; of: number };
  positionsPerSecond: number;
  last: EvalResult | null;
  best: { metric: string; value: number | null; step: number | null };
  parameters: number;
}

/** The checkpoint a --model argument names: DIR itself, or DIR/best, or DIR/last. */
export function resolveCheckpoint(dir: string): string {
  for (const d of [dir, join(dir, 'best'), join(dir, 'last')]) if (isCheckpoint(d)) return d;
  if (!existsSync(dir)) throw new CheckpointError(`${dir}: no such directory`);
  throw new CheckpointError(`${dir}: not a qkv model (no checkpoint in it, nor in ${join(dir, 'best')} or ${join(dir, 'last')})`);
}

/** Loads a trained model for `driver`'s task, refusing a checkpoint of another task. */
export function loadInstance<I extends TaskInstance>(driver: TaskDriver<I, unknown, unknown, unknown>, dir: string): { instance: I; config: Record<string, unknown>; dir: string } {
  const ck = readCheckpoint(resolveCheckpoint(dir));
  const task = ck.config.task as TaskName | undefined;
  if (ck.config.format !== CHECKPOINT_FORMAT) throw new CheckpointError(`${ck.dir}: not a qkv checkpoint (config.json has no "format": "${CHECKPOINT_FORMAT}")`);
  if (task !== driver.name) throw new CheckpointError(`${ck.dir}: this is a ${task} model, not a ${driver.name} model`);
  const instance = driver.fromConfig(ck.config, ck.files);
  try {
    instance.model.loadStateDict(ck.tensors);
  } finally {
    for (const t of ck.tensors.values()) t.dispose();
    if (ck.optimizer) for (const t of ck.optimizer.tensors.values()) t.dispose();
  }
  instance.model.eval();
  return { instance, config: ck.config, dir: ck.dir };
}

export function trainSession<I extends TaskInstance, E>(driver: TaskDriver<I, E, unknown, unknown>, train: readonly E[], dev: readonly E[], o: SessionOptions): SessionResult {
  const seed = o.trainer.seed ?? 0;
  let instance: I;
  let restored: { state: TrainerState; optimizer: { tensors: Map<string, import('../tensor/tensor.js').Tensor>; stepCount: number } } | null = null;
  if (o.resume) {
    const lastDir = join(o.out, 'last');
    if (!isCheckpoint(lastDir)) throw new CheckpointError(`--resume: ${lastDir} holds no checkpoint to resume from`);
    const ck = readCheckpoint(lastDir);
    if (ck.config.task !== driver.name) throw new CheckpointError(`--resume: ${lastDir} is a ${String(ck.config.task)} run, not ${driver.name}`);
    if (!ck.trainer || !ck.optimizer) throw new CheckpointError(`--resume: ${lastDir} has no optimizer or trainer state`);
    instance = driver.fromConfig(ck.config, ck.files);
    instance.model.loadStateDict(ck.tensors);
    for (const t of ck.tensors.values()) t.dispose();
    restored = { state: ck.trainer.state as TrainerState, optimizer: ck.optimizer };
  } else {
    instance = driver.create(train, { ...o.task, generator: new Generator(seed + 2) });
  }
  const devUsed = o.evalMax !== undefined && dev.length > o.evalMax ? dev.slice(0, o.evalMax) : dev;
  const trainingTask = driver.training(instance, train, devUsed, o.task);
  const config = (metrics: Record<string, number>, step: number) => ({
    format: CHECKPOINT_FORMAT, ...instance.config, meta: o.meta ?? {}, step, metrics,
    // the length as resolved (epochs, the automatic rule) is what the schedule was laid over
    training: { ...o.trainer, maxSteps: trainer.options.maxSteps, decaySteps: trainer.options.decaySteps, ...o.task, generator: undefined, now: undefined },
  });
  const trainer = new Trainer(instance.model, trainingTask, o.trainer, {
    save: (kind, s) => saveCheckpoint(join(o.out, kind), {
      config: config(s.metrics, s.trainer.step), model: s.model,
      optimizer: kind === 'last' ? s.optimizer : null, trainer: kind === 'last' ? { state: s.trainer } : null,
      files: instance.files?.() ?? {},
    }),
  });
  if (restored) {
    trainer.optimizer.importState(restored.optimizer);
    for (const t of restored.optimizer.tensors.values()) t.dispose();
    trainer.restore(restored.state);
  }
  let positions = 0;
  let evalMs = 0;
  trainer.on((e) => {
    if (e.type === 'step') positions += e.positions;
    if (e.type === 'eval') evalMs += e.ms;
    o.onEvent?.(e);
    if (e.type === 'eval') o.onEvaluated?.(instance, e.step, e.metrics);
  });
  const startStep = trainer.state.step;
  const t0 = performance.now();
  const last = trainer.run();
  const seconds = (performance.now() - t0) / 1000;
  trainer.dispose();
  const main = last?.main ?? 'loss';
  return {
    out: o.out, steps: trainer.state.step - startStep, seconds, evalSeconds: evalMs / 1000, epochs: trainer.epochs, stop: trainer.state.stop,
    dev: { used: devUsed.length, of: dev.length }, positionsPerSecond: seconds > 0 ? positions / seconds : 0, last,
    best: { metric: o.trainer.monitor ?? main, value: trainer.state.best, step: trainer.state.bestStep }, parameters: instance.model.parameterCount(),
  };
}
