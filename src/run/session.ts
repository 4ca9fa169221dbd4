// A training run on disk (Node): DIR/last (resumable: model, optimizer, loop state),
// DIR/best (the best model by the task's main metric), both written atomically at every
// evaluation. `resume` continues from DIR/last exactly: same batches, same dropout masks.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Generator } from '../core/rng.js';
import type { TaskDriver, TaskInstance, TaskName, TaskOptions } from '../tasks/driver.js';
import { readCheckpoint, removeLeftovers, saveCheckpoint, CheckpointError, isCheckpoint, type CheckpointRead } from '../train/checkpoint.js';
import { checkResume, flagOf, resumeDifferences } from './resume-check.js';
import { parseTokenizerJson } from '../data/tokenizers/index.js';
import { DEFAULT_BPE_VOCAB, TOKENIZER_FILE } from '../data/tokenizers/subword.js';
import { Trainer, type EvalResult, type TrainEvent, type TrainerOptions, type TrainerState } from '../train/trainer.js';
import type { DevCurveOptions } from '../train/dev-curve.js';

export const CHECKPOINT_FORMAT = 'qkv-checkpoint';

/** What loading a checkpoint needs of a task's driver: its name and fromConfig (any driver is one). */
export type Loader<I extends TaskInstance> = Pick<TaskDriver<I, unknown, unknown, unknown>, 'name' | 'fromConfig'>;

export interface SessionOptions<O extends TaskOptions = TaskOptions & Record<string, unknown>> {
  out: string;
  resume?: boolean;
  trainer: TrainerOptions;
  /** Task options (batch size, label smoothing, model hyperparameters...), the driver's own type. */
  task: O;
  /** Written into config.json, e.g. where the data came from. */
  meta?: Record<string, unknown>;
  /** Evaluate on at most this many dev examples (the first N): bounds the cost of each evaluation. */
  evalMax?: number;
  onEvent?: (e: TrainEvent) => void;
  /** Called after every evaluation with the model being trained (e.g. to record its attention). */
  onEvaluated?: (instance: TaskInstance, step: number, metrics: Record<string, number>) => void;
  /**
   * With `resume`: the options the user set (flag attribute names: dModel, maxSteps, ...). Only
   * those are compared with the run's; without it every option given is.
   */
  explicit?: ReadonlySet<string>;
  /** A resumed run whose training options or length differ from the run's says so here (default: stderr). */
  onWarning?: (message: string) => void;
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
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new CheckpointError(`${dir}: is a file, not a qkv model directory`);
  for (const d of [dir, join(dir, 'best'), join(dir, 'last')]) if (isCheckpoint(d)) return d;
  if (!existsSync(dir)) throw new CheckpointError(`${dir}: no such directory`);
  throw new CheckpointError(`${dir}: not a qkv model (no checkpoint in it, nor in ${join(dir, 'best')} or ${join(dir, 'last')})`);
}

/** Loads a trained model for `driver`'s task, refusing a checkpoint of another task. */
export function loadInstance<I extends TaskInstance>(driver: Loader<I>, dir: string): { instance: I; config: Record<string, unknown>; dir: string } {
  // loadInstance('runs/x') (the task's driver left out) was a raw TypeError deep in node:fs
  if (typeof driver !== 'object' || driver === null || typeof driver.fromConfig !== 'function') {
    throw new CheckpointError(`loadInstance(driver, dir): the first argument must be a task driver (tagDriver, ...); to load a run of any task use loadModel(${typeof driver === 'string' ? JSON.stringify(driver) : 'dir'})`);
  }
  if (typeof dir !== 'string' || dir === '') throw new CheckpointError(`loadInstance: expected a run directory (a path string), got ${dir === '' ? 'an empty string' : typeof dir}`);
  const ck = readCheckpoint(resolveCheckpoint(dir));
  const task = ck.config.task as TaskName | undefined;
  if (ck.config.format !== CHECKPOINT_FORMAT) throw new CheckpointError(`${ck.dir}: not a qkv checkpoint (config.json has no "format": "${CHECKPOINT_FORMAT}")`);
  if (task !== driver.name) throw new CheckpointError(`${ck.dir}: this is a ${task} model, not a ${driver.name} model`);
  let instance: I;
  try {
    instance = rebuild(driver, ck);
  } finally {
    for (const t of ck.tensors.values()) t.dispose();
    if (ck.optimizer) for (const t of ck.optimizer.tensors.values()) t.dispose();
  }
  instance.model.eval();
  return { instance, config: ck.config, dir: ck.dir };
}

/** The model a checkpoint describes, with its weights; any problem is a CheckpointError naming the directory. */
function rebuild<I extends TaskInstance>(driver: Loader<I>, ck: CheckpointRead): I {
  const config = join(ck.dir, 'config.json');
  if (!ck.config.model || typeof ck.config.model !== 'object') throw new CheckpointError(`${config}: no "model" object (the model's options)`);
  let instance: I;
  try {
    instance = driver.fromConfig(ck.config, ck.files);
  } catch (e) {
    throw new CheckpointError(`${config}: cannot rebuild the ${driver.name} model (${(e as Error).message})`);
  }
  try {
    instance.model.loadStateDict(ck.tensors);
  } catch (e) {
    throw new CheckpointError(`${join(ck.dir, 'model.safetensors')}: does not fit the model in config.json (${(e as Error).message})`);
  }
  return instance;
}

/** A BPE tokenizer trained to fewer tokens than asked (merges need pairs seen twice): what to say, or null. */
function shortVocabulary(instance: TaskInstance, asked: unknown): string | null {
  const file = instance.files?.()[TOKENIZER_FILE];
  if (file === undefined) return null;
  const want = typeof asked === 'number' ? asked : DEFAULT_BPE_VOCAB;
  const t = parseTokenizerJson(file, TOKENIZER_FILE);
  if (t.size >= want) return null;
  return `--vocab-size ${want}: the training data gives only ${t.size} tokens (${t.model.merges.length} merges; a merge needs a pair seen at least twice), so the vocabulary is ${t.size}`;
}

/** Length options the user sets: resuming with none of them keeps the run's own length (and so its schedule). */
const LENGTH_KEYS = ['maxSteps', 'maxIters', 'epochs', 'timeBudget'];

/**
 * The trainer options of a resumed run: with `explicit` (the options the user set) naming no
 * length, the saved run's length, time budget and patience, not a length picked anew; a run
 * that followed the dev curve goes on following it (its phase is in trainer.json).
 */
function keptLength(saved: Record<string, unknown>, now: TrainerOptions, explicit?: ReadonlySet<string>): TrainerOptions {
  if (!explicit || LENGTH_KEYS.some((k) => explicit.has(k))) return now;
  const steps = saved.maxSteps;
  const budget = typeof saved.timeBudget === 'number' ? saved.timeBudget : undefined;
  if (saved.devCurve && typeof saved.devCurve === 'object') {
    const patience = explicit.has('patience') ? { patience: now.devCurve?.patience } : {};
    return { ...now, maxSteps: undefined, epochs: undefined, timeBudget: budget, devCurve: { ...(saved.devCurve as DevCurveOptions), ...patience } };
  }
  if (typeof steps !== 'number' && budget === undefined) return now; // a run saved before lengths were recorded
  return {
    ...now, epochs: undefined, devCurve: undefined, timeBudget: budget,
    maxSteps: typeof steps === 'number' && Number.isFinite(steps) ? steps : undefined,
    ...(typeof saved.patience === 'number' && !explicit.has('patience') ? { patience: saved.patience } : {}),
  };
}

/** The loop state in trainer.json, checked field by field. */
/** The loop state of a checkpoint's trainer.json, checked. */
export function trainerState(ck: CheckpointRead): TrainerState {
  const path = join(ck.dir, 'trainer.json');
  const s = ck.trainer?.state as Partial<TrainerState> | undefined;
  if (!s || typeof s !== 'object') throw new CheckpointError(`${path}: no "state" object`);
  // a generator state: 4 words and a spare normal (NaN when none, null in JSON)
  const ints = (v: unknown): boolean => Array.isArray(v) && v.length >= 4 && v.slice(0, 4).every((x) => Number.isInteger(x)) && v.slice(4).every((x) => x === null || typeof x === 'number');
  if (!Number.isInteger(s.step) || s.step! < 0) throw new CheckpointError(`${path}: "state.step" must be a non-negative integer`);
  if (!ints(s.dataRng) || !ints(s.dropoutRng)) throw new CheckpointError(`${path}: "state.dataRng" and "state.dropoutRng" must be generator states (integer arrays)`);
  if (s.best !== null && typeof s.best !== 'number') throw new CheckpointError(`${path}: "state.best" must be a number or null`);
  if (s.bestStep !== null && !Number.isInteger(s.bestStep)) throw new CheckpointError(`${path}: "state.bestStep" must be an integer or null`);
  return s as TrainerState;
}

/** Trains `driver`'s model on `train` (evaluating on `dev`), checkpointing into `o.out`; returns when a stopping rule ends it. */
export function trainSession<I extends TaskInstance, E, O extends TaskOptions>(driver: TaskDriver<I, E, unknown, unknown, O>, train: readonly E[], dev: readonly E[], o: SessionOptions<O>): SessionResult {
  const session = openSession(driver, train, dev, o);
  return session.finish(session.trainer.run());
}

/**
 * `trainSession` that lets the event loop run between steps: when `signal` is aborted (the
 * CLI aborts it on SIGINT/SIGTERM with the signal's name as reason) training stops before the
 * next step, the last checkpoint is saved at the step reached, and `stop.reason` is 'interrupted'.
 */
export async function trainSessionAsync<I extends TaskInstance, E, O extends TaskOptions>(driver: TaskDriver<I, E, unknown, unknown, O>, train: readonly E[], dev: readonly E[],
  o: SessionOptions<O> & { signal?: AbortSignal }): Promise<SessionResult> {
  const session = openSession(driver, train, dev, o);
  return session.finish(await session.trainer.runAsync(o.signal));
}

/** The model (new or resumed), its trainer wired to checkpoints and events, and how to sum up the run. */
function openSession<I extends TaskInstance, E, O extends TaskOptions>(driver: TaskDriver<I, E, unknown, unknown, O>, train: readonly E[], dev: readonly E[], o: SessionOptions<O>) {
  const seed = o.trainer.seed ?? 0;
  // what saves killed in an earlier run left behind goes, once the live checkpoints are complete
  for (const kind of ['last', 'best']) removeLeftovers(join(o.out, kind));
  let instance: I;
  let restored: { state: TrainerState; optimizer: { tensors: Map<string, import('../tensor/tensor.js').Tensor>; stepCount: number } } | null = null;
  const warn = o.onWarning ?? ((m: string) => process.stderr.write(`qkv: ${m}\n`));
  let saved: Record<string, unknown> | null = null;
  let trainerOptions = o.trainer;
  if (o.resume) {
    const lastDir = join(o.out, 'last');
    if (!isCheckpoint(lastDir)) throw new CheckpointError(`--resume: ${lastDir} holds no checkpoint to resume from`);
    const ck = readCheckpoint(lastDir);
    if (ck.config.task !== driver.name) throw new CheckpointError(`--resume: ${lastDir} is a ${String(ck.config.task)} run, not ${driver.name}`);
    try {
      if (!ck.trainer || !ck.optimizer) throw new CheckpointError(`--resume: ${lastDir} has no optimizer or trainer state`);
      saved = (ck.config.training ?? {}) as Record<string, unknown>;
      const warning = checkResume(lastDir, resumeDifferences(saved, { ...o.trainer, ...o.task } as Record<string, unknown>, o.explicit));
      if (warning) warn(warning);
      trainerOptions = keptLength(saved, o.trainer, o.explicit);
      restored = { state: trainerState(ck), optimizer: ck.optimizer };
      instance = rebuild(driver, ck);
    } catch (e) {
      if (ck.optimizer) for (const t of ck.optimizer.tensors.values()) t.dispose();
      throw e;
    } finally {
      for (const t of ck.tensors.values()) t.dispose();
    }
  } else {
    instance = driver.create(train, { ...o.task, generator: new Generator(seed + 2) });
    const short = shortVocabulary(instance, (o.task as Record<string, unknown>).vocabSize);
    if (short) warn(short);
  }
  const devUsed = o.evalMax !== undefined && dev.length > o.evalMax ? dev.slice(0, o.evalMax) : dev;
  const trainingTask = driver.training(instance, train, devUsed, o.task);
  const config = (metrics: Record<string, number>, step: number) => ({
    format: CHECKPOINT_FORMAT, ...instance.config, meta: o.meta ?? {}, step, metrics,
    // the length as resolved (epochs, the automatic rule) is what the schedule was laid over
    training: { ...trainerOptions, maxSteps: trainer.options.maxSteps, decaySteps: trainer.options.decaySteps, ...o.task, generator: undefined, now: undefined },
  });
  const trainer = new Trainer(instance.model, trainingTask, trainerOptions, {
    save: (kind, s) => saveCheckpoint(join(o.out, kind), {
      config: config(s.metrics, s.trainer.step), model: s.model,
      optimizer: kind === 'last' ? s.optimizer : null, trainer: kind === 'last' ? { state: s.trainer } : null,
      files: instance.files?.() ?? {},
    }),
  });
  if (restored) {
    try {
      trainer.optimizer.importState(restored.optimizer);
    } catch (e) {
      throw new CheckpointError(`${join(o.out, 'last', 'optimizer.safetensors')}: does not fit the model (${(e as Error).message})`);
    } finally {
      for (const t of restored.optimizer.tensors.values()) t.dispose();
    }
    trainer.restore(restored.state);
    // the schedule is laid over the run's length: a resumed run of another length changes it
    const was = saved?.maxSteps;
    const now = trainer.options.maxSteps;
    if (typeof was === 'number' && was !== now) {
      const flags = ['maxSteps', 'maxIters', 'epochs', 'timeBudget'].filter((f) => !o.explicit || o.explicit.has(f)).map(flagOf);
      const why = o.explicit && !flags.length ? 'no length flag was given, so the automatic length applies' : `${flags.join(' / ')} changed it`;
      warn(`--resume: the run is now ${Number.isFinite(now) ? now : 'unbounded in'} steps (it was ${was}; ${why}): the learning-rate schedule is laid over the new length from step ${trainer.state.step}`);
    }
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
  const finish = (last: EvalResult | null): SessionResult => {
    const seconds = (performance.now() - t0) / 1000;
    trainer.dispose();
    const main = last?.main ?? 'loss';
    return {
      out: o.out, steps: trainer.state.step - startStep, seconds, evalSeconds: evalMs / 1000, epochs: trainer.epochs, stop: trainer.state.stop,
      dev: { used: devUsed.length, of: dev.length }, positionsPerSecond: seconds > 0 ? positions / seconds : 0, last,
      best: { metric: o.trainer.monitor ?? main, value: trainer.state.best, step: trainer.state.bestStep }, parameters: instance.model.parameterCount(),
    };
  };
  return { trainer, finish };
}
