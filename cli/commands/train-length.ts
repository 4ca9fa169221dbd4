// How long `qkv train <task>` runs: --max-steps (--max-iters for lm) or --epochs, a
// --time-budget, early stopping (--patience, --monitor), the bound on evaluation cost
// (--eval-max), and the lengths picked from the data when no length flag is given.
import { Command, InvalidArgumentError } from 'commander';
import { join } from 'node:path';
import { formatDuration, parseDuration, QkvError, type SessionResult, type TrainerOptions } from '../../src/index.js';
import { fmt, int, UsageError } from '../shared.js';

/** With no length flag: a budget that bounds a run on a large corpus, and the patience used. */
export const AUTO_TIME_BUDGET = '20m';
export const AUTO_PATIENCE = 5;
export const DEFAULT_EVAL_MAX = 2000;

export interface LengthDefaults {
  /** '--max-steps', or '--max-iters' for lm. */
  stepsFlag: string;
  /** The fewest steps the automatic length takes (what suits the small built-in sets). */
  steps: number;
  /** Epochs the automatic length takes when that is more steps. */
  epochs: number;
  /** Whether the task has a dev set whose size --eval-max bounds (not lm: --eval-iters does). */
  evalMax?: boolean;
}

function duration(flag: string) {
  return (v: string): number => {
    try {
      return parseDuration(v, flag);
    } catch (e) {
      throw new InvalidArgumentError((e as QkvError).message);
    }
  };
}

export function addLengthFlags(cmd: Command, d: LengthDefaults): Command {
  cmd
    .option(`${d.stepsFlag} <n>`, `optimizer steps (default: picked from the data, see below)`, int(d.stepsFlag, 1))
    .option('--epochs <n>', `passes over the training data (instead of ${d.stepsFlag})`, int('--epochs', 1))
    .option('--time-budget <duration>', `stop, with a final evaluation and checkpoint, after this long: 90s, 10m, 1h30m (default with no length flag: ${AUTO_TIME_BUDGET})`, duration('--time-budget'))
    .option('--patience <k>', `stop after K evaluations without improvement of the dev metric (0: off; default ${AUTO_PATIENCE} with no length flag, else off)`, int('--patience', 0))
    .option('--monitor <metric>', 'the dev metric early stopping and the best checkpoint follow (default: the task\'s main one)');
  if (d.evalMax !== false) cmd.option('--eval-max <n>', 'evaluate on at most the first N dev examples', int('--eval-max', 1), DEFAULT_EVAL_MAX);
  cmd.setOptionValue('lengthDefaults', d);
  return cmd.addHelpText('after', `
How long training runs:
  ${d.stepsFlag} N or --epochs N sets the length (not both); the learning-rate schedule is laid
  over it. --time-budget stops earlier if the time runs out (the cosine decay then follows the
  budget), --patience K when the dev metric has not improved for K evaluations. The best
  checkpoint (by the dev metric) is DIR/best; the summary says at which step and why it stopped.
  With no length flag the length comes from the data: max(${d.steps} steps, ${d.epochs} epoch${d.epochs > 1 ? 's' : ''}),
  with --time-budget ${AUTO_TIME_BUDGET} and --patience ${AUTO_PATIENCE}. ${d.steps} steps suit small sets (a few thousand
  examples: the built-in ones train as before); on a large corpus ${d.epochs} epoch${d.epochs > 1 ? 's' : ''} of it, cut by
  early stopping once the dev metric stops improving, or by the budget. Only --time-budget given:
  train until the budget is used.`);
}

/** Trainer options for the length flags in `o` (parsed flags and --config values). */
export function lengthOptions(o: Record<string, unknown>): Partial<TrainerOptions> {
  const d = o.lengthDefaults as LengthDefaults;
  const steps = o[d.stepsFlag === '--max-iters' ? 'maxIters' : 'maxSteps'] as number | undefined;
  const epochs = o.epochs as number | undefined;
  let timeBudget = o.timeBudget as number | string | undefined;
  // a --config file gives "10m" as a string, or seconds as a number: parsed like the flag
  if (typeof timeBudget === 'string') timeBudget = duration('--time-budget')(timeBudget);
  if (steps !== undefined && epochs !== undefined) throw new UsageError(`give --epochs or ${d.stepsFlag}, not both`);
  const auto = steps === undefined && epochs === undefined && timeBudget === undefined;
  return {
    maxSteps: steps, epochs,
    ...(auto ? { auto: { minSteps: d.steps, epochs: d.epochs }, timeBudget: parseDuration(AUTO_TIME_BUDGET) } : { timeBudget }),
    patience: (o.patience as number | undefined) ?? (auto ? AUTO_PATIENCE : 0),
    monitor: o.monitor as string | undefined,
  };
}

/** The human-readable summary of a finished run. */
export function summaryLines(task: string, r: SessionResult): string[] {
  const n = r.epochs === null ? 0 : Number(r.epochs.toFixed(2));
  const epochs = r.epochs === null ? '' : `, ${n} epoch${n === 1 ? '' : 's'}`;
  const dev = r.dev.used < r.dev.of ? `the first ${r.dev.used} of ${r.dev.of} dev examples` : `${r.dev.used} dev examples`;
  return [
    `trained ${task} for ${r.steps} steps${epochs} in ${formatDuration(r.seconds)} (${r.seconds.toFixed(1)} s; evaluation ${r.evalSeconds.toFixed(1)} s${r.dev.of ? ` on ${dev}` : ''}), ${Math.round(r.positionsPerSecond)} positions/s, ${r.parameters} parameters`,
    Object.entries(r.last?.metrics ?? {}).map(([k, v]) => `${k} ${fmt(v)}`).join('  '),
    ...(r.stop ? [`stopped at step ${r.stop.step}: ${r.stop.message}`] : []),
    `best ${r.best.metric} ${fmt(r.best.value ?? NaN)} at step ${r.best.step}; model saved in ${join(r.out, 'best')}`,
  ];
}
