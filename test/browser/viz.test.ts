// The visualizer in a real browser (Debian's Chromium via playwright-core): the numbers the page
// shows (every vector cell and scalar of the lecture view carries its value in data-value) equal
// the library's inspectModel to 1e-6 for every layer, head and query; the canvases draw what they
// should (darker = more attention, blocked cells grey); the exported file works from file:// with
// the network off; errors show on the page. Screenshots go to $QKV_VIZ_SHOTS when set.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { choose, compare, lectureNumbers, openViz } from './viz-dom.js';
import { bin, libraryInspection, startViz, stop, tinyModel, type Running } from '../cli/viz-helpers.js';

const CHROMIUM = process.env['QKV_CHROMIUM'] ?? '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `no browser at ${CHROMIUM} (.ci/run installs Debian's chromium; QKV_CHROMIUM names another)`;
const SHOTS = process.env['QKV_VIZ_SHOTS'];

/** The colour of cell (i, j) of a mini map: [r, g, b]. */
async function miniPixel(page: Page, layer: number, head: number, i: number, j: number): Promise<number[]> {
  return page.$eval(`canvas.mini[data-layer="${layer}"][data-head="${head}"]`, (c, [i, j]) => {
    const canvas = c as HTMLCanvasElement; // one pixel per cell
    return Array.from(canvas.getContext('2d')!.getImageData(j!, i!, 1, 1).data.slice(0, 3));
  }, [i, j]);
}

describe('the visualizer in a browser (Chromium)', { skip }, () => {
  let browser: Browser;
  let dir: string;
  let viz: Running;
  before(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    dir = tinyModel({ window: 1 });
    viz = await startViz(['--model', dir]);
  });
  after(async () => {
    await browser?.close();
    if (viz) await stop(viz);
  });

  test('every number of the lecture view equals the library\'s, in every layer, head and query', async () => {
    const { page, errors } = await openViz(browser, viz.url);
    await page.waitForSelector('body[data-ready="true"]');
    const r = libraryInspection(dir, { tokens: ['I', 'saw', 'a', 'saw'] });
    let checked = 0;
    for (let layer = 0; layer < r.layers.length; layer++) {
      for (let head = 0; head < r.model.heads; head++) {
        for (const query of [0, 3]) {
          await choose(page, layer, head, query);
          checked += compare(await lectureNumbers(page), r, layer, head, query);
        }
      }
    }
    // per (layer, head, query): a, q, k, v (4 × 16 + 3 × 4 × 8), alpha and alpha' (8), alpha'v (32), b (8)
    assert.equal(checked, 2 * 2 * 2 * (64 + 96 + 8 + 32 + 8));
    // clicking a score shows its operands: q^i and k^j, the same numbers again
    await choose(page, 1, 1, 3);
    await page.click('#lecture button.num[data-name="alpha"][data-j="2"]');
    const operands = await page.$$eval('#explain [data-name="q-operand"] [data-value]', (els) => els.map((e) => Number(e.getAttribute('data-value'))));
    operands.forEach((x, c) => assert.ok(Math.abs(x - r.layers[1]!.heads[1]!.q[3]![c]!) <= 1e-6));
    assert.match(await page.textContent('#explain h4') ?? '', /α₄,₃ = q⁴ · k³ \/ √d/);
    // the softmax step: the denominator in parentheses, and why the largest score is subtracted
    await page.click('#lecture button.num[data-name="alphaPrime"][data-j="2"]');
    const softmaxText = await page.textContent('#explain') ?? '';
    assert.match(softmaxText, /= exp\([-\d.]+\) \/ \(exp\([-\d.]+\) \+ exp\([-\d.]+\)/);
    assert.match(softmaxText, /no exp can overflow/);
    // W^q as W with a superscript q (no stand-in letter)
    await page.click('#lecture [data-name="q"][data-i="3"]');
    assert.equal(await page.$eval('#explain h4 .w sup', (e) => e.textContent), 'q');
    assert.doesNotMatch(await page.textContent('#lecture') ?? '', /ᵠ/);
    if (SHOTS) await page.screenshot({ path: join(SHOTS, 'viz-lecture.png'), fullPage: true });
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('the model view: a map per layer and head, darker where alpha\' is larger, masked cells grey', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(viz.url);
    await page.waitForSelector('body[data-ready="true"]');
    const r = libraryInspection(dir, { tokens: ['I', 'saw', 'a', 'saw'] });
    assert.equal(await page.locator('canvas.mini').count(), r.layers.length * r.model.heads);
    for (let layer = 0; layer < r.layers.length; layer++) {
      for (let head = 0; head < r.model.heads; head++) {
        const w = r.layers[layer]!.heads[head]!.alphaPrime!;
        for (let i = 0; i < 4; i++) {
          const live: [number, number][] = [];
          for (let j = 0; j < 4; j++) {
            const [red, green, blue] = await miniPixel(page, layer, head, i, j);
            if (r.blocked[i]![j]) assert.deepEqual([red, green, blue], [0xd5, 0xd5, 0xd5], `blocked cell (${i}, ${j}) is grey`);
            else live.push([w[i]![j]!, green!]);
          }
          // more attention, darker (less green), cell by cell
          live.sort((a, b) => a[0] - b[0]);
          for (let k = 1; k < live.length; k++) if (live[k]![0] - live[k - 1]![0] > 0.01) assert.ok(live[k]![1] < live[k - 1]![1], `layer ${layer} head ${head} row ${i}: darker for more attention`);
        }
      }
    }
    // the head view draws a line per visible weight, the lecture's matrices are all there
    const lines = await page.locator('svg.headview line').count();
    const w = r.layers[0]!.heads[0]!.alphaPrime!;
    assert.equal(lines, w.flat().filter((x, k) => x > 0.005 && !r.blocked[Math.floor(k / 4)]![k % 4]).length);
    assert.deepEqual(await page.$$eval('#matrices canvas.heat', (cs) => cs.map((c) => c.getAttribute('data-name'))), ['Q', 'K', 'V', 'A', 'A′', 'O']);
    // a click in the grid walks that head
    await page.click('canvas.mini[data-layer="1"][data-head="1"]');
    assert.match(await page.textContent('#lecture h2') ?? '', /layer 2, head 2/);
    if (SHOTS) await page.screenshot({ path: join(SHOTS, 'viz-model.png'), fullPage: true });
    await page.close();
  });

  test('unknown words show as <unk>; an empty input shows the error on the page', async () => {
    const page = await browser.newPage();
    await page.goto(viz.url);
    await page.waitForSelector('body[data-ready="true"]');
    await page.fill('#input', 'I saw a zyzzyva');
    await page.click('#go');
    await page.waitForSelector('#lecture .tok.unk');
    assert.match(await page.textContent('#lecture .tok.unk') ?? '', /<unk>.*zyzzyva/);
    await page.fill('#input', '   ');
    await page.click('#go');
    await page.waitForSelector('#error:not([hidden])');
    assert.match(await page.textContent('#error') ?? '', /the input is empty/);
    await page.close();
  });

  test('a model that does not load: the page says why', async () => {
    const bad = await startViz(['--model', join(tmpdir(), 'qkv-viz-no-such-model')]);
    try {
      const page = await browser.newPage();
      await page.goto(bad.url);
      await page.waitForSelector('#error');
      assert.match(await page.textContent('#error') ?? '', /cannot load the model: .*qkv-viz-no-such-model/);
      await page.close();
    } finally {
      await stop(bad);
    }
  });

  test('the exported page works from file:// with the network off and shows the same numbers', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'qkv-viz-export-')), 'page.html');
    const e = spawnSync(process.execPath, [bin, 'viz', '--model', dir, '--export', out, '--input', 'the duck can fly', '--input', 'I saw a saw'], { encoding: 'utf8' });
    assert.equal(e.status, 0, e.stderr);
    const context = await browser.newContext({ offline: true });
    const requests: string[] = [];
    context.on('request', (req) => requests.push(req.url()));
    const page = await context.newPage();
    await page.goto(`file://${out}`);
    await page.waitForSelector('body[data-ready="true"]');
    await page.selectOption('#input', '1');
    const r = libraryInspection(dir, { tokens: ['I', 'saw', 'a', 'saw'] });
    await choose(page, 1, 0, 1);
    assert.equal(compare(await lectureNumbers(page), r, 1, 0, 1), 64 + 96 + 8 + 32 + 8);
    assert.deepEqual(requests, [`file://${out}`], 'the page fetched nothing');
    await context.close();
  });
});

/** Serves the model in `dir` with `qkv viz`, opens the page in a fresh browser, runs `fn`, cleans up. */
async function withPage(dir: string, fn: (page: Page) => Promise<void>): Promise<void> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  const viz = await startViz(['--model', dir]);
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(viz.url);
    await page.waitForSelector('body[data-ready="true"]');
    await fn(page);
  } finally {
    await stop(viz);
    await browser.close();
  }
}

describe('the visualizer on graphs and training runs (Chromium)', { skip }, () => {
  test('training, watched: a slider over the recorded evaluations redraws every layer and head', async () => {
    await withPage(tinyModel({}, 'ambiguity', 'I saw a saw'), async (page) => {
      await page.waitForSelector('#training');
      assert.equal(await page.getAttribute('#train-label', 'data-step'), '6');
      assert.equal(await page.locator('#training canvas[data-step="6"]').count(), 4);
      await page.fill('#train-step', '0');
      assert.equal(await page.getAttribute('#train-label', 'data-step'), '2');
      assert.equal(await page.locator('#training canvas[data-step="2"]').count(), 4);
    });
  });

  test('linear attention: the running state (S, z) token by token, equal to the library\'s', async () => {
    const dir = tinyModel({ attention: 'linear', pos: 'none' });
    await withPage(dir, async (page) => {
      const r = libraryInspection(dir, { tokens: ['I', 'saw', 'a', 'saw'] });
      await choose(page, 1, 1, 2);
      compare(await lectureNumbers(page), r, 1, 1, 2);
      const st = r.layers[1]!.heads[1]!.state!;
      for (const t of [3, 0]) {
        await page.fill('#state-t', String(t));
        const S = await page.$$eval('#state [data-name="S"]', (rows) => rows.map((row) => Array.from(row.querySelectorAll('[data-value]')).map((c) => Number(c.getAttribute('data-value')))));
        const z = await page.$$eval('#state [data-name="z"] [data-value]', (cs) => cs.map((c) => Number(c.getAttribute('data-value'))));
        assert.equal(S.length, 8);
        S.forEach((row, c) => row.forEach((x, e) => assert.ok(Math.abs(x - st.S[t]![c]![e]!) <= 1e-6, `S[${t}][${c}][${e}]`)));
        z.forEach((x, c) => assert.ok(Math.abs(x - st.z[t]![c]!) <= 1e-6, `z[${t}][${c}]`));
      }
      if (SHOTS) await page.screenshot({ path: join(SHOTS, 'viz-linear.png'), fullPage: true });
    });
  });

  test('graph nodes: drawn as a graph, attention on the edges, non-edges blocked', async () => {
    const dir = tinyModel({ pos: 'none' }, 'graph');
    await withPage(dir, async (page) => {
      const input = JSON.parse(await page.inputValue('#input')) as { nodes: number[][]; edges: [number, number][] };
      const r = libraryInspection(dir, { frames: input.nodes, edges: input.edges });
      assert.equal(await page.locator('svg.graph circle.node').count(), input.nodes.length);
      await choose(page, 0, 1, 2);
      compare(await lectureNumbers(page), r, 0, 1, 2);
      // purple lines leave node 2 exactly toward the neighbours it attends to
      const targets = (await page.$$eval('svg.graph line[data-j]', (ls) => ls.map((l) => Number(l.getAttribute('data-j'))))).sort((a, b) => a - b);
      const w = r.layers[0]!.heads[1]!.alphaPrime![2]!;
      assert.deepEqual(targets, w.map((x, j) => [x, j] as const).filter(([x, j]) => j !== 2 && x > 0.005).map(([, j]) => j));
      targets.forEach((j) => assert.ok(!r.blocked[2]![j]));
      if (SHOTS) await page.screenshot({ path: join(SHOTS, 'viz-graph.png'), fullPage: true });
    });
  });
});
