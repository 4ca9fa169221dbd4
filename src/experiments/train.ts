// One training run of a tagger, as every experiment needs it: a fresh seeded model, the
// project's Trainer, the task's metrics on held-out data, and the time per step.
import { Generator } from '../core/rng.js';
import type { ClassifiedExample, TaggedExample } from '../data/types.js';
import type { FrontEnd } from '../data/frontend.js';
import { classifyDriver } from '../tasks/classify.js';
import { DEFAULT_MODEL, type ModelConfig } from '../nn/models/taggers.js';
import { createTagModel, predictTags, tagMetrics, tagTraining, type TagModel } from '../tasks/tag.js';
import { Trainer } from '../train/trainer.js';
import { median } from './stats.js';
import type { Row } from './types.js';

export interface TagRun {
  train: readonly TaggedExample[];
  dev: readonly TaggedExample[];
  model: Partial<ModelConfig>;
  /** Optimizer steps; with `timeBudget`, the most steps (Infinity: only the clock stops it). */
  steps: number;
  /** Seconds of training instead of a step count (the same budget in seconds for every model). */
  timeBudget?: number;
  /** Held-out examples scored after training besides `dev` (dev picks settings, test reports). */
  test?: readonly TaggedExample[];
  seed: number;
  lr?: number;
  batchSize?: number;
  warmup?: number;
}

export interface TagRunResult {
  metrics: Record<string, number>;
  /** The task's metrics on `test` (empty without one). */
  testMetrics: Record<string, number>;
  /** Optimizer steps taken (differs from `steps` under a time budget). */
  stepsDone: number;
  /** Median wall time of one training step (forward, backward, update), the first (warm-up) step left out. */
  msPerStep: number;
  seconds: number;
  /** Predicted tags of each dev example. */
  predicted: string[][];
  parameters: number;
}

/** Trains a tagger on `train` and evaluates it on `dev`; the model is freed afterwards. */
export function trainTagger(r: TagRun): TagRunResult {
  const start = performance.now();
  const m: TagModel = createTagModel(r.train as TaggedExample[], { model: { ...DEFAULT_MODEL, dropout: 0, ...r.model }, generator: new Generator(1000 + r.seed) });
  const trainer = new Trainer(m.model, tagTraining(m, r.train, r.dev, { batchSize: r.batchSize ?? 32 }),
    r.timeBudget === undefined
      ? { maxSteps: r.steps, lr: r.lr ?? 3e-3, warmup: r.warmup ?? Math.min(30, Math.floor(r.steps / 10)), evalEvery: r.steps, seed: r.seed }
      : { timeBudget: r.timeBudget, lr: r.lr ?? 3e-3, warmup: r.warmup ?? 30, evalEvery: 1e9, seed: r.seed });
  const stepMs: number[] = [];
  trainer.on((e) => { if (e.type === 'step') stepMs.push(e.ms); });
  try {
    const result = trainer.run()!;
    const predicted = predictTags(m, r.dev);
    const testMetrics = r.test ? tagMetrics(m, r.test, predictTags(m, r.test)) : {};
    const parameters = m.model.parameters().reduce((a, p) => a + p.size, 0);
    return { metrics: result.metrics, testMetrics, stepsDone: stepMs.length, msPerStep: median(stepMs.length > 1 ? stepMs.slice(1) : stepMs), seconds: (performance.now() - start) / 1000, predicted, parameters };
  } finally {
    trainer.dispose();
    m.model.dispose();
  }
}

/** Accuracy over the positions `keep(example, position)` selects, or NaN if none. */
export function accuracyWhere(dev: readonly TaggedExample[], predicted: readonly string[][], keep: (e: TaggedExample, t: number) => boolean): number {
  let right = 0;
  let total = 0;
  dev.forEach((e, i) => e.labels.forEach((gold, t) => {
    if (!keep(e, t)) return;
    total++;
    if (predicted[i]![t] === gold) right++;
  }));
  return total ? right / total : NaN;
}

/**
 * Nested training subsets: one seeded shuffle of `pool`, then its first `size` examples for each
 * size, so every smaller set is inside every larger one and the same seed gives the same sets.
 */
export function nestedSubsets<T>(pool: readonly T[], sizes: readonly number[], seed: number): T[][] {
  const shuffled = new Generator(seed).shuffle([...pool]);
  return sizes.map((n) => {
    if (!Number.isInteger(n) || n < 1 || n > pool.length) throw new RangeError(`subset size ${n} must be an integer in [1, ${pool.length}]`);
    return shuffled.slice(0, n);
  });
}

/** A tagger run as rows: accuracy on all and on ambiguous words, and ms per training step. */
export function taggerRows(series: string, r: TagRunResult): Row[] {
  return [
    { series, x: 'all words', measure: 'accuracy', value: r.metrics.accuracy! },
    { series, x: 'ambiguous words', measure: 'accuracy', value: r.metrics.ambiguousAccuracy ?? NaN },
    { series, x: 'training step', measure: 'ms', value: r.msPerStep },
  ];
}

export interface ClassifyRun {
  train: readonly ClassifiedExample[];
  dev: readonly ClassifiedExample[];
  model: Partial<ModelConfig>;
  /** The input's front end (images: size and normalisation). */
  frontEnd?: FrontEnd;
  steps: number;
  seed: number;
  lr?: number;
  batchSize?: number;
  warmup?: number;
}

export interface ClassifyRunResult {
  accuracy: number;
  /** The predicted label of each dev example. */
  predicted: string[];
  /** Median wall time of one training step, the first (warm-up) step left out. */
  msPerStep: number;
  seconds: number;
  parameters: number;
}

/** Trains a classifier (sequences or images) on `train` and scores it on `dev`; the model is freed afterwards. */
export function trainClassifier(r: ClassifyRun): ClassifyRunResult {
  const start = performance.now();
  const m = classifyDriver.create(r.train, { model: { ...DEFAULT_MODEL, dropout: 0, ...r.model }, generator: new Generator(1000 + r.seed), frontEnd: r.frontEnd });
  const trainer = new Trainer(m.model, classifyDriver.training(m, r.train, r.dev, { batchSize: r.batchSize ?? 32 }),
    { maxSteps: r.steps, lr: r.lr ?? 3e-3, warmup: r.warmup ?? Math.min(30, Math.floor(r.steps / 10)), evalEvery: r.steps, seed: r.seed });
  const stepMs: number[] = [];
  trainer.on((e) => { if (e.type === 'step') stepMs.push(e.ms); });
  try {
    const result = trainer.run()!;
    const predicted = classifyDriver.predict(m, r.dev);
    const parameters = m.model.parameters().reduce((a, p) => a + p.size, 0);
    return { accuracy: result.metrics.accuracy!, predicted, msPerStep: median(stepMs.length > 1 ? stepMs.slice(1) : stepMs), seconds: (performance.now() - start) / 1000, parameters };
  } finally {
    trainer.dispose();
    m.model.dispose();
  }
}
