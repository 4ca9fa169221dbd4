// What every task gives the command line: make a model from training data or from a saved
// config, a training task for the Trainer, metrics on labelled data, and predictions.
import type { Generator } from '../core/rng.js';
import type { Module } from '../nn/module.js';
import type { EvalResult, TrainingTask } from '../train/trainer.js';
import type { TaskFile } from '../data/types.js';
import { isDeviceBackend } from '../kernels/registry.js';

export type { TaskFile } from '../data/types.js';

export type TaskName = 'tag' | 'classify' | 'seq2seq' | 'lm';
export const TASKS: readonly TaskName[] = ['tag', 'classify', 'seq2seq', 'lm'];

/** A model with everything needed to feed it (vocabularies, labels) and its JSON config. */
export interface TaskInstance {
  readonly config: { task: TaskName } & Record<string, unknown>;
  readonly model: Module;
  /** Files the checkpoint carries besides config.json, by name (a subword model's tokenizer.json). */
  files?(): Record<string, string>;
}


/** What every task's options carry besides its own (model hyperparameters, batch size, ...): the generator a session seeds. */
export interface TaskOptions {
  generator?: Generator;
}

/**
 * A task, typed end to end: its instance, examples, prediction inputs and outputs, and the
 * options create() and training() take (TagTrainOptions, ClassifyOptions, Seq2SeqOptions,
 * LmOptions), so a flag such as --attention reaches the model as the task's own type.
 */
export interface TaskDriver<I extends TaskInstance, Example, Input, Output, Options extends TaskOptions = TaskOptions & Record<string, unknown>> {
  readonly name: TaskName;
  /** A fresh model whose vocabularies come from the training examples. */
  create(train: readonly Example[], options: Options): I;
  /** A model (untrained weights) from a checkpoint's config. */
  fromConfig(config: Record<string, unknown>, files?: Readonly<Record<string, TaskFile>>): I;
  training(instance: I, train: readonly Example[], dev: readonly Example[], options: Options): TrainingTask<unknown>;
  /** Metrics on labelled examples, and which one picks the best checkpoint (host backends: read synchronously). */
  evaluate(instance: I, examples: readonly Example[], options?: Record<string, unknown>): EvalResult;
  predict(instance: I, inputs: readonly Input[], options?: Record<string, unknown>): Output[];
  /** `evaluate` on any backend: a device's values are awaited (the same numbers as evaluate on a host). */
  evaluateAsync(instance: I, examples: readonly Example[], options?: Record<string, unknown>): Promise<EvalResult>;
  /** `predict` on any backend. */
  predictAsync(instance: I, inputs: readonly Input[], options?: Record<string, unknown>): Promise<Output[]>;
}

/** Whether a task's model lives on a device backend (its values are read asynchronously). */
export function onDevice(m: TaskInstance): boolean {
  const p = m.model.parameters()[0];
  return p !== undefined && isDeviceBackend(p.backend);
}
