// The experiment charts: units are not doubled, percentages zoom to the data, log axes end at
// the data, and a PNG (whatever converter made it) draws its legend as text, not a solid block.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodeImage, type experiments } from '../../src/index.js';
import { axisTitle, chartSpec, closePngConverter, percentDomain, pngConverter, renderSvg, svgToPng } from '../../cli/charts.js';

const CHROMIUM = process.env['QKV_CHROMIUM'] ?? '/usr/bin/chromium';

/** A result with two series of percentages between 88 and 100 over sizes 25..1600. */
function result(): experiments.ExperimentResult {
  const sizes = [25, 100, 400, 1600];
  const summary = sizes.flatMap((x, i) => [
    { series: 'a long series name that must not be cut short', x, measure: 'accuracy', mean: 0.88 + 0.03 * i, min: 0.88 + 0.03 * i - 0.01, max: 0.89 + 0.03 * i, std: 0.01, n: 3 },
    { series: 'self-attention', x, measure: 'accuracy', mean: 0.9 + 0.02 * i, min: 0.9 + 0.02 * i, max: 0.91 + 0.02 * i, std: 0.01, n: 3 },
  ]);
  return {
    name: 'fake', title: 'fake', section: '§0', claim: '', size: 'quick', config: {}, seeds: [0, 1, 2], perSeed: [], summary,
    measures: { accuracy: { title: 'accuracy', unit: '%' } }, verdict: { held: null, text: '' }, backend: '', seconds: 0, date: '',
    charts: [{ id: 'acc', title: 'Accuracy', measure: 'accuracy', mark: 'line', xTitle: 'size', yTitle: 'accuracy', xType: 'quantitative', xLog: true }],
  };
}

test('axis titles: the unit is added once ("ms per step" stays, "accuracy" gets "(%)")', () => {
  assert.equal(axisTitle('ms per step', 'ms'), 'ms per step');
  assert.equal(axisTitle('ms', 'ms'), 'ms');
  assert.equal(axisTitle('accuracy', '%'), 'accuracy (%)');
  assert.equal(axisTitle('memory', 'MiB'), 'memory (MiB)');
  assert.equal(axisTitle('seconds per epoch', 's'), 'seconds per epoch (s)');
});

test('percentages zoom to the data; log axes end at the data; legends are not truncated', () => {
  assert.deepEqual(percentDomain(88, 100), [85, 100]);
  assert.deepEqual(percentDomain(30, 60), [25, 65]);
  const spec = chartSpec(result(), result().charts[0]!) as unknown as { encoding: { x: { scale: { domain: number[]; nice: boolean } }; color: { legend: { labelLimit: number } } }; layer: { encoding: { y?: { scale?: { domain?: number[] } } } }[] };
  assert.deepEqual(spec.layer[0]!.encoding.y!.scale!.domain, [85, 100]);
  assert.deepEqual(spec.encoding.x.scale.domain, [25, 1600]);
  assert.equal(spec.encoding.x.scale.nice, false);
  assert.equal(spec.encoding.color.legend.labelLimit, 0);
});

test('a PNG chart draws its legend: the legend rows hold both ink and paper, not a solid block', { skip: existsSync(CHROMIUM) ? false : `no browser at ${CHROMIUM}` }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'qkv-chart-'));
  const r = result();
  const svg = await renderSvg(chartSpec(r, r.charts[0]!));
  assert.ok(svg.includes('a long series name that must not be cut short'), 'the legend label is whole in the SVG');
  const file = join(dir, 'c.svg');
  writeFileSync(file, svg);
  try {
    assert.notEqual(await pngConverter(), null);
    assert.equal(await svgToPng(file, join(dir, 'c.png')), true);
  } finally {
    await closePngConverter();
  }
  const px = decodeImage(readFileSync(join(dir, 'c.png')), 'c.png');
  // the legend sits below the plot: the bottom 12% of the picture
  const dark = (i: number) => px.data.slice(i * px.channels, i * px.channels + 3).reduce((a, v) => a + v, 0) / 3 < 0.5;
  let ink = 0;
  let all = 0;
  for (let y = Math.floor(px.height * 0.88); y < px.height; y++) for (let x = 0; x < px.width; x++) { all++; if (dark(y * px.width + x)) ink++; }
  const share = ink / all;
  assert.ok(share > 0.005 && share < 0.12, `legend rows: ${(100 * share).toFixed(1)}% dark pixels (text is a few %; a black box would be most)`);
  // the y title reads upward (rotated -90°), so its ink is in the leftmost columns, and the picture is mostly paper
  let paper = 0;
  for (let i = 0; i < px.width * px.height; i++) if (!dark(i)) paper++;
  assert.ok(paper / (px.width * px.height) > 0.8);
});
