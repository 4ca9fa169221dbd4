// Loading a trained run without knowing its task: `loadModel('runs/pos')` reads the task from
// the checkpoint's config.json and rebuilds the model with that task's driver.
import { CheckpointError, readCheckpoint } from '../train/checkpoint.js';
import type { TaskDriver, TaskInstance, TaskName } from '../tasks/driver.js';
import { tagDriver } from '../tasks/tag.js';
import { classifyDriver } from '../tasks/classify.js';
import { seq2seqDriver } from '../tasks/seq2seq.js';
import { lmDriver } from '../tasks/lm.js';
import { loadInstance, resolveCheckpoint } from './session.js';

type AnyDriver = TaskDriver<TaskInstance, unknown, unknown, unknown>;

const DRIVERS: Record<TaskName, AnyDriver> = {
  tag: tagDriver as unknown as AnyDriver,
  classify: classifyDriver as unknown as AnyDriver,
  seq2seq: seq2seqDriver as unknown as AnyDriver,
  lm: lmDriver as unknown as AnyDriver,
};

export interface LoadedModel {
  task: TaskName;
  /** The checkpoint directory read (DIR, DIR/best or DIR/last). */
  dir: string;
  config: Record<string, unknown>;
  instance: TaskInstance;
  driver: AnyDriver;
  /** The task's predictions: tag/classify take `{ tokens: string[] }`, seq2seq `{ source: string[] }`, lm a prompt string. */
  predict(inputs: readonly unknown[], options?: Record<string, unknown>): unknown[];
  /** `predict` on any backend (a model on the GPU: its values are awaited). */
  predictAsync(inputs: readonly unknown[], options?: Record<string, unknown>): Promise<unknown[]>;
}

/**
 * A trained run as `qkv train` saved it: `dir` is the run (its best checkpoint is read, else
 * last) or a checkpoint directory. Anything wrong is a one-line CheckpointError naming the path.
 */
export function loadModel(dir: string): LoadedModel {
  if (typeof dir !== 'string' || dir === '') throw new CheckpointError(`loadModel: expected a run directory (a path string), got ${dir === '' ? 'an empty string' : typeof dir}`);
  const at = resolveCheckpoint(dir);
  const ck = readCheckpoint(at);
  for (const t of ck.tensors.values()) t.dispose();
  if (ck.optimizer) for (const t of ck.optimizer.tensors.values()) t.dispose();
  const task = ck.config.task as TaskName;
  const driver = DRIVERS[task];
  if (!driver || !Object.hasOwn(DRIVERS, task)) throw new CheckpointError(`${at}: config.json names no task qkv knows ("task": ${JSON.stringify(task ?? null)}; tasks are ${Object.keys(DRIVERS).join(', ')})`);
  const { instance, config, dir: read } = loadInstance(driver, at);
  return { task, dir: read, config, instance, driver, predict: (inputs, options) => driver.predict(instance, inputs, options),
    predictAsync: (inputs, options) => driver.predictAsync(instance, inputs, options) };
}
