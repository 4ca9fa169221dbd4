// How long a Trainer's run is, in one place: the step it ends at, the learning rate of each
// step, what a run that reached its end says, how long is left, and, with no length given,
// what each evaluation means for the dev curve (src/train/dev-curve.ts). The Trainer keeps the
// state (TrainerState, saved in trainer.json); this reads and updates it.
import type { Schedule } from '../optim/schedule.js';
import { devCurveEnd, devCurveEvaluated, devCurveLr, devCurveStopMessage, type DevCurvePlan } from './dev-curve.js';
import { formatDuration, type LengthFrom } from './stopping.js';
import type { ResolvedOptions } from './trainer-options.js';
import type { StopReason, TrainEvent, TrainerState } from './trainer-types.js';

export class RunLength {
  constructor(readonly options: ResolvedOptions, readonly schedule: Schedule, readonly lengthFrom: LengthFrom, readonly stepsPerEpoch: number | null,
    readonly plan: DevCurvePlan | null) {}

  /** The step the run ends at as things stand (Infinity: only the clock ends it). */
  endStep(s: TrainerState): number {
    return this.plan ? devCurveEnd(this.plan, s.devCurve!) : this.options.maxSteps;
  }

  /** Whether the end is still open: a dev curve that has not started its decay. */
  open(s: TrainerState): boolean {
    return this.plan !== null && s.devCurve!.phase === 'stable';
  }

  /** The step count a progress bar can show (Infinity while the end is open). */
  shownEnd(s: TrainerState): number {
    return this.open(s) ? Infinity : this.endStep(s);
  }

  /**
   * The learning rate of `step`: the dev curve's (warmup, peak, linear decay), or the schedule
   * laid over the run's real length. With a time budget the cosine schedule runs at least as
   * fast as the budget is used, so a run cut by time still ends its decay.
   */
  lr(s: TrainerState, step: number, elapsed: number): number {
    const o = this.options;
    if (this.plan?.decays) return devCurveLr(s.devCurve!, step, o);
    if (this.plan || o.timeBudget === null || o.schedule !== 'cosine' || step < o.warmup) return this.schedule(step);
    return this.schedule(Math.max(step, Math.floor((elapsed / o.timeBudget) * o.decaySteps)));
  }

  /** Why a run that reached its end step stops, and what the summary says; `metric`: the one the dev curve followed. */
  stop(s: TrainerState, metric: string): [StopReason, string] {
    const o = this.options;
    if (this.plan) return ['devCurve', devCurveStopMessage(this.plan, s.devCurve!, metric)];
    if (this.lengthFrom === 'epochs') return ['epochs', `finished ${epochs(o.maxSteps / this.stepsPerEpoch!)} (${o.maxSteps} steps)`];
    return ['steps', `reached ${o.maxSteps} steps`];
  }

  /** What a run stopped by its time budget says. */
  timeStop(elapsed: number, step: number): string {
    return `used the time budget of ${formatDuration(this.options.timeBudget!)} (${formatDuration(elapsed)} at step ${step})`;
  }

  /** Seconds until the run ends at `secondsPerStep` (null: unknown, as while a dev curve still climbs). */
  secondsLeft(s: TrainerState, elapsed: number, secondsPerStep: number): number | null {
    const budget = this.options.timeBudget;
    if (this.open(s)) return null;
    const end = this.endStep(s);
    const bySteps = Number.isFinite(end) ? (end - s.step) * secondsPerStep : Infinity;
    const left = Math.min(bySteps, budget === null ? Infinity : Math.max(0, budget - elapsed));
    return Number.isFinite(left) ? left : null;
  }

  /**
   * Gives the dev curve the evaluation of step `s.step` (`value` of the monitored metric);
   * returns the event to emit when its decay starts now. The time budget, at the pace so far
   * and less a margin for evaluations, bounds how many steps are left for a decay.
   */
  evaluated(s: TrainerState, value: number, higherIsBetter: boolean, elapsed: number, secondsPerStep: number): TrainEvent | null {
    if (!this.plan) return null;
    const budget = this.options.timeBudget;
    const byTime = budget === null || !(secondsPerStep > 0) ? Infinity : Math.floor((0.9 * (budget - elapsed)) / secondsPerStep);
    const d = s.devCurve!;
    if (!devCurveEvaluated(this.plan, d, value, higherIsBetter, s.step, byTime)) return null;
    return { type: 'decay', step: s.step, steps: d.decaySteps!, why: d.why! };
  }
}

const epochs = (n: number): string => `${fmtNumber(n)} epoch${n === 1 ? '' : 's'}`;
export const fmtNumber = (x: number): string => (Number.isInteger(x) ? String(x) : x.toFixed(4).replace(/0+$/, ''));
