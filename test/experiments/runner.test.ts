// The experiments' shared pieces: nested training subsets, the runner (one entry per seed, the
// spread, a verdict computed from the summary), the crossing of two curves, and one real
// experiment through the library API.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { experiments, QkvError } from '../../src/index.js';

test('nested subsets: each smaller set is inside every larger one; same seed, same subsets; another seed, others', () => {
  const pool = Array.from({ length: 500 }, (_, i) => i);
  const sizes = [10, 50, 200, 500];
  const a = experiments.nestedSubsets(pool, sizes, 7);
  assert.deepEqual(a.map((s) => s.length), sizes);
  for (let i = 1; i < a.length; i++) assert.deepEqual(a[i]!.slice(0, sizes[i - 1]), a[i - 1], 'prefix of the next size');
  for (const s of a) assert.equal(new Set(s).size, s.length, 'no repeats');
  assert.deepEqual(experiments.nestedSubsets(pool, sizes, 7), a);
  const b = experiments.nestedSubsets(pool, sizes, 8);
  assert.notDeepEqual(b[0], a[0]);
  assert.deepEqual([...a[3]!].sort((x, y) => x - y), pool, 'the largest is the whole pool, shuffled');
  assert.throws(() => experiments.nestedSubsets(pool, [501], 0), /subset size 501/);
});

/** A tiny experiment whose numbers are known: value = seed + x for series "a", 2·x for "b". */
const fake: experiments.ExperimentDef<{ xs: number[] }> = {
  name: 'fake', title: 'fake', section: '§0', claim: 'b beats a',
  config: (size) => ({ xs: size === 'quick' ? [1, 2] : [1, 2, 3] }),
  units: (c) => c.xs.length,
  runSeed: (c, seed, tick) => c.xs.flatMap((x) => { tick(`x=${x}`); return [{ series: 'a', x, measure: 'm', value: seed + x }, { series: 'b', x, measure: 'm', value: 2 * x }]; }),
  measures: { m: { title: 'm', unit: '' } },
  charts: [],
  verdict: (t, c) => {
    const x = c.xs[c.xs.length - 1]!;
    const held = t.mean('b', x, 'm') > t.mean('a', x, 'm');
    return { held, text: `b ${t.mean('b', x, 'm')} vs a ${t.mean('a', x, 'm')}` };
  },
};

test('the runner: one entry per seed, spread over seeds, verdict from the summary, progress counted', () => {
  const seen: experiments.ExperimentProgress[] = [];
  const r = experiments.runExperiment(fake, { size: 'quick', seeds: 3, seed: 10, onProgress: (p) => seen.push(p) });
  assert.deepEqual(r.seeds, [10, 11, 12]);
  assert.equal(r.perSeed.length, 3);
  assert.deepEqual(r.perSeed.map((s) => s.seed), [10, 11, 12]);
  const a2 = r.summary.find((s) => s.series === 'a' && s.x === 2)!;
  assert.deepEqual([a2.mean, a2.min, a2.max, a2.n], [13, 12, 14, 3]);
  assert.equal(a2.std, 1);
  assert.deepEqual(r.verdict, { held: false, text: 'b 4 vs a 13' });
  assert.deepEqual(seen.map((p) => p.done), [1, 2, 3, 4, 5, 6]);
  assert.ok(seen.every((p) => p.total === 6));
  // configuration overrides and the default seed count of each size
  const d = experiments.runExperiment(fake, { config: { xs: [1] }, seed: 0 });
  assert.equal(d.seeds.length, experiments.DEFAULT_SEEDS.default);
  assert.deepEqual(d.config, { xs: [1] });
  assert.deepEqual(d.verdict, { held: false, text: 'b 2 vs a 2' }, 'a tie is not a win');
  for (const seeds of [0, -1, 1.5]) assert.throws(() => experiments.runExperiment(fake, { seeds }), (e: unknown) => e instanceof QkvError && /seeds must be an integer >= 1/.test((e as Error).message));
  assert.throws(() => experiments.runExperiment(fake, { size: 'huge' as never }), /size must be one of quick, default, full/);
});

test('crossing: where self-attention catches up with the CNN and stays ahead, or null', () => {
  const table = (cnn: number[], sa: number[]) => new experiments.SummaryTable(experiments.summarize([{
    seed: 0, seconds: 0, rows: [...cnn.map((value, i) => ({ series: 'CNN', x: i + 1, measure: 'accuracy', value })), ...sa.map((value, i) => ({ series: 'self-attention', x: i + 1, measure: 'accuracy', value }))],
  }]));
  assert.equal(experiments.crossing(table([0.6, 0.7, 0.8, 0.85], [0.5, 0.65, 0.82, 0.9]), [1, 2, 3, 4]), 3);
  assert.equal(experiments.crossing(table([0.6, 0.7, 0.8], [0.5, 0.75, 0.7]), [1, 2, 3]), null, 'ahead, then behind again: no lasting crossing');
  assert.equal(experiments.crossing(table([0.6, 0.7], [0.7, 0.8]), [1, 2]), 1);
});

test('the library API: experiments.graph({ size: "quick" }) returns its results', () => {
  const r = experiments.graph({ size: 'quick', seeds: 2, config: { graphs: 60, steps: 5 } });
  assert.equal(r.name, 'graph');
  assert.equal(r.perSeed.length, 2);
  assert.deepEqual(new Set(r.summary.map((s) => s.series)), new Set(['attention along edges', 'full attention', 'fully-connected']));
  assert.equal(r.config.steps, 5);
  assert.ok(r.summary.every((s) => s.n === 2 && s.mean >= 0 && s.mean <= 1));
  assert.match(r.verdict.text, /Attention along the edges labelled \d+\.\d%/);
  assert.equal(typeof r.verdict.held, 'boolean');
});

test('crossingPoint: where self-attention takes the lead for good, interpolated on the log-size axis', () => {
  const table = (cnn: number[], sa: number[], sizes: number[]) => new experiments.SummaryTable(experiments.summarize([{
    seed: 0, seconds: 0, rows: [...cnn.map((value, i) => ({ series: 'CNN', x: sizes[i]!, measure: 'accuracy', value })), ...sa.map((value, i) => ({ series: 'self-attention', x: sizes[i]!, measure: 'accuracy', value }))],
  }]));
  // behind by 0.1 at 100, ahead by 0.1 at 10000: half-way on the log axis is 1000
  assert.equal(experiments.crossingPoint(table([0.8, 0.8], [0.7, 0.9], [100, 10000]), [100, 10000]), 1000);
  assert.equal(experiments.crossingPoint(table([0.8, 0.8], [0.9, 0.9], [100, 10000]), [100, 10000]), null, 'ahead from the start: no crossing point');
  assert.equal(experiments.crossingPoint(table([0.8, 0.8], [0.7, 0.7], [100, 10000]), [100, 10000]), null, 'never ahead');
});

test('cnn-vs-attention-data runs on images (the relations set) and says so', () => {
  const r = experiments.cnnVsAttention({ size: 'quick', seeds: 1, config: { sizes: [24, 48], dev: 24, minSteps: 2, maxSteps: 2 } });
  assert.equal(r.config.dataset, 'relations');
  assert.match(r.verdict.text, /^On relations with 24 training images the CNN reached/);
  for (const m of ['accuracy', 'accuracy, one shape', 'accuracy, two shapes']) assert.ok(r.summary.some((s) => s.measure === m && s.x === 48), m);
  assert.ok(r.summary.some((s) => s.measure === 'parameters' && s.series === 'CNN'));
});
