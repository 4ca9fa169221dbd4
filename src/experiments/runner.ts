// Runs an experiment's definition over its seeds and assembles the result: configuration,
// one entry per seed, summary, verdict. Experiments are plain functions of a seed, so a page
// or a notebook runs them the same way the cli does.
import { QkvError } from '../core/errors.js';
import { describeBackend } from '../kernels/registry.js';
import { summarize, SummaryTable } from './stats.js';
import type { ChartSpec, ExperimentOptions, ExperimentResult, ExperimentSize, MeasureInfo, Row, SeedRun, Verdict } from './types.js';
import { EXPERIMENT_SIZES } from './types.js';

export interface ExperimentDef<C> {
  name: string;
  title: string;
  section: string;
  claim: string;
  /** The configuration of each size. */
  config(size: ExperimentSize): C;
  /** Steps of work per seed (trainings, timings), for progress. */
  units(config: C): number;
  /** Everything measured with one seed; `tick` after each unit of work. */
  runSeed(config: C, seed: number, tick: (what: string) => void): Row[];
  measures: Record<string, MeasureInfo>;
  charts: ChartSpec[];
  verdict(table: SummaryTable, config: C): Verdict;
}

export const DEFAULT_SEEDS: Readonly<Record<ExperimentSize, number>> = { quick: 2, default: 3, full: 5 };

export function runExperiment<C extends object>(def: ExperimentDef<C>, options: ExperimentOptions<C> = {}): ExperimentResult<C> {
  const size = options.size ?? 'default';
  if (!EXPERIMENT_SIZES.includes(size)) throw new QkvError(`experiment size must be one of ${EXPERIMENT_SIZES.join(', ')}, got "${String(size)}"`);
  const nSeeds = options.seeds ?? DEFAULT_SEEDS[size];
  if (!Number.isInteger(nSeeds) || nSeeds < 1) throw new QkvError(`seeds must be an integer >= 1, got ${nSeeds}`);
  const first = options.seed ?? 0;
  if (!Number.isInteger(first) || first < 0) throw new QkvError(`seed must be an integer >= 0, got ${first}`);
  const config = { ...def.config(size), ...options.config } as C;
  const seeds = Array.from({ length: nSeeds }, (_, i) => first + i);
  const total = seeds.length * def.units(config);
  let done = 0;
  const start = performance.now();
  const perSeed: SeedRun[] = seeds.map((seed) => {
    const t0 = performance.now();
    const rows = def.runSeed(config, seed, (what) => options.onProgress?.({ done: ++done, total, what: `seed ${seed}: ${what}` }));
    return { seed, rows, seconds: (performance.now() - t0) / 1000 };
  });
  const summary = summarize(perSeed);
  return {
    name: def.name, title: def.title, section: def.section, claim: def.claim, size, config, seeds, perSeed, summary,
    measures: def.measures, charts: def.charts, verdict: def.verdict(new SummaryTable(summary), config),
    backend: describeBackend(), seconds: (performance.now() - start) / 1000, date: new Date().toISOString(),
  };
}

/** Picks a value by size. */
export const bySize = <T>(size: ExperimentSize, quick: T, normal: T, full: T): T => (size === 'quick' ? quick : size === 'full' ? full : normal);
