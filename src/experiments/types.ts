// What every experiment returns: its configuration, one entry per seed (long-form rows: series,
// x, measure, value), the summary over seeds (mean, min, max), chart descriptions (the cli and
// the report draw them), and a verdict computed from the numbers.

/** quick: seconds (tests); default: minutes on 2 cores; full: longer, bigger sweeps. */
export type ExperimentSize = 'quick' | 'default' | 'full';
export const EXPERIMENT_SIZES: readonly ExperimentSize[] = ['quick', 'default', 'full'];

/** One number of one run: e.g. series "self-attention", x "ambiguous words", measure "accuracy". */
export interface Row {
  series: string;
  x: number | string;
  measure: string;
  value: number;
}

export interface SeedRun {
  seed: number;
  rows: Row[];
  seconds: number;
}

/** The spread of one (series, x, measure) over the seeds. */
export interface Summary {
  series: string;
  x: number | string;
  measure: string;
  mean: number;
  min: number;
  max: number;
  std: number;
  n: number;
}

/** A chart of one measure: x against the value, one line or bar group per series, min–max bars. */
export interface ChartSpec {
  id: string;
  title: string;
  measure: string;
  mark: 'line' | 'bar';
  xTitle: string;
  yTitle: string;
  /** quantitative x on a log scale (sizes, lengths); nominal x keeps the rows' order. */
  xType: 'quantitative' | 'nominal';
  xLog?: boolean;
  yLog?: boolean;
}

export interface Verdict {
  /** Did the lecture's claim hold on this run (null: the numbers can't say). */
  held: boolean | null;
  /** One sentence, with the numbers it was decided on. */
  text: string;
}

export interface MeasureInfo { title: string; unit: '%' | 'ms' | 'MiB' | 's' | '' }

export interface ExperimentResult<C = Record<string, unknown>> {
  name: string;
  title: string;
  /** Where the lecture says it (LECTURE.md section). */
  section: string;
  claim: string;
  size: ExperimentSize;
  config: C;
  seeds: number[];
  perSeed: SeedRun[];
  summary: Summary[];
  measures: Record<string, MeasureInfo>;
  charts: ChartSpec[];
  verdict: Verdict;
  backend: string;
  seconds: number;
  date: string;
  /** The machine it ran on (CPU, cores, memory, Node), as the CLI records it; absent in results written before 2026-12-07. */
  machine?: string;
}

export interface ExperimentProgress { done: number; total: number; what: string }

export interface ExperimentOptions<C = Record<string, unknown>> {
  size?: ExperimentSize;
  /** How many seeds (default: 2 quick, 3 default, 5 full). */
  seeds?: number;
  /** The first seed (default 0); the others follow. */
  seed?: number;
  /** Overrides of the size's configuration. */
  config?: Partial<C>;
  onProgress?: (p: ExperimentProgress) => void;
}
