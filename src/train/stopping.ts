// How long training runs and in what order it sees the data: epochs as seeded permutations
// (every example once per epoch), durations such as "10m", and early stopping on the held-out
// metric, and how many steps a run takes (with no length given, src/train/dev-curve.ts). The
// Trainer uses these; every task and command shares them.
import { QkvError } from '../core/errors.js';
import { Generator } from '../core/rng.js';

/**
 * A duration in seconds from "90", "90s", "10m", "1.5h" or "1h30m" (a bare number is seconds).
 * Throws a one-line QkvError naming `flag` for anything else.
 */
export function parseDuration(text: string, flag = 'duration'): number {
  const s = text.trim().toLowerCase();
  const unit: Record<string, number> = { s: 1, m: 60, h: 3600 };
  let total = 0;
  let rest = s;
  if (/^\d+(\.\d+)?$/.test(s)) total = Number(s);
  else {
    const part = /^(\d+(?:\.\d+)?)([smh])/;
    let m: RegExpExecArray | null;
    let parts = 0;
    while ((m = part.exec(rest))) {
      total += Number(m[1]) * unit[m[2]!]!;
      rest = rest.slice(m[0].length);
      parts++;
    }
    if (!parts || rest) total = NaN;
  }
  if (!(total > 0) || !Number.isFinite(total)) throw new QkvError(`${flag} must be a duration such as 90s, 10m or 1h30m, got "${text}"`);
  return total;
}

/** "1h05m", "4m10s", "12s": how the summary and the progress bar print seconds. */
export function formatDuration(seconds: number): string {
  if (seconds < 59.95) return `${Number(Math.max(0, seconds).toFixed(1))}s`;
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return h ? `${h}h${String(m).padStart(2, '0')}m` : m ? `${m}m${String(r).padStart(2, '0')}s` : `${r}s`;
}

/** Where an epoch-ordered run is: which epoch, and how many of its examples were used. */
export interface EpochPosition {
  epoch: number;
  cursor: number;
}

/** Batches per pool that length bucketing sorts at once (torchtext's BucketIterator uses 100). */
export const BUCKET_POOL = 100;

/**
 * Batches of indices 0..n-1 in epochs: epoch e is a Fisher-Yates shuffle seeded by (seed, e),
 * cut into batches of `batchSize` in order; its last batch is the remainder (smaller), so every
 * example is used exactly once per epoch. The order is a pure function of (seed, epoch), so
 * the position {epoch, cursor} is all a checkpoint needs to continue exactly.
 *
 * With `lengths` (one per example: tokens, frames) the batches are length-bucketed, as fairseq
 * and the PyTorch tutorials do, to cut padding: the shuffled order is cut into pools of
 * BUCKET_POOL batches, each pool sorted by length (stable, so ties keep the shuffled order) and
 * cut into batches, and the full batches are shuffled (seeded by (seed, e) too) with the
 * remainder last. Every example is still used once an epoch, in as many batches (the same
 * steps per epoch); batches hold examples of similar length, so they are not uniform draws.
 */
export class EpochSampler {
  private order: Int32Array | null = null;
  private orderEpoch = -1;

  constructor(readonly n: number, readonly batchSize: number, readonly seed: number, public position: EpochPosition = { epoch: 0, cursor: 0 },
    readonly lengths: ArrayLike<number> | null = null) {
    if (!(n >= 1)) throw new QkvError('no training examples to draw batches from');
    if (lengths && lengths.length !== n) throw new QkvError(`length bucketing: ${lengths.length} lengths for ${n} examples`);
  }

  /** Batches (micro-batches) per epoch. */
  get batchesPerEpoch(): number {
    return Math.ceil(this.n / this.batchSize);
  }

  /** The permutation of epoch `e`. */
  permutation(e: number): Int32Array {
    const p = Int32Array.from({ length: this.n }, (_, i) => i);
    const g = new Generator((this.seed * 1_000_003 + e * 7_919 + 1) >>> 0);
    for (let i = this.n - 1; i > 0; i--) {
      const j = g.int(0, i + 1);
      const t = p[i]!;
      p[i] = p[j]!;
      p[j] = t;
    }
    return this.lengths ? this.bucketed(p, g) : p;
  }

  /** The shuffled order `p` sorted by length within pools, its full batches shuffled by `g`, the remainder last. */
  private bucketed(p: Int32Array, g: Generator): Int32Array {
    const lengths = this.lengths!;
    const B = this.batchSize;
    const pool = B * BUCKET_POOL;
    for (let start = 0; start < this.n; start += pool) {
      const part = Array.from(p.subarray(start, Math.min(this.n, start + pool)));
      part.sort((a, b) => lengths[a]! - lengths[b]!); // stable: ties keep the shuffled order
      p.set(part, start);
    }
    const full = Math.floor(this.n / B);
    const batches = Int32Array.from({ length: full }, (_, i) => i);
    for (let i = full - 1; i > 0; i--) {
      const j = g.int(0, i + 1);
      const t = batches[i]!;
      batches[i] = batches[j]!;
      batches[j] = t;
    }
    const out = new Int32Array(this.n);
    batches.forEach((b, i) => out.set(p.subarray(b * B, (b + 1) * B), i * B));
    out.set(p.subarray(full * B), full * B);
    return out;
  }

  /** The next batch of indices; moves to the next epoch after the last one. */
  next(): number[] {
    const { epoch, cursor } = this.position;
    if (this.orderEpoch !== epoch) {
      this.order = this.permutation(epoch);
      this.orderEpoch = epoch;
    }
    const end = Math.min(this.n, cursor + this.batchSize);
    const batch = Array.from(this.order!.subarray(cursor, end));
    this.position = end === this.n ? { epoch: epoch + 1, cursor: 0 } : { epoch, cursor: end };
    return batch;
  }

  /** Epochs done so far, fractional (2.5: half way through the third). */
  get epochs(): number {
    return this.position.epoch + this.position.cursor / this.n;
  }
}

/** Early stopping: counts evaluations since the monitored metric last improved. */
export interface EarlyStoppingState {
  best: number | null;
  bestStep: number | null;
  /** Evaluations since the best one. */
  bad: number;
}

/** Records one evaluation; returns whether it is the best so far. `patience` 0: never stops. */
export function recordEvaluation(s: EarlyStoppingState, value: number, step: number, higherIsBetter: boolean): boolean {
  const better = s.best === null || (higherIsBetter ? value > s.best : value < s.best);
  if (better) {
    s.best = value;
    s.bestStep = step;
    s.bad = 0;
  } else s.bad++;
  return better;
}

export function shouldStopEarly(s: EarlyStoppingState, patience: number): boolean {
  return patience > 0 && s.bad >= patience;
}

/** What bounds a run's length: explicit steps, epochs, the dev curve (no length given), or only a time budget. */
export type LengthFrom = 'steps' | 'epochs' | 'devCurve' | 'time';

export interface LengthOptions { maxSteps?: number; epochs?: number; devCurve?: unknown; timeBudget?: number }

/**
 * How many steps a run may take, from maxSteps, epochs, or a time budget alone; with `devCurve`
 * the length follows the dev metric (src/train/dev-curve.ts works out its bound).
 */
export function resolveLength(o: LengthOptions, stepsPerEpoch: number | null, fail: (message: string) => Error): { maxSteps: number; lengthFrom: LengthFrom } {
  const positive = (k: string, v: number, integer: boolean) => {
    if (!(v > 0) || (integer && !Number.isInteger(v))) throw fail(`${k} must be a positive ${integer ? 'integer' : 'number'}, got ${v}`);
  };
  const given = [o.maxSteps !== undefined && 'maxSteps', o.epochs !== undefined && 'epochs', o.devCurve !== undefined && 'devCurve'].filter(Boolean);
  if (given.length > 1) throw fail(`give ${given.join(' or ')}, not both`);
  if (o.maxSteps !== undefined) {
    positive('maxSteps', o.maxSteps, true);
    return { maxSteps: o.maxSteps, lengthFrom: 'steps' };
  }
  if (o.epochs !== undefined) {
    positive('epochs', o.epochs, false);
    if (stepsPerEpoch === null) throw fail('epochs needs a task that counts its training examples (examples and batchSize)');
    return { maxSteps: Math.max(1, Math.ceil(o.epochs * stepsPerEpoch - 1e-9)), lengthFrom: 'epochs' };
  }
  if (o.devCurve !== undefined) return { maxSteps: Infinity, lengthFrom: 'devCurve' };
  if (o.timeBudget !== undefined) return { maxSteps: Infinity, lengthFrom: 'time' };
  throw fail('give maxSteps, epochs, devCurve or a timeBudget');
}
