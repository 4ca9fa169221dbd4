// The length a run takes when none is given: train while the dev metric improves, then decay
// the learning rate briefly and stop. It is a warmup-stable-decay schedule (MiniCPM's WSD;
// Hägele et al. 2024 find a decay over the last 10-20% of the steps matches a cosine laid over
// the whole run) whose stable phase ends on the dev curve instead of at a length fixed in
// advance:
//   warmup      --warmup steps, linear (as every schedule here)
//   stable      the peak learning rate, an evaluation every epoch (every ~evalSteps steps when
//               an epoch is longer), until `patience` evaluations in a row bring no gain larger
//               than `minDelta` (relative) and at least `minSteps` steps (and `minEpochs`) are done
//   decay       linear from the peak to minLr over `decayFraction` of the steps so far (at least
//               one evaluation interval), evaluated as before and at its last step, then stop;
//               the best checkpoint (by the dev metric) is the run's model
// A hard bound (maxEpochs, or the time budget) starts the decay early enough to end at it.
// Everything it decides is in DevCurveState, saved in trainer.json, so --resume continues exactly.

/** How the dev-curve length is set (the Trainer's `devCurve` option; every field has a default but minSteps). */
export interface DevCurveOptions {
  /** The fewest steps before the stable phase may end (what the small built-in sets need). */
  minSteps: number;
  /** The fewest epochs before the stable phase may end (default 3): small corpora need more epochs than steps say. */
  minEpochs?: number;
  /** Evaluations without a gain that end the stable phase (default: 5, or one epoch's evaluations when an epoch holds more). */
  patience?: number;
  /** A gain is larger than this fraction of the best value so far (default 1e-3: 0.9 -> 0.9009). */
  minDelta?: number;
  /** Steps between evaluations (default: one epoch, cut into equal parts of at most `evalSteps`). */
  evalEvery?: number;
  /** The most steps between evaluations when an epoch is long (default 250: an evaluation of 2,000 dev examples then costs < 10%). */
  evalSteps?: number;
  /** Upper bound in epochs (default 100, and at least twice the minimum); tasks that do not count examples use `maxSteps`. */
  maxEpochs?: number;
  /** Upper bound in steps when the task does not count examples (default 25 × minSteps). */
  maxSteps?: number;
  /** The decay phase's length as a fraction of the steps before it (default 0.2). */
  decayFraction?: number;
}

/** What the policy resolved for this run's data (printed once when training starts). */
export interface DevCurvePlan {
  evalEvery: number;
  patience: number;
  minDelta: number;
  /** The fewest steps of the stable phase (max of minSteps and minEpochs). */
  minSteps: number;
  /** The hard bound in steps. */
  maxSteps: number;
  stepsPerEpoch: number | null;
  decayFraction: number;
  /** A fixed decay length (--decay-steps), else null: decayFraction of the steps before it. */
  decaySteps: number | null;
  /** Whether the policy lays the learning rate (false: a named schedule, constant or noam, stays; no decay phase). */
  decays: boolean;
}

/** Where a dev-curve run is: the part of trainer.json that --resume needs. */
export interface DevCurveState {
  phase: 'stable' | 'decay';
  /** The value of the last evaluation that brought a gain (larger than minDelta). */
  ref: number | null;
  /** Evaluations since that gain. */
  bad: number;
  /** Where the decay started and how long it is (null while stable). */
  decayStart: number | null;
  decaySteps: number | null;
  /** Why the stable phase ended: the dev curve flattened, or the hard bound (steps or time) was near. */
  why: 'plateau' | 'steps' | 'time' | null;
}

export const DEV_CURVE_DEFAULTS = { minEpochs: 3, patience: 5, minDelta: 1e-3, evalSteps: 250, maxEpochs: 100, decayFraction: 0.2 } as const;

export function newDevCurveState(): DevCurveState {
  return { phase: 'stable', ref: null, bad: 0, decayStart: null, decaySteps: null, why: null };
}

/**
 * The plan for a run of `stepsPerEpoch` steps an epoch (null: the task does not count
 * examples); `decaySteps`: a fixed decay length the user gave; `decays`: whether the learning
 * rate is the policy's (a named constant or noam schedule keeps its own and gets no decay phase).
 */
export function devCurvePlan(o: DevCurveOptions, stepsPerEpoch: number | null, given: { decaySteps?: number; decays: boolean },
  fail: (message: string) => Error): DevCurvePlan {
  const d = { ...DEV_CURVE_DEFAULTS, ...definedOnly(o) };
  const positiveInt = (k: string, v: number) => {
    if (!Number.isInteger(v) || v < 1) throw fail(`devCurve.${k} must be a positive integer, got ${v}`);
  };
  positiveInt('minSteps', o.minSteps);
  positiveInt('evalSteps', d.evalSteps);
  if (o.evalEvery !== undefined) positiveInt('evalEvery', o.evalEvery);
  if (o.patience !== undefined) positiveInt('patience', o.patience);
  if (!(d.minEpochs >= 0)) throw fail(`devCurve.minEpochs must be >= 0, got ${d.minEpochs}`);
  if (!(d.maxEpochs > 0)) throw fail(`devCurve.maxEpochs must be > 0, got ${d.maxEpochs}`);
  if (!(d.minDelta >= 0)) throw fail(`devCurve.minDelta must be >= 0, got ${d.minDelta}`);
  if (!(d.decayFraction > 0 && d.decayFraction <= 1)) throw fail(`devCurve.decayFraction must be in (0, 1], got ${d.decayFraction}`);
  const spe = stepsPerEpoch;
  // an epoch, or equal parts of it of at most evalSteps: evaluations fall on epoch ends
  const parts = spe === null ? 1 : Math.max(1, Math.ceil(spe / d.evalSteps));
  const evalEvery = o.evalEvery ?? (spe === null ? d.evalSteps : Math.max(1, Math.ceil(spe / parts)));
  // patience covers at least one epoch when an epoch holds several evaluations
  const patience = o.patience ?? Math.max(d.patience, spe === null || o.evalEvery !== undefined ? 0 : parts);
  const minSteps = Math.max(o.minSteps, spe === null ? 0 : Math.ceil(d.minEpochs * spe - 1e-9));
  // at least twice the minimum, so a tiny set has room for its plateau and decay
  const maxSteps = Math.max(2 * minSteps, spe === null ? (o.maxSteps ?? 25 * o.minSteps) : Math.ceil(d.maxEpochs * spe - 1e-9));
  return { evalEvery, patience, minDelta: d.minDelta, minSteps, maxSteps, stepsPerEpoch: spe, decayFraction: d.decayFraction, decaySteps: given.decaySteps ?? null, decays: given.decays };
}

/** The step at which the run ends as things stand: the hard bound while stable, the decay's end after. */
export function devCurveEnd(plan: DevCurvePlan, s: DevCurveState): number {
  return s.phase === 'decay' ? s.decayStart! + s.decaySteps! : plan.maxSteps;
}

/** The decay phase's length if it started at `step`. */
export function decayLength(plan: DevCurvePlan, step: number): number {
  if (!plan.decays) return 0;
  return plan.decaySteps ?? Math.max(plan.evalEvery, Math.ceil(plan.decayFraction * step));
}

/**
 * The learning rate at `step` (0-based): warmup, the peak while stable, then linear to `minLr`
 * at the decay's end (the step after it would take minLr itself).
 */
export function devCurveLr(s: DevCurveState, step: number, o: { lr: number; minLr: number; warmup: number }): number {
  if (step < o.warmup) return (o.lr * (step + 1)) / (o.warmup + 1);
  if (s.phase !== 'decay' || !s.decaySteps) return o.lr;
  const left = Math.max(0, s.decayStart! + s.decaySteps! - step);
  return o.minLr + ((o.lr - o.minLr) * left) / s.decaySteps!;
}

/**
 * Records an evaluation of the monitored metric at `step` and decides whether the stable phase
 * ends: the dev curve has flattened (after the minimum), or the hard bound is too near for a
 * whole decay (`stepsLeftByTime`: the steps the time budget still allows, Infinity without one).
 * Returns whether the decay (or, without one, the end) starts now.
 */
export function devCurveEvaluated(plan: DevCurvePlan, s: DevCurveState, value: number, higherIsBetter: boolean, step: number, stepsLeftByTime = Infinity): boolean {
  if (s.phase !== 'stable') return false;
  const margin = plan.minDelta * Math.abs(s.ref ?? 0);
  const gain = s.ref === null || (higherIsBetter ? value > s.ref + margin : value < s.ref - margin);
  if (gain) {
    s.ref = value;
    s.bad = 0;
  } else s.bad++;
  const decay = decayLength(plan, step);
  let why: DevCurveState['why'] = null;
  if (step >= plan.minSteps && s.bad >= plan.patience) why = 'plateau';
  else if (step + decay >= plan.maxSteps) why = 'steps';
  else if (decay >= stepsLeftByTime) why = 'time';
  if (!why) return false;
  s.phase = 'decay';
  s.why = why;
  s.decayStart = step;
  // near the bound the decay is what is left of it
  s.decaySteps = why === 'steps' ? Math.max(0, Math.min(decay, plan.maxSteps - step)) : decay;
  return true;
}

/** The stop message of a run that reached the end of its dev-curve length. */
export function devCurveStopMessage(plan: DevCurvePlan, s: DevCurveState, metric: string): string {
  const decay = (n: number) => (n ? `; then the learning rate decayed over ${n} steps` : '');
  if (s.phase === 'stable') return `reached the upper bound of the default length (${plan.maxSteps} steps${epochsOf(plan, plan.maxSteps)}) while the dev ${metric} still improved; give --epochs N to train longer`;
  const start = s.decayStart!;
  if (s.why === 'plateau') return `the dev ${metric} stopped improving by more than ${plan.minDelta * 100}% (${plan.patience} evaluation${plan.patience === 1 ? '' : 's'} without a gain at step ${start}${epochsOf(plan, start)})${decay(s.decaySteps!)}`;
  const bound = s.why === 'steps' ? `${plan.maxSteps} steps${epochsOf(plan, plan.maxSteps)}` : 'the time budget';
  return `the dev ${metric} still improved at step ${start}, but the upper bound of the default length (${bound}) was near${decay(s.decaySteps!)}; give --epochs N to train longer`;
}

const epochsOf = (plan: DevCurvePlan, steps: number) => (plan.stepsPerEpoch ? `, ${Number((steps / plan.stepsPerEpoch).toFixed(1))} epochs` : '');

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
