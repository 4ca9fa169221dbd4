// Charts of experiment results: a Vega-Lite spec per chart (mean as a line or bars, min–max
// over the seeds as rules), compiled to Vega and rendered to SVG in Node without a browser;
// PNG through ImageMagick's `convert` or `rsvg-convert` when one is installed.
import { spawnSync } from 'node:child_process';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { experiments } from '../src/index.js';

type Result = experiments.ExperimentResult;
type Chart = experiments.ChartSpec;

/** The Vega-Lite spec of one chart of a result. */
export function chartSpec(result: Result, chart: Chart): vl.TopLevelSpec {
  const unit = result.measures[chart.measure]?.unit ?? '';
  const scale = unit === '%' ? 100 : 1;
  const values = result.summary.filter((s) => s.measure === chart.measure && Number.isFinite(s.mean))
    .map((s) => ({ series: s.series, x: s.x, mean: s.mean * scale, min: s.min * scale, max: s.max * scale, n: s.n }));
  const order = [...new Set(values.map((v) => String(v.x)))];
  const x = chart.xType === 'nominal'
    ? { field: 'x', type: 'nominal' as const, title: chart.xTitle, sort: order, axis: { labelAngle: 0 } }
    : { field: 'x', type: 'quantitative' as const, title: chart.xTitle, scale: chart.xLog ? { type: 'log' as const } : { zero: false } };
  const yTitle = unit ? `${chart.yTitle} (${unit})` : chart.yTitle;
  const y = { field: 'mean', type: 'quantitative' as const, title: yTitle, scale: chart.yLog ? { type: 'log' as const } : {} };
  const color = { field: 'series', type: 'nominal' as const, title: null, sort: [...new Set(values.map((v) => v.series))] };
  const offset = chart.mark === 'bar' ? { xOffset: { field: 'series', type: 'nominal' as const, sort: color.sort } } : {};
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: chart.title, subtitle: `${result.seeds.length} seeds: mean, bars from min to max` },
    width: 460, height: 260,
    data: { values },
    encoding: { x, color, ...offset },
    layer: [
      { mark: chart.mark === 'bar' ? { type: 'bar' } : { type: 'line', point: true }, encoding: { y } },
      { mark: { type: 'rule', strokeWidth: 1.5 }, encoding: { y: { field: 'min', type: 'quantitative' }, y2: { field: 'max' }, ...(chart.mark === 'bar' ? { color: { value: 'black' } } : {}) } },
    ],
    config: { font: 'sans-serif' },
  } as vl.TopLevelSpec;
}

/** Renders a Vega-Lite spec to an SVG string (Vega's headless renderer). */
export async function renderSvg(spec: vl.TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

let converter: string[] | null | undefined;

/** The PNG converter available here (ImageMagick's convert, or rsvg-convert), or null. */
export function pngConverter(): string[] | null {
  if (converter !== undefined) return converter;
  const works = (cmd: string, args: string[]) => spawnSync(cmd, args, { stdio: 'ignore', timeout: 10000 }).status === 0;
  converter = works('rsvg-convert', ['--version']) ? ['rsvg-convert', '-f', 'png', '-o']
    : works('convert', ['-version']) ? ['convert'] : null;
  return converter;
}

/** Writes `png` from the SVG file `svg`; false when no converter is installed or it failed. */
export function svgToPng(svg: string, png: string): boolean {
  const c = pngConverter();
  if (!c) return false;
  const args = c[0] === 'convert' ? ['-density', '144', svg, png] : [...c.slice(1), png, svg];
  return spawnSync(c[0]!, args, { stdio: 'ignore', timeout: 60000 }).status === 0;
}
