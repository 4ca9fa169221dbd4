// Spread over seeds: mean, min, max and standard deviation of each (series, x, measure).
import type { Row, SeedRun, Summary } from './types.js';

export function summarize(runs: readonly SeedRun[]): Summary[] {
  const groups = new Map<string, { key: Omit<Row, 'value'>; values: number[] }>();
  for (const r of runs) {
    for (const row of r.rows) {
      const k = JSON.stringify([row.series, row.x, row.measure]);
      const g = groups.get(k) ?? groups.set(k, { key: { series: row.series, x: row.x, measure: row.measure }, values: [] }).get(k)!;
      g.values.push(row.value);
    }
  }
  return [...groups.values()].map(({ key, values }) => {
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const std = values.length > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1)) : 0;
    return { ...key, mean, min: Math.min(...values), max: Math.max(...values), std, n: values.length };
  });
}

/** Looks up summaries by series, x and measure; a missing one is a bug in the experiment. */
export class SummaryTable {
  constructor(readonly rows: readonly Summary[]) {}

  get(series: string, x: number | string, measure: string): Summary {
    const s = this.rows.find((r) => r.series === series && r.x === x && r.measure === measure);
    if (!s) throw new Error(`no summary for ${series} / ${x} / ${measure}`);
    return s;
  }

  mean(series: string, x: number | string, measure: string): number {
    return this.get(series, x, measure).mean;
  }
}

/** The median of some numbers (timings). */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** A percentage with one decimal, for verdicts. */
export const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

/**
 * How two spreads over seeds compare: 'above' when every seed of `a` is above every seed of `b`
 * (min of a > max of b), 'below' for the reverse, else 'within noise' (the ranges overlap).
 * A verdict calls a difference a finding only when the seeds agree on it.
 */
export type Order = 'above' | 'below' | 'within noise';
export function order(a: Summary, b: Summary): Order {
  if (a.min > b.max) return 'above';
  if (a.max < b.min) return 'below';
  return 'within noise';
}

/**
 * The log–log slope of a measure's mean between x0 and x1: 0 = flat, 1 = grows like x,
 * 2 = like x². How verdicts say "linear" or "quadratic" from two points.
 */
export function slope(t: SummaryTable, series: string, measure: string, x0: number, x1: number): number {
  return Math.log(t.mean(series, x1, measure) / t.mean(series, x0, measure)) / Math.log(x1 / x0);
}

/** "held" / "did not hold" in a verdict's last clause. */
export const heldWord = (held: boolean): string => (held ? 'held' : 'did not hold');
