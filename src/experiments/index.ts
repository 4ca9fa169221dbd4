// The lecture's claims as experiments (qkv experiment): each a function of options returning
// its results (numbers, seeds, configuration, verdict); the cli and pages draw the charts.
// EXPERIMENTS is in the lecture's order.
import { QkvError } from '../core/errors.js';
import { fcVsAttention as fcVsAttentionDef } from './fc-vs-attention.js';
import { heads as headsDef } from './heads.js';
import { positions as positionsDef } from './positions.js';
import { relevance as relevanceDef } from './relevance.js';
import { runExperiment, type ExperimentDef } from './runner.js';
import { SummaryTable } from './stats.js';
import type { ExperimentOptions, ExperimentResult, Verdict } from './types.js';
import { windowExperiment } from './window.js';
import { cnnVsAttentionData } from './cnn-vs-attention-data.js';
import { rnnVsAttention as rnnVsAttentionDef } from './rnn-vs-attention.js';
import { linearVsSoftmax as linearVsSoftmaxDef } from './linear-vs-softmax.js';
import { truncated as truncatedDef } from './truncated.js';
import { graph as graphDef } from './graph.js';

export * from './types.js';
export { runExperiment, bySize, DEFAULT_SEEDS, type ExperimentDef } from './runner.js';
export { summarize, SummaryTable, median, order, slope, type Order } from './stats.js';
export { trainTagger, trainClassifier, accuracyWhere, nestedSubsets, type TagRun, type TagRunResult, type ClassifyRun, type ClassifyRunResult } from './train.js';
export type { FcVsAttentionConfig } from './fc-vs-attention.js';
export type { WindowConfig } from './window.js';
export type { PositionsConfig } from './positions.js';
export type { HeadsConfig } from './heads.js';
export type { RelevanceConfig } from './relevance.js';
export type { TruncatedConfig } from './truncated.js';
export type { GraphConfig } from './graph.js';
export { crossing, crossingPoint, stepsFor, type CnnVsAttentionConfig } from './cnn-vs-attention-data.js';
export type { RnnVsAttentionConfig } from './rnn-vs-attention.js';
export type { LinearVsSoftmaxConfig } from './linear-vs-softmax.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDef = ExperimentDef<any>;

/** Every experiment, in the lecture's order. */
export const EXPERIMENTS: readonly AnyDef[] = [
  fcVsAttentionDef, windowExperiment, relevanceDef, headsDef, positionsDef, truncatedDef, graphDef, cnnVsAttentionData, rnnVsAttentionDef, linearVsSoftmaxDef,
];

export function experimentNames(): string[] {
  return EXPERIMENTS.map((e) => e.name);
}

/** Runs an experiment by name; an unknown name lists the known ones. */
export function runNamed(name: string, options: ExperimentOptions = {}): ExperimentResult {
  const def = EXPERIMENTS.find((e) => e.name === name);
  if (!def) throw new QkvError(`unknown experiment "${name}" (known: ${experimentNames().join(', ')})`);
  return runExperiment(def, options);
}

/**
 * The claim and verdict the current definition gives on stored results (`qkv experiment --from`):
 * a verdict is a function of the numbers, so redrawing old numbers must not repeat an old
 * rule's words. Numbers that lack a measure the current rule reads give `held: null` and say to rerun.
 */
export function restate(result: ExperimentResult): { claim: string; verdict: Verdict } {
  const def = EXPERIMENTS.find((e) => e.name === result.name);
  if (!def) throw new QkvError(`unknown experiment "${result.name}" (known: ${experimentNames().join(', ')})`);
  try {
    return { claim: def.claim, verdict: def.verdict(new SummaryTable(result.summary), result.config) };
  } catch (e) {
    const when = (result as { date?: string }).date?.slice(0, 10);
    return {
      claim: def.claim,
      verdict: { held: null, text: `These numbers${when ? ` (${when})` : ''} lack what the current claim is decided on (${(e as Error).message}): rerun \`qkv experiment ${result.name}\`. Their verdict then was: ${result.verdict.text}` },
    };
  }
}

const fn = <C extends object>(def: ExperimentDef<C>) => (options: ExperimentOptions<C> = {}): ExperimentResult<C> => runExperiment(def, options);

/** `experiments.fcVsAttention({ size: 'quick', seeds: 2 })` and so on: one function per experiment. */
export const fcVsAttention = fn(fcVsAttentionDef);
export const window = fn(windowExperiment);
export const positions = fn(positionsDef);
export const heads = fn(headsDef);
export const relevance = fn(relevanceDef);
export const truncated = fn(truncatedDef);
export const graph = fn(graphDef);
export const cnnVsAttention = fn(cnnVsAttentionData);
export const rnnVsAttention = fn(rnnVsAttentionDef);
export const linearVsSoftmax = fn(linearVsSoftmaxDef);
