// `qkv experiment` end to end: every experiment in --quick form (one run of `all`, 2 seeds)
// writes JSON of the documented shape with one entry per seed and a verdict that is a function
// of its numbers, an SVG per chart, and a report that Chromium opens with every chart drawn;
// and bad input is one line.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { before, describe, test } from 'node:test';
import { chromium } from 'playwright-core';
import { experiments } from '../../src/index.js';
import { failsWith, ok } from './expect.js';

const bin = fileURLToPath(new URL('../../cli/qkv.js', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
const CHROMIUM = process.env['QKV_CHROMIUM'] ?? '/usr/bin/chromium';

describe('qkv experiment all --quick --report', () => {
  const dir = mkdtempSync(join(tmpdir(), 'qkv-exp-'));
  let printed: experiments.ExperimentResult[] = [];
  before(() => {
    const r = run('experiment', 'all', '--quick', '--seeds', '2', '--report', dir, '--json', '--no-png');
    ok(r, 'experiment all');
    printed = JSON.parse(r.stdout) as experiments.ExperimentResult[];
  });

  test('every experiment, in the lecture\'s order, writes JSON of the documented shape with one entry per seed', () => {
    assert.deepEqual(printed.map((r) => r.name), experiments.experimentNames());
    for (const name of experiments.experimentNames()) {
      const r = JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as experiments.ExperimentResult;
      assert.equal(r.name, name);
      for (const key of ['title', 'section', 'claim', 'backend', 'date']) assert.equal(typeof (r as unknown as Record<string, unknown>)[key], 'string', `${name}.${key}`);
      assert.equal(r.size, 'quick');
      assert.deepEqual(r.seeds, [0, 1]);
      assert.ok(r.config && typeof r.config === 'object');
      assert.deepEqual(r.perSeed.map((s) => s.seed), [0, 1], `${name}: one entry per seed`);
      for (const s of r.perSeed) {
        assert.ok(s.rows.length > 0 && s.seconds > 0);
        for (const row of s.rows) {
          assert.equal(typeof row.series, 'string');
          assert.ok(typeof row.x === 'number' || typeof row.x === 'string');
          assert.ok(row.measure in r.measures, `${name}: measure ${row.measure} is described`);
          assert.ok(row.value === null || typeof row.value === 'number');
        }
      }
      assert.ok(r.summary.length > 0 && r.summary.every((s) => s.n === 2 && s.min <= s.mean + 1e-12 && s.mean <= s.max + 1e-12), `${name}: spread over 2 seeds`);
      assert.ok(r.charts.length > 0);
      assert.ok(r.verdict.held === true || r.verdict.held === false || r.verdict.held === null);
      assert.match(r.verdict.text, /\d/, `${name}: the verdict quotes numbers`);
      for (const c of r.charts) {
        const svg = readFileSync(join(dir, `${name}-${c.id}.svg`), 'utf8');
        assert.match(svg, /^<svg[^>]+width="\d+"/);
        assert.ok(svg.includes('<path'), `${name}-${c.id}.svg draws marks`);
      }
    }
  });

  test('each verdict is computed from the summary: recomputing it gives the same sentence, other numbers another', () => {
    for (const r of printed) {
      const def = experiments.EXPERIMENTS.find((d) => d.name === r.name)!;
      const again = def.verdict(new experiments.SummaryTable(r.summary), r.config);
      assert.deepEqual(again, r.verdict, r.name);
      // scale every number: the sentence must change with them
      const moved = r.summary.map((s) => ({ ...s, mean: s.mean * 0.5 + 0.123, min: s.min * 0.5 + 0.123, max: s.max * 0.5 + 0.123 }));
      assert.notEqual(def.verdict(new experiments.SummaryTable(moved), r.config).text, r.verdict.text, `${r.name}: the verdict follows the numbers`);
    }
  });

  test('the report opens in Chromium with every chart present and non-empty', { skip: existsSync(CHROMIUM) ? false : `no browser at ${CHROMIUM} (.ci/run installs Debian's chromium)` }, async () => {
    const html = readFileSync(join(dir, 'index.html'), 'utf8');
    assert.doesNotMatch(html, /<script|src="http/, 'self-contained: no scripts, nothing fetched');
    // the only links out are to the playground qkv serves on this machine (clicked, never fetched)
    for (const [, href] of html.matchAll(/href="(http[^"]*)"/g)) assert.match(href!, /^http:\/\/127\.0\.0\.1:8471\/\?task=/, href);
    const expected = printed.flatMap((r) => r.charts.map((c) => `${r.name}/${c.id}`));
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage();
      await page.goto(pathToFileURL(join(dir, 'index.html')).href);
      const charts = await page.$$eval('figure.chart', (figs) => figs.map((f) => {
        const svg = f.querySelector('svg');
        const box = svg?.getBoundingClientRect();
        return { id: f.getAttribute('data-chart'), width: box?.width ?? 0, height: box?.height ?? 0, marks: svg ? svg.querySelectorAll('path').length : 0 };
      }));
      assert.deepEqual(charts.map((c) => c.id), expected);
      for (const c of charts) assert.ok(c.width > 100 && c.height > 100 && c.marks > 0, `${c.id}: ${JSON.stringify(c)}`);
      const verdicts = await page.$$eval('.verdict', (els) => els.map((e) => e.textContent ?? ''));
      assert.equal(verdicts.length, printed.length);
      assert.deepEqual(verdicts.map((v) => v.replace(/^[^:]+:\s*/, '')), printed.map((r) => r.verdict.text));
      // tables of more than 12 rows are folded; nothing widens the page past the window
      const folds = await page.$$eval('details.numbers', (ds) => ds.map((d) => ({ open: (d as HTMLDetailsElement).open, rows: d.querySelectorAll('tbody tr').length })));
      assert.equal(folds.length, printed.length);
      for (const f of folds) assert.equal(f.open, f.rows <= 12, JSON.stringify(f));
      for (const w of [800, 1280]) {
        await page.setViewportSize({ width: w, height: 900 });
        assert.ok(await page.evaluate(() => document.documentElement.scrollWidth) <= w, `no horizontal scroll at ${w} px`);
      }
    } finally {
      await browser.close();
    }
  });
});

test('--from redraws the charts and the report from earlier JSON without running anything', () => {
  const dir = mkdtempSync(join(tmpdir(), 'qkv-exp-'));
  ok(run('experiment', 'graph', '--quick', '--seeds', '2', '--out', dir, '--no-png'), 'graph');
  const first = JSON.parse(readFileSync(join(dir, 'graph.json'), 'utf8')) as experiments.ExperimentResult;
  const report = join(dir, 'again');
  const r = run('experiment', 'graph', '--from', dir, '--report', report, '--no-png', '--json');
  ok(r, '--from');
  assert.deepEqual((JSON.parse(r.stdout) as experiments.ExperimentResult).verdict, first.verdict);
  assert.match(readFileSync(join(report, 'index.html'), 'utf8'), /<svg/);
  // the machine is recorded with the numbers, and the report names it (not the machine that redraws)
  assert.match(first.machine!, /\d+ cores, .* GiB, Node v\d+/);
  assert.ok(readFileSync(join(report, 'index.html'), 'utf8').includes(`on ${first.machine!}, backend ${first.backend}.`));
  failsWith(run('experiment', 'graph', '--from', dir, '--seeds', '3'), /--from redraws earlier results/);
  failsWith(run('experiment', 'window', '--from', dir), /--from .*window\.json: no such file/);
  // numbers written under an older rule: the claim and verdict are today's on those numbers
  writeFileSync(join(dir, 'graph.json'), JSON.stringify({ ...first, claim: 'an old claim', verdict: { held: false, text: 'an old verdict' } }));
  const again = run('experiment', 'graph', '--from', dir, '--no-png', '--json');
  ok(again, 'restated');
  const restated = JSON.parse(again.stdout) as experiments.ExperimentResult;
  assert.deepEqual([restated.claim, restated.verdict], [first.claim, first.verdict]);
  // numbers lacking a measure today's rule reads: undecided, and told to rerun
  const lacking = { ...first, summary: first.summary.filter((row) => row.series !== first.summary[0]!.series), verdict: { held: true, text: 'an old verdict' } };
  writeFileSync(join(dir, 'graph.json'), JSON.stringify(lacking));
  const older = run('experiment', 'graph', '--from', dir, '--no-png', '--json');
  ok(older, 'stale');
  const stale = JSON.parse(older.stdout) as experiments.ExperimentResult;
  assert.equal(stale.verdict.held, null);
  assert.match(stale.verdict.text, /lack what the current claim is decided on .*rerun `qkv experiment graph`\. Their verdict then was: an old verdict$/);
});

test('qkv experiment list names every experiment', () => {
  const r = run('experiment', 'list');
  ok(r, 'list');
  for (const name of experiments.experimentNames()) assert.match(r.stdout, new RegExp(`^${name}\\s`, 'm'));
});

test('bad input: unknown name lists the known ones, unwritable --report, --seeds 0: one line each', () => {
  const unknown = run('experiment', 'nosuch', '--quick');
  failsWith(unknown, /unknown experiment "nosuch" \(known: list, all, fc-vs-attention, window, .*linear-vs-softmax\)/);
  const file = join(mkdtempSync(join(tmpdir(), 'qkv-exp-')), 'a-file');
  writeFileSync(file, '');
  failsWith(run('experiment', 'graph', '--quick', '--report', join(file, 'report')), /--report .*a-file\/report: cannot write there \(ENOTDIR\)/);
  failsWith(run('experiment', 'graph', '--quick', '--seeds', '0'), /--seeds must be an integer >= 1/);
  failsWith(run('experiment', 'graph', '--quick', '--full'), /--quick.*cannot be used with.*--full/);
});
