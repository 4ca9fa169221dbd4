// How long `qkv train <task>` runs: --max-steps (--max-iters for lm) or --epochs, a
// --time-budget, early stopping (--patience, --monitor), the bound on evaluation cost
// (--eval-max), and, with no length flag, the dev curve: train while the dev metric improves,
// decay the learning rate, stop (src/train/dev-curve.ts).
import { Command, InvalidArgumentError } from 'commander';
import { join } from 'node:path';
import { formatDuration, parseDuration, QkvError, DEV_CURVE_DEFAULTS, type DevCurvePlan, type SessionResult, type TrainerOptions } from '../../src/index.js';
import { explicitFlags, fmt, int, UsageError } from '../shared.js';

/** With no length flag: the hard bound in time of a run that follows the dev curve. */
export const AUTO_TIME_BUDGET = '1h';
export const DEFAULT_EVAL_MAX = 2000;

export interface LengthDefaults {
  /** '--max-steps', or '--max-iters' for lm. */
  stepsFlag: string;
  /** The fewest steps before the dev curve may end the run (what the small built-in sets need). */
  steps: number;
  /** The fewest epochs before it may (small corpora need more epochs than steps say). */
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
  const evalFlag = d.stepsFlag === '--max-iters' ? '--eval-interval' : '--eval-every';
  const { patience, maxEpochs, decayFraction } = DEV_CURVE_DEFAULTS;
  cmd
    .option(`${d.stepsFlag} <n>`, `optimizer steps (default: until the dev metric stops improving, see below)`, int(d.stepsFlag, 1))
    .option('--epochs <n>', `passes over the training data (instead of ${d.stepsFlag})`, int('--epochs', 1))
    .option('--time-budget <duration>', `stop, with a final evaluation and checkpoint, after this long: 90s, 10m, 1h30m (default with no length flag: at most ${AUTO_TIME_BUDGET})`, duration('--time-budget'))
    .option('--patience <k>', `stop after K evaluations without improvement of the dev metric (0: off; with no length flag: ${patience}, the evaluations without a gain that start the decay)`, int('--patience', 0))
    .option('--monitor <metric>', 'the dev metric early stopping and the best checkpoint follow (default: the task\'s main one)');
  if (d.evalMax !== false) cmd.option('--eval-max <n>', 'evaluate on at most the first N dev examples', int('--eval-max', 1), DEFAULT_EVAL_MAX);
  cmd.setOptionValue('lengthDefaults', d);
  return cmd.addHelpText('after', `
How long training runs:
  With no length flag, until the dev metric stops improving: the learning rate stays at its
  peak (after --warmup) while the dev metric improves, evaluated every epoch (every ~250 steps
  when an epoch is longer); after ${patience} evaluations without a gain above 0.1% (and at least
  max(${d.steps} steps, ${d.epochs} epoch${d.epochs > 1 ? 's' : ''})) it decays linearly to --min-lr over ${decayFraction * 100}% more steps (--decay-steps
  N: over N), and the run stops. The best checkpoint (by the dev metric) is DIR/best. At most
  ${maxEpochs} epochs or ${AUTO_TIME_BUDGET} (the decay starts early enough to end there). --patience K changes
  the patience, ${evalFlag} N the evaluation interval; --schedule constant or noam keeps that
  schedule and stops at the plateau without a decay.
  ${d.stepsFlag} N or --epochs N sets the length instead (not both); the learning-rate schedule
  is laid over it. --time-budget stops earlier if the time runs out (the cosine decay then
  follows the budget), --patience K when the dev metric has not improved for K evaluations.
  Only --time-budget given: train until the budget is used. The summary says at which step
  and why it stopped.`);
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
  const patience = o.patience as number | undefined;
  if (!auto) return { maxSteps: steps, epochs, timeBudget, patience: patience ?? 0, monitor: o.monitor as string | undefined };
  if (patience === 0) throw new UsageError(`--patience 0 (never stop early) needs a length: give ${d.stepsFlag} N, --epochs N or --time-budget`);
  // the evaluation interval is the dev curve's (an epoch) unless the flag was given
  const evalKey = d.stepsFlag === '--max-iters' ? 'evalInterval' : 'evalEvery';
  const evalEvery = explicitFlags(o)?.has(evalKey) ? o[evalKey] as number : undefined;
  return {
    devCurve: { minSteps: d.steps, minEpochs: d.epochs, patience, evalEvery },
    timeBudget: parseDuration(AUTO_TIME_BUDGET), patience: 0, monitor: o.monitor as string | undefined,
  };
}

/** The line stderr gets once when a run follows the dev curve: what the default does on this data. */
export function devCurveLine(plan: DevCurvePlan, metric: string, timeBudget: number | null): string {
  const spe = plan.stepsPerEpoch;
  const epochs = (steps: number) => (spe ? ` (${Number((steps / spe).toFixed(1))} epochs)` : '');
  const every = spe && Math.abs(plan.evalEvery - spe) < 1 ? `every epoch (${plan.evalEvery} steps)` : `every ${plan.evalEvery} steps${spe ? ` (${Number((plan.evalEvery / spe).toFixed(2))} epochs)` : ''}`;
  const decay = !plan.decays ? 'then stop' : plan.decaySteps !== null ? `then decay the learning rate over ${plan.decaySteps} steps` : `then decay the learning rate over ${plan.decayFraction * 100}% more steps`;
  const bound = `at most ${plan.maxSteps} steps${epochs(plan.maxSteps)}${timeBudget !== null ? ` or ${formatDuration(timeBudget)}` : ''}`;
  return `no length flag: training until the dev ${metric} stops improving: an evaluation ${every}, patience ${plan.patience} evaluation${plan.patience === 1 ? '' : 's'}, at least ${plan.minSteps} steps${epochs(plan.minSteps)}, ${decay}; ${bound} (give --epochs N for a fixed length)`;
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
