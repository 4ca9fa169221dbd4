// `qkv experiment all --report DIR`: one self-contained HTML page (inline SVG charts and CSS,
// no scripts, nothing fetched), every experiment's claim, chart, table and verdict in the
// lecture's order (tables of more than 12 rows folded), and the machine it ran on.
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { experiments, version } from '../src/index.js';
import { playgroundLink } from './playground-links.js';
import { writeTextFile } from './shared.js';

type Result = experiments.ExperimentResult;

const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** This machine, in one line: CPU, cores, memory, Node, qkv (recorded in each result the CLI runs). */
export function machineLine(): string {
  const cpu = cpus()[0]?.model?.trim() ?? 'unknown CPU';
  return `${cpu}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}, ${process.platform}, qkv ${version}`;
}

/** Where the results ran: each machine and backend recorded, with its experiments when they differ (results redrawn with --from may come from several runs). */
function machines(results: readonly Result[]): string {
  const groups = new Map<string, string[]>();
  for (const r of results) {
    const key = `${r.machine ?? 'a machine not recorded (results written before 2026-12-07)'}, backend ${r.backend}`;
    groups.set(key, [...(groups.get(key) ?? []), r.name]);
  }
  if (groups.size === 1) return [...groups.keys()][0]!;
  return [...groups].map(([key, names]) => `${key} (${names.join(', ')})`).join('; ');
}

/** When the results were computed: one time, or the first and the last. */
function when(results: readonly Result[]): string {
  const dates = results.map((r) => r.date).filter(Boolean).sort();
  const fmt = (d: string) => d.slice(0, 16).replace('T', ' ');
  if (!dates.length) return fmt(new Date().toISOString());
  return dates[0] === dates[dates.length - 1] || fmt(dates[0]!) === fmt(dates[dates.length - 1]!) ? fmt(dates[0]!) : `${fmt(dates[0]!)} to ${fmt(dates[dates.length - 1]!)}`;
}

/** The value as the measure's unit shows it. */
export function show(v: number, unit: string): string {
  if (!Number.isFinite(v)) return 'n/a';
  if (unit === '%') return `${(100 * v).toFixed(1)}%`;
  if (unit === 'ms') return v >= 100 ? `${v.toFixed(0)} ms` : v >= 1 ? `${v.toFixed(1)} ms` : `${v.toFixed(3)} ms`;
  if (unit === 'MiB') return `${v.toFixed(2)} MiB`;
  if (unit === 's') return `${v.toFixed(2)} s`;
  return v.toPrecision(4);
}

/** Table rows of a result: one per (measure, series, x): mean and min–max over the seeds. */
export function tableRows(r: Result): string[][] {
  return r.summary.map((s) => {
    const unit = r.measures[s.measure]?.unit ?? '';
    return [r.measures[s.measure]?.title ?? s.measure, s.series, String(s.x), show(s.mean, unit), s.n > 1 ? `${show(s.min, unit)} – ${show(s.max, unit)}` : ''];
  });
}

/** A link to the experiment's comparison in the playground, with what it shows. The page is
 * served by `qkv playground` (it needs http for its workers and wasm), on PLAYGROUND_PORT unless
 * that port is taken; `--experiment NAME` opens the same settings on whichever port it got. */
function playground(name: string): string {
  const link = playgroundLink(name);
  return link
    ? `<p class="playground"><a href="${esc(link.url)}">Try it in the playground</a>: ${esc(link.note)} (the link works while <code>qkv playground</code> runs; <code>qkv playground --experiment ${esc(name)}</code> opens it on any port).</p>`
    : '';
}

/** Writes DIR/index.html; `charts[name][chartId]` is the SVG text. Returns the file's path. */
export function writeReport(dir: string, results: readonly Result[], charts: Record<string, Record<string, string>>): string {
  const order = experiments.experimentNames();
  const sorted = [...results].sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
  const sizes = [...new Set(sorted.map((r) => r.size))].join(', ');
  const held = sorted.filter((r) => r.verdict.held === true).length;
  const sections = sorted.map((r) => {
    const nRows = tableRows(r).length;
    const rows = tableRows(r).map((row) => `<tr>${row.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('\n');
    const figs = r.charts.map((c) => `<figure class="chart" data-chart="${esc(`${r.name}/${c.id}`)}">${charts[r.name]?.[c.id] ?? ''}</figure>`).join('\n');
    const mark = r.verdict.held === true ? 'held' : r.verdict.held === false ? 'not held' : 'undecided';
    return `<section id="${esc(r.name)}">
<h2>${esc(r.title)} <small>lecture ${esc(r.section)} · <code>qkv experiment ${esc(r.name)}${r.size === 'default' ? '' : ` --${r.size}`}</code> · ${r.size} size, ${r.seeds.length} seeds</small></h2>
<p class="claim">Claim: ${esc(r.claim)}.</p>
${playground(r.name)}
<p class="verdict ${mark.replace(' ', '-')}"><b>${mark}:</b> ${esc(r.verdict.text)}</p>
${figs}
<details class="numbers"${nRows <= 12 ? ' open' : ''}><summary>the numbers (${nRows} rows: mean and min – max over ${r.seeds.length} seeds)</summary>
<table><thead><tr><th>measure</th><th>series</th><th>x</th><th>mean</th><th>min – max</th></tr></thead>
<tbody>
${rows}
</tbody></table></details>
<details><summary>configuration (${r.size}, seeds ${r.seeds.join(', ')}, ${r.seconds.toFixed(1)} s)</summary><pre>${esc(JSON.stringify(r.config, null, 2))}</pre></details>
</section>`;
  }).join('\n');
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>qkv: the lecture's claims, measured</title>
<style>
body { font: 15px/1.45 sans-serif; max-width: 1000px; margin: 2em auto; padding: 0 1em; color: #222 }
h2 small { font-weight: normal; color: #666; font-size: 60% }
table { border-collapse: collapse; font-size: 13px; margin: .5em 0 }
td, th { border-bottom: 1px solid #ddd; padding: 2px 10px; text-align: left }
figure.chart { display: inline-block; margin: .5em 1em .5em 0 }
.verdict { padding: .4em .7em; border-left: 4px solid #999 }
.verdict.held { border-color: #2a8; background: #eef9f4 }
.verdict.not-held { border-color: #c44; background: #fbeeee }
pre { font-size: 12px; background: #f6f6f6; padding: .5em; overflow-x: auto }
details.numbers > summary { cursor: pointer; color: #446 }
figure.chart svg { max-width: 100%; height: auto }
</style></head>
<body>
<h1>The lecture's claims, measured</h1>
<p>Every experiment of <code>qkv experiment</code>, in the order of the lecture (Hung-yi Lee, self-attention). Each ran on several seeds; charts show the mean and, as bars, the min–max over the seeds. Verdicts are computed from these numbers.</p>
<p class="machine">Run ${esc(when(sorted))} UTC, size ${esc(sizes)}, on ${esc(machines(sorted))}. ${held} of ${sorted.length} claims held on this run.</p>
<nav><ol>${sorted.map((r) => `<li><a href="#${esc(r.name)}">${esc(r.title)}</a></li>`).join('')}</ol></nav>
${sections}
</body></html>
`;
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'index.html');
  writeTextFile(file, html);
  return file;
}
