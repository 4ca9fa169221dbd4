// What every task gives the command line: make a model from training data or from a saved
// config, a training task for the Trainer, metrics on labelled data, and predictions.
import type { Module } from '../nn/module.js';
import type { EvalResult, TrainingTask } from '../train/trainer.js';
import type { TaskFile } from '../data/types.js';

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


export interface TaskDriver<I extends TaskInstance, Example, Input, Output> {
  readonly name: TaskName;
  /** A fresh model whose vocabularies come from the training examples. */
  create(train: readonly Example[], options: Record<string, unknown>): I;
  /** A model (untrained weights) from a checkpoint's config. */
  fromConfig(config: Record<string, unknown>, files?: Readonly<Record<string, TaskFile>>): I;
  training(instance: I, train: readonly Example[], dev: readonly Example[], options: Record<string, unknown>): TrainingTask<unknown>;
  /** Metrics on labelled examples, and which one picks the best checkpoint. */
  evaluate(instance: I, examples: readonly Example[], options?: Record<string, unknown>): EvalResult;
  predict(instance: I, inputs: readonly Input[], options?: Record<string, unknown>): Output[];
}
