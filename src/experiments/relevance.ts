// Lecture §4: relevance alpha by dot product (q · k, the common one) or additive
// (w^T tanh(W^q a + W^k a)); normalised by softmax, or another activation such as ReLU.
// A fair comparison: each variant picks its own learning rate from a small sweep, scored on the
// dev split; the chosen model is reported on a separate test split, under the same budget in
// optimizer steps and, trained again at that rate, under the same budget in seconds.
import { builtinDataset } from '../data/builtin/index.js';
import { split } from '../data/split.js';
import type { TaggedExample } from '../data/types.js';
import type { AttentionKind } from '../nn/attention/multihead.js';
import { bySize, type ExperimentDef } from './runner.js';
import { heldWord, order, pct } from './stats.js';
import { trainTagger, type TagRunResult } from './train.js';
import type { Row } from './types.js';

export interface RelevanceConfig {
  sentences: number;
  dModel: number;
  /** The budget in optimizer steps (every variant, every learning rate of the sweep). */
  steps: number;
  /**
   * The budget in seconds (every variant, at its chosen learning rate); null: the time dot +
   * softmax took for the step budget on this seed (its median step × steps), so the budget
   * follows the machine it runs on.
   */
  seconds: number | null;
  /** The learning rates each variant tries; the best on the dev split is kept. */
  lrs: number[];
  /** How many more rates a variant may try past the grid's edge while its best is there. */
  widen: number;
  batchSize: number;
}

const VARIANTS: [string, AttentionKind][] = [['dot + softmax', 'softmax'], ['additive + softmax', 'additive'], ['dot + ReLU', 'relu']];
const STEPS = 'test, same steps';
const SECONDS = 'test, same seconds';

/**
 * The learning-rate sweep: every rate of `lrs` (ascending), then, while the best dev score is at
 * the highest or the lowest rate tried, one more rate past that edge (the grid's own ratio there,
 * snapped to 1, 2, 3 or 5 × a power of ten), at most `widen` times: a best rate at an untried edge is not a best rate.
 * Ties keep the first (lowest) rate. Returns the rates tried, in order, and the best.
 */
export function sweepRates(lrs: readonly number[], widen: number, score: (lr: number) => number): number[] & { best: number } {
  const scores = new Map<number, number>();
  for (const lr of lrs) scores.set(lr, score(lr));
  for (let extra = 0; extra < widen; extra++) {
    const rates = [...scores.keys()].sort((a, b) => a - b);
    const best = bestOf(scores);
    if (rates.length < 2 || (best !== rates.at(-1) && best !== rates[0])) break;
    const next = best === rates.at(-1) ? nice(best * (best / rates.at(-2)!)) : nice(best / (rates[1]! / best));
    if (scores.has(next)) break;
    scores.set(next, score(next));
  }
  return Object.assign([...scores.keys()], { best: bestOf(scores) });
}

/** `x` snapped (on a log scale) to the nearest of 1, 2, 3, 5 × 10^k. */
function nice(x: number): number {
  const k = Math.floor(Math.log10(x));
  const m = [1, 2, 3, 5, 10].reduce((a, b) => (Math.abs(Math.log(x / (b * 10 ** k))) < Math.abs(Math.log(x / (a * 10 ** k))) ? b : a));
  return Number((m * 10 ** k).toPrecision(1));
}

/** The rate with the highest score (the lowest of equal ones; a NaN score, a diverged run, never wins over a number). */
function bestOf(scores: Map<number, number>): number {
  const value = (lr: number): number => { const s = scores.get(lr)!; return Number.isNaN(s) ? -Infinity : s; };
  let best = NaN;
  for (const lr of [...scores.keys()].sort((a, b) => a - b)) if (Number.isNaN(best) || value(lr) > value(best)) best = lr;
  return best;
}

export const relevance: ExperimentDef<RelevanceConfig> = {
  name: 'relevance',
  title: 'Relevance: dot-product vs additive; normaliser: softmax vs ReLU (each at its best learning rate)',
  section: '§4',
  claim: 'additive relevance and a ReLU normaliser also work: each at its own best learning rate (a sweep scored on the dev split, widened while its best rate is at an edge) tags the ambiguous words of the test split within 5 points of dot + softmax, under the same budget in steps and under the same budget in seconds',
  config: (size) => ({
    sentences: bySize(size, 200, 2000, 4000), dModel: bySize(size, 16, 32, 32), steps: bySize(size, 15, 300, 600), seconds: null,
    lrs: bySize(size, [3e-3, 1e-2], [1e-3, 3e-3, 1e-2, 3e-2], [1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2]), widen: bySize(size, 1, 3, 3),
    batchSize: bySize(size, 16, 32, 32),
  }),
  units: (c) => VARIANTS.length * (c.lrs.length + c.widen + 1),
  runSeed(c, seed, tick) {
    const [train, dev, test] = split(builtinDataset('ambiguity', { seed, n: c.sentences }), [0.7, 0.15, 0.15], seed) as [TaggedExample[], TaggedExample[], TaggedExample[]];
    const rows: Row[] = [];
    let seconds = c.seconds;
    for (const [series, attention] of VARIANTS) {
      const model = { kind: 'transformer' as const, dModel: c.dModel, layers: 2, heads: 4, pos: 'rope' as const, attention };
      const runs = new Map<number, TagRunResult>();
      const tried = sweepRates(c.lrs, c.widen, (lr) => {
        const r = trainTagger({ train, dev, test, model, steps: c.steps, lr, batchSize: c.batchSize, seed });
        tick(`${series}, lr ${lr}`);
        runs.set(lr, r);
        rows.push({ series, x: lr, measure: 'dev accuracy', value: r.metrics.accuracy! });
        return r.metrics.accuracy!;
      });
      for (let i = tried.length; i < c.lrs.length + c.widen; i++) tick(`${series}: its best rate is inside the sweep`);
      const best = { lr: tried.best, r: runs.get(tried.best)! };
      seconds ??= (best.r.msPerStep * c.steps) / 1000; // dot + softmax comes first
      const timed = trainTagger({ train, dev, test, model, steps: Infinity, timeBudget: seconds, lr: best.lr, batchSize: c.batchSize, seed });
      tick(`${series}, ${seconds.toFixed(1)} s`);
      rows.push(
        { series, x: STEPS, measure: 'accuracy', value: best.r.testMetrics.ambiguousAccuracy ?? NaN },
        { series, x: SECONDS, measure: 'accuracy', value: timed.testMetrics.ambiguousAccuracy ?? NaN },
        { series, x: 'chosen', measure: 'lr', value: best.lr },
        { series, x: 'training step', measure: 'ms', value: best.r.msPerStep },
        { series, x: 'same seconds', measure: 'steps', value: timed.stepsDone },
        { series, x: 'same seconds', measure: 'budget s', value: seconds },
      );
    }
    return rows;
  },
  measures: {
    accuracy: { title: 'accuracy on the ambiguous words (test split)', unit: '%' }, 'dev accuracy': { title: 'dev accuracy by learning rate (the sweep)', unit: '%' },
    lr: { title: 'learning rate chosen on the dev split', unit: '' }, ms: { title: 'time per training step', unit: 'ms' }, steps: { title: 'steps taken in the budget in seconds', unit: '' },
    'budget s': { title: 'the budget in seconds (dot + softmax\'s time for the step budget)', unit: 's' },
  },
  charts: [
    { id: 'accuracy', title: 'Ambiguous words, each at its best learning rate', measure: 'accuracy', mark: 'bar', xTitle: 'budget', yTitle: 'accuracy', xType: 'nominal' },
    { id: 'sweep', title: 'The learning-rate sweep (dev split, all words; widened past an edge that won)', measure: 'dev accuracy', mark: 'line', xTitle: 'learning rate', yTitle: 'accuracy', xType: 'quantitative', xLog: true },
    { id: 'time', title: 'Time per training step', measure: 'ms', mark: 'bar', xTitle: '', yTitle: 'time per step', xType: 'nominal' },
  ],
  verdict(t, c) {
    const budget = (x: string) => {
      const base = t.mean('dot + softmax', x, 'accuracy');
      const others = VARIANTS.slice(1).map(([s]) => ({ s, acc: t.mean(s, x, 'accuracy') }));
      const worst = others.reduce((a, b) => (b.acc < a.acc ? b : a));
      return { base, worst, ok: worst.acc >= base - 0.05 };
    };
    const [bySteps, bySeconds] = [budget(STEPS), budget(SECONDS)];
    const held = bySteps.ok && bySeconds.ok;
    const lr = (s: string) => { const g = t.get(s, 'chosen', 'lr'); return g.min === g.max ? `${g.min}` : `${g.min}–${g.max}`; };
    const lrs = VARIANTS.map(([s]) => `${s} ${lr(s)}`).join(', ');
    const budgetS = t.mean('dot + softmax', 'same seconds', 'budget s');
    const dot = t.get('dot + softmax', 'training step', 'ms');
    const add = t.get('additive + softmax', 'training step', 'ms');
    const cost = order(add, dot);
    const say = (b: typeof bySteps, what: string) => `${what} dot + softmax reached ${pct(b.base)} and the weakest alternative (${b.worst.s}) ${pct(b.worst.acc)} (${b.ok ? 'not more than 5 points behind' : 'more than 5 points behind'})`;
    return {
      held,
      text: `On the ambiguous words of the test split, at the learning rates the dev split chose (over the seeds: ${lrs}), ${say(bySteps, `in ${c.steps} steps`)}; ${say(bySeconds, `in ${budgetS.toFixed(1)} s (dot + softmax's time for ${c.steps} steps)`)}; so the claim ${heldWord(held)} on this run. An additive step took ${add.mean.toFixed(1)} ms against ${dot.mean.toFixed(1)} ms for dot-product (${cost === 'above' ? `${(add.mean / dot.mean).toFixed(1)}× slower on every seed` : cost === 'below' ? 'faster on every seed' : 'within noise'}).`,
    };
  },
};
