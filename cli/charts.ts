// Charts of experiment results: a Vega-Lite spec per chart (mean as a line or bars, min–max
// over the seeds as rules), compiled to Vega and rendered to SVG in Node without a browser;
// PNG through `rsvg-convert` or headless Chromium when one is installed.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { experiments } from '../src/index.js';

type Result = experiments.ExperimentResult;
type Chart = experiments.ChartSpec;

/** "accuracy (%)", but "ms per step" stays as it is: the unit is added only where the title lacks it. */
export function axisTitle(title: string, unit: string): string {
  if (!unit) return title;
  const words = title.split(/[^\p{L}%]+/u);
  return words.includes(unit) ? title : `${title} (${unit})`;
}

/**
 * The y domain of a percentage: zoomed to the data (from the lowest min to the highest max over
 * the seeds, padded and rounded to 5 points, within 0..100), so 88–100% does not sit in a sliver.
 */
export function percentDomain(lo: number, hi: number): [number, number] {
  const pad = Math.max(2, (hi - lo) * 0.1);
  return [Math.max(0, Math.floor((lo - pad) / 5) * 5), Math.min(100, Math.ceil((hi + pad) / 5) * 5)];
}

/** The Vega-Lite spec of one chart of a result. */
export function chartSpec(result: Result, chart: Chart): vl.TopLevelSpec {
  const unit = result.measures[chart.measure]?.unit ?? '';
  const scale = unit === '%' ? 100 : 1;
  const values = result.summary.filter((s) => s.measure === chart.measure && Number.isFinite(s.mean))
    .map((s) => ({ series: s.series, x: s.x, mean: s.mean * scale, min: s.min * scale, max: s.max * scale, n: s.n }));
  const order = [...new Set(values.map((v) => String(v.x)))];
  const xs = values.map((v) => v.x).filter((v): v is number => typeof v === 'number');
  const lo = Math.min(...values.map((v) => v.min));
  const hi = Math.max(...values.map((v) => v.max));
  // log axes end at the data, not at the next power of ten
  const x = chart.xType === 'nominal'
    ? { field: 'x', type: 'nominal' as const, title: chart.xTitle, sort: order, axis: { labelAngle: 0, labelLimit: 0 } }
    : { field: 'x', type: 'quantitative' as const, title: chart.xTitle, axis: { labelLimit: 0 }, scale: chart.xLog ? { type: 'log' as const, domain: [Math.min(...xs), Math.max(...xs)], nice: false } : { zero: false } };
  const yScale = chart.yLog ? { type: 'log' as const, domain: [lo, hi], nice: false }
    : unit === '%' && values.length ? { domain: percentDomain(lo, hi), zero: false } : {};
  const y = { field: 'mean', type: 'quantitative' as const, title: axisTitle(chart.yTitle, unit), scale: yScale, axis: { titleLimit: 0 } };
  const color = { field: 'series', type: 'nominal' as const, title: null, sort: [...new Set(values.map((v) => v.series))], legend: { labelLimit: 0, orient: 'bottom' as const, columns: 2 } };
  const offset = chart.mark === 'bar' ? { xOffset: { field: 'series', type: 'nominal' as const, sort: color.sort } } : {};
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: chart.title, subtitle: `${result.seeds.length} seeds: mean, bars from min to max`, limit: 0 },
    width: 460, height: 260,
    data: { values },
    encoding: { x, color, ...offset },
    layer: [
      // bars on a zoomed axis start below it: clipped to the plot, not drawn over the axis
      { mark: chart.mark === 'bar' ? { type: 'bar', clip: true } : { type: 'line', point: true }, encoding: { y } },
      { mark: { type: 'rule', strokeWidth: 1.5, clip: true }, encoding: { y: { field: 'min', type: 'quantitative' }, y2: { field: 'max' }, ...(chart.mark === 'bar' ? { color: { value: 'black' } } : {}) } },
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

/** rsvg-convert where installed (its own SVG renderer), else null. */
function rsvg(): boolean {
  return spawnSync('rsvg-convert', ['--version'], { stdio: 'ignore', timeout: 10000 }).status === 0;
}

const CHROMIUM = process.env['QKV_CHROMIUM'] ?? '/usr/bin/chromium';
// eslint-disable-next-line @typescript-eslint/no-explicit-any
let browser: Promise<any> | null = null;

/**
 * The PNG converter used here: rsvg-convert, else Chromium (playwright-core and a Chromium at
 * QKV_CHROMIUM or /usr/bin/chromium), else none. ImageMagick is not used: its own SVG reader
 * draws text as black boxes and rotated titles upside down.
 */
export async function pngConverter(): Promise<'rsvg-convert' | 'chromium' | null> {
  if (rsvg()) return 'rsvg-convert';
  if (!existsSync(CHROMIUM)) return null;
  try {
    await import('playwright-core');
    return 'chromium';
  } catch {
    return null;
  }
}

/** Writes `png` from the SVG file `svg` (at twice the size); false when no converter is installed or it failed. */
export async function svgToPng(svg: string, png: string): Promise<boolean> {
  const c = await pngConverter();
  if (c === 'rsvg-convert') return spawnSync('rsvg-convert', ['-f', 'png', '-z', '2', '-b', 'white', '-o', png, svg], { stdio: 'ignore', timeout: 60000 }).status === 0;
  if (c !== 'chromium') return false;
  try {
    browser ??= import('playwright-core').then((pw) => pw.chromium.launch({ executablePath: CHROMIUM }));
    const b = await browser;
    const page = await b.newPage({ deviceScaleFactor: 2 });
    try {
      await page.setContent(`<!doctype html><html><body style="margin:0;background:#fff">${readFileSync(svg, 'utf8')}</body></html>`);
      await (await page.$('svg'))!.screenshot({ path: png });
      return true;
    } finally {
      await page.close();
    }
  } catch {
    return false;
  }
}

/** Closes the browser svgToPng started, if any (call once the charts are written). */
export async function closePngConverter(): Promise<void> {
  const b = browser;
  browser = null;
  if (b) await (await b.catch(() => null))?.close();
}
