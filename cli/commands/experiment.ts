// `qkv experiment <name> | list | all`: runs the lecture's experiments (src/experiments), prints
// a table and a verdict for each, writes DIR/<name>.json, DIR/<name>-<chart>.svg (and .png
// where a converter exists), and with --report one self-contained HTML page.
import { Command, Option } from 'commander';
import { SingleBar } from 'cli-progress';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { experiments } from '../../src/index.js';
import { chartSpec, closePngConverter, renderSvg, svgToPng } from '../charts.js';
import { machineLine, tableRows, writeReport } from '../report.js';
import { int, printJson, refuseKernelPath, UsageError, writeTextFile } from '../shared.js';

type Result = experiments.ExperimentResult;

interface ExperimentFlags { from?: string; quick?: boolean; full?: boolean; seeds?: number; seed: number; out: string; report?: string; json?: boolean; png: boolean }

export function experimentCommand(): Command {
  return new Command('experiment')
    .description('reproduce a claim of the lecture: a seeded study with a table, JSON, charts and a verdict ("list" names them, "all" runs every one)')
    .argument('<name>', `list | all | ${experiments.experimentNames().join(' | ')}`)
    .addOption(new Option('--quick', 'a tiny version (seconds; for tests)').conflicts('full'))
    .option('--full', 'bigger sweeps and more seeds (longer than the default minutes)')
    .option('--seeds <n>', 'how many seeds (default: 2 quick, 3 default, 5 full)', int('--seeds', 1))
    .option('--seed <n>', 'the first seed', int('--seed', 0), 0)
    .option('--out <dir>', 'where <name>.json and the charts go (default: the --report dir, else runs/experiments)')
    .option('--report <dir>', 'also write DIR/index.html: every chart, table and verdict in the lecture\'s order')
    .option('--from <dir>', 'do not run: take the results from DIR/<name>.json of earlier runs, redraw the charts and the report')
    .option('--json', 'print the results as JSON on stdout')
    .option('--no-png', 'SVG charts only (PNG needs rsvg-convert, or Chromium with playwright-core)')
    .action(async (name: string, o: ExperimentFlags) => experimentAction(name, o));
}

async function experimentAction(name: string, o: ExperimentFlags): Promise<void> {
  const known = experiments.experimentNames();
  if (name === 'list') {
    for (const def of experiments.EXPERIMENTS) console.log(`${def.name.padEnd(22)} ${def.section.padEnd(4)} ${def.title}`);
    return;
  }
  if (name !== 'all' && !known.includes(name)) throw new UsageError(`unknown experiment "${name}" (known: list, all, ${known.join(', ')})`);
  if (o.from && (o.quick || o.full || o.seeds !== undefined)) throw new UsageError('--from redraws earlier results: --quick, --full and --seeds do not apply to it');
  const size: experiments.ExperimentSize = o.quick ? 'quick' : o.full ? 'full' : 'default';
  const out = o.out ?? o.report ?? join('runs', 'experiments');
  // check the directories can be written before minutes of work
  if (o.report !== undefined) ensureWritable('--report', o.report);
  if (out !== o.report) ensureWritable('--out', out);
  const names = name === 'all' ? known : [name];
  const results: Result[] = [];
  const charts: Record<string, Record<string, string>> = {};
  try {
    for (const n of names) {
      // --from: results of earlier runs (DIR/<name>.json), redrawn; else run the experiment
      const r = o.from ? readResult(o.from, n) : { ...runWithProgress(n, size, o), machine: machineLine() };
      results.push(r);
      charts[n] = await writeResult(r, out, o.png);
      if (!o.json) printResult(r, out);
    }
  } finally {
    await closePngConverter();
  }
  if (o.report) {
    const file = writeReport(o.report, results, charts);
    if (!o.json) console.log(`report: ${file}`);
  }
  if (o.json) printJson(name === 'all' ? results : results[0]);
}

function readResult(dir: string, name: string): Result {
  const file = join(dir, `${name}.json`);
  let r: Result;
  try {
    r = JSON.parse(readFileSync(file, 'utf8')) as Result;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`--from ${file}: ${code === 'ENOENT' ? 'no such file (run the experiment first)' : (e as Error).message}`);
  }
  if (r?.name !== name || !Array.isArray(r.summary) || !Array.isArray(r.charts)) throw new UsageError(`--from ${file}: not the results of experiment ${name}`);
  // the charts and the page read each measure's title and unit
  if (!r.measures || typeof r.measures !== 'object' || Array.isArray(r.measures)) throw new UsageError(`--from ${file}: no "measures" object (each measure's title and unit); rerun the experiment to write it`);
  checkResult(r, (what) => new UsageError(`--from ${file}: ${what}; rerun the experiment to write it again`));
  // JSON has no NaN: null numbers are missing values
  r.summary = r.summary.map((s) => ({ ...s, mean: s.mean ?? NaN, min: s.min ?? NaN, max: s.max ?? NaN }));
  // the claim and verdict as the current definition states and decides them on these numbers
  return { ...r, ...experiments.restate(r) };
}

/** What the charts and the report read of a result file, checked so a damaged one is one line (not a crash or a blank chart). */
function checkResult(r: Result, fail: (what: string) => Error): void {
  const object = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const num = (v: unknown) => v === null || typeof v === 'number';
  for (const [k, m] of Object.entries(r.measures as Record<string, unknown>)) {
    if (!object(m) || typeof m.title !== 'string' || typeof m.unit !== 'string') throw fail(`measure "${k}" must be an object with a "title" and a "unit" string`);
  }
  (r.summary as unknown[]).forEach((row, i) => {
    if (!object(row) || typeof row.series !== 'string' || typeof row.measure !== 'string' || !['string', 'number'].includes(typeof row.x)) {
      throw fail(`summary row ${i} must be an object with "series", "x" and "measure"`);
    }
    if (!(row.measure in r.measures)) throw fail(`summary row ${i}: measure "${row.measure}" is not in "measures"`);
    if (!num(row.mean) || !num(row.min) || !num(row.max)) throw fail(`summary row ${i}: "mean", "min" and "max" must be numbers (or null)`);
  });
  (r.charts as unknown[]).forEach((c, i) => {
    if (!object(c) || typeof c.id !== 'string' || typeof c.measure !== 'string') throw fail(`chart ${i} must be an object with an "id" and a "measure"`);
    if (!(c.measure in r.measures)) throw fail(`chart ${i}: measure "${c.measure}" is not in "measures"`);
  });
  if (!object(r.verdict) || typeof r.verdict.text !== 'string') throw fail('no "verdict" object with its "text"');
  if (r.machine !== undefined && typeof r.machine !== 'string') throw fail('"machine" must be a string');
}

function ensureWritable(flag: string, dir: string): void {
  refuseKernelPath(flag, dir);
  try {
    mkdirSync(dir, { recursive: true });
    const probe = join(dir, `.qkv-write-test-${process.pid}`);
    writeFileSync(probe, '');
    rmSync(probe);
  } catch (e) {
    throw new UsageError(`${flag} ${dir}: cannot write there (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

function runWithProgress(name: string, size: experiments.ExperimentSize, o: ExperimentFlags): Result {
  const bar = process.stderr.isTTY && !o.json
    ? new SingleBar({ format: `${name.padEnd(22)} {bar} {value}/{total} | {what} | ETA {eta_formatted}`, stream: process.stderr, hideCursor: true, etaBuffer: 8 })
    : null;
  let started = false;
  const r = experiments.runNamed(name, {
    size, seeds: o.seeds, seed: o.seed,
    onProgress: (p) => {
      if (bar && !started) { bar.start(p.total, 0, { what: '' }); started = true; }
      bar?.update(p.done, { what: p.what });
    },
  });
  bar?.stop();
  if (!bar && !o.json) process.stderr.write(`${name}: ${r.seeds.length} seeds in ${r.seconds.toFixed(1)} s\n`);
  return r;
}

/** Writes name.json and each chart as SVG (+ PNG); returns chart id -> SVG text. */
async function writeResult(r: Result, dir: string, png: boolean): Promise<Record<string, string>> {
  writeTextFile(join(dir, `${r.name}.json`), JSON.stringify(r, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n');
  const svgs: Record<string, string> = {};
  for (const c of r.charts) {
    const svg = await renderSvg(chartSpec(r, c));
    const file = join(dir, `${r.name}-${c.id}.svg`);
    writeTextFile(file, svg);
    if (png) await svgToPng(file, file.replace(/\.svg$/, '.png'));
    svgs[c.id] = svg;
  }
  return svgs;
}


function printResult(r: Result, out: string): void {
  console.log(`\n${r.title} (lecture ${r.section}; ${r.size}, seeds ${r.seeds.join(', ')}; ${r.backend}; ${r.seconds.toFixed(1)} s)`);
  const header = ['measure', 'series', 'x', 'mean', 'min – max'];
  const rows = [header, ...tableRows(r)];
  const widths = header.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  for (const row of rows) console.log(row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
  console.log(`verdict: ${r.verdict.text}`);
  console.log(`wrote ${join(out, `${r.name}.json`)} and ${r.charts.length} chart${r.charts.length === 1 ? '' : 's'}`);
}
