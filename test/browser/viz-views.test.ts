// The visualizer's views in Chromium (playwright-core), read back from the DOM: the lecture
// view's explanations write every number (q, k, their products and sum; additive attention's
// terms) equal to the library's; every vector and map has a colour scale; the page opens on an
// informative query; causal maps are scaled per row; the layer × head grid fits at 800, 1280 and
// 1920 px with token labels and nothing widens the page; Enter submits; an error replaces the
// result and a result the error; speech models read WAV files and image models pictures.
// Screenshots go to $QKV_VIZ_SHOTS when set.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import {
  classifyDriver, data, encodePng, inspectModel, loadInstance, readBinaryFile, type InspectableModel, type ModelInspection, type TaskDriver, type TaskInstance,
} from '../../src/index.js';
import { compare, lectureNumbers } from './viz-dom.js';
import { bin, libraryDecoderInspection, libraryInspection, mediaModel, SPOKEN, startViz, stop, tinyDecoder, tinyModel, type Running } from '../cli/viz-helpers.js';

const CHROMIUM = process.env['QKV_CHROMIUM'] ?? '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `no browser at ${CHROMIUM} (.ci/run installs Debian's chromium; QKV_CHROMIUM names another)`;
const SHOTS = process.env['QKV_VIZ_SHOTS'];
const WIDTHS = [800, 1280, 1920];

function loadClassify(dir: string): TaskInstance {
  return loadInstance(classifyDriver as unknown as TaskDriver<TaskInstance, unknown, unknown, unknown>, dir).instance;
}

/** The library's inspection of a WAV file for a model that reads audio. */
function wavInspection(dir: string, wav: string): ModelInspection {
  const m = loadClassify(dir);
  const fe = (m.config as unknown as { featurizer: { frontEnd: data.AudioFrontEnd } }).featurizer.frontEnd;
  return inspectModel(m as unknown as InspectableModel, { frames: data.wavFeatures(readBinaryFile(wav), wav, fe) });
}

async function open(browser: Browser, url: string, width = 1400): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]');
  return { page, errors };
}

/** Every number written in an element's text, in order (the page writes a real minus sign). */
const numbersIn = (text: string): number[] => [...text.replace(/−/g, '-').matchAll(/-?\d+\.\d+/g)].map((m) => Number(m[0]));

/**
 * Nothing overflows its card at this width: the page does not scroll sideways, every card lies
 * inside the window, and the cards that must fit (`fit`) do not scroll either.
 */
async function fits(page: Page, width: number, fit: string[], what: string): Promise<void> {
  const r = await page.evaluate(() => ({
    page: document.documentElement.scrollWidth,
    cards: Array.from(document.querySelectorAll('section'), (s) => ({ id: s.id, right: s.getBoundingClientRect().right, scroll: s.scrollWidth, client: s.clientWidth })),
  }));
  assert.ok(r.page <= width, `${what} at ${width} px: the page is ${r.page} px wide`);
  for (const c of r.cards) {
    assert.ok(c.right <= width, `${what} at ${width} px: #${c.id} ends at ${c.right}`);
    if (fit.includes(c.id)) assert.ok(c.scroll <= c.client, `${what} at ${width} px: #${c.id} overflows (${c.scroll} > ${c.client})`);
  }
}

describe('the lecture view and the page at every size (Chromium)', { skip }, () => {
  let browser: Browser;
  let dir: string;
  let viz: Running;
  before(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    dir = tinyModel({ heads: 4 });
    viz = await startViz(['--model', dir]);
  });
  after(async () => {
    await browser?.close();
    if (viz) await stop(viz);
  });

  test('opens on the second "saw" in the last layer; clicking α writes q, k, every product and the sum, equal to the library\'s', async () => {
    const { page, errors } = await open(browser, viz.url);
    const r = libraryInspection(dir, { tokens: ['I', 'saw', 'a', 'saw'] });
    assert.equal(await page.inputValue('#layer'), '1');
    assert.equal(await page.inputValue('#head'), '0');
    assert.match(await page.textContent('#lecture h2') ?? '', /^Query a⁴: "saw" .* layer 2, head 1$/);
    assert.equal(compare(await lectureNumbers(page), r, 1, 0, 3), 64 + 4 * 3 * 4 + 8 + 16 + 4); // d = 4 per head
    // positions as the lecture writes them, a¹ … a⁴, on the query buttons
    assert.deepEqual(await page.$$eval('#lecture .tok .pos', (ps) => ps.map((p) => p.textContent)), ['a¹', 'a²', 'a³', 'a⁴']);
    const hd = r.layers[1]!.heads[0]!;
    for (const j of [0, 3]) {
      await page.click(`#lecture button.num[data-name="alpha"][data-j="${j}"]`);
      const q = hd.q[3]!;
      const k = hd.k[j]!;
      // numbers written in the cells, not only colours
      const written = async (name: string) => numbersIn((await page.$$eval(`#explain [data-name="${name}"] .c`, (cs) => cs.map((c) => c.textContent).join(' '))));
      const near = (got: number[], want: number[], what: string) => { assert.equal(got.length, want.length, what); got.forEach((x, c) => assert.ok(Math.abs(x - want[c]!) <= 6e-4, `${what}[${c}]: page ${x}, library ${want[c]}`)); };
      near(await written('q-operand'), q, 'q');
      near(await written('k-operand'), k, 'k');
      near(await written('products'), q.map((x, c) => x * k[c]!), 'q × k');
      const dot = Number(await page.getAttribute('#explain [data-name="dot"]', 'data-value'));
      assert.ok(Math.abs(dot * r.model.scale - hd.alpha![3]![j]!) <= 1e-6, `q·k/√d = α: ${dot * r.model.scale} vs ${hd.alpha![3]![j]}`);
      // each operand has its colour scale, ends written
      assert.equal(await page.locator('#explain .legend').count(), 3);
    }
    // every vector row of the step table, and b, carry a scale; every map of the matrices too
    assert.equal(await page.locator('#lecture table.steps th .legend').count(), 5); // a, q, k, v, α′v
    assert.equal(await page.locator('#lecture .eq.result .legend').count(), 1);
    const maps = await page.$$eval('#matrices figure.heatmap', (fs) => fs.map((f) => ({ name: f.getAttribute('data-name'), min: f.querySelector('.legend')?.getAttribute('data-min'), max: f.querySelector('.legend')?.getAttribute('data-max') })));
    assert.deepEqual(maps.map((m) => m.name), ['Q', 'K', 'V', 'A', 'A′', 'O']);
    const qMax = Math.max(...hd.q.flat().map(Math.abs));
    assert.ok(Math.abs(Number(maps[0]!.max) - qMax) <= 1e-6 && Math.abs(Number(maps[0]!.min) + qMax) <= 1e-6, 'Q\'s scale runs from −max|q| to max|q|');
    assert.equal(Number(maps[4]!.min), 0);
    assert.ok(await page.locator('#grid .legend').count() === 1);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('the layer × head grid fits at 800, 1280 and 1920 px with token labels; nothing widens the page', async () => {
    for (const width of WIDTHS) {
      const { page } = await open(browser, viz.url, width);
      await fits(page, width, ['lecture', 'matrices', 'grid', 'headview'], 'I saw a saw');
      // all four heads inside the card
      const card = await page.$eval('#grid', (s) => s.getBoundingClientRect().right);
      const rights = await page.$$eval('#grid canvas.mini', (cs) => cs.map((c) => c.getBoundingClientRect().right));
      assert.equal(rights.length, 8);
      for (const x of rights) assert.ok(x <= card, `at ${width} px a map ends at ${x}, past the card (${card})`);
      assert.deepEqual(await page.$$eval('#grid .col-labels', (ls) => ls.map((l) => Array.from(l.children, (c) => c.textContent))), new Array(4).fill(['I', 'saw', 'a', 'saw']));
      assert.deepEqual(await page.$$eval('#grid .row-labels', (ls) => ls.map((l) => Array.from(l.children, (c) => c.textContent))), new Array(2).fill(['I', 'saw', 'a', 'saw']));
      if (SHOTS) await page.screenshot({ path: join(SHOTS, `viz-tag-${width}.png`), fullPage: true });
      // a long input: the step table and the maps scroll inside their cards
      await page.fill('#input', Array.from({ length: 300 }, (_, k) => ['the', 'duck', 'saw', 'a', 'saw'][k % 5]).join(' '));
      await page.press('#input', 'Enter');
      await page.waitForSelector('#lecture .note:has-text("of 300.")');
      await fits(page, width, [], '300 words');
      await page.close();
    }
  });

  test('Enter submits; an error replaces the stale result and the next result clears the error', async () => {
    const { page } = await open(browser, viz.url);
    await page.fill('#input', 'the duck can fly');
    await page.press('#input', 'Enter');
    await page.waitForSelector('#lecture h2:has-text("fly")');
    await page.fill('#input', '   ');
    await page.press('#input', 'Enter');
    await page.waitForSelector('#error:not([hidden])');
    assert.match(await page.textContent('#error') ?? '', /the input is empty/);
    assert.equal(await page.locator('#lecture').count(), 0, 'no stale result under the error');
    assert.equal(await page.locator('.prediction').count(), 0);
    await page.fill('#input', 'I saw a saw');
    await page.click('#go');
    await page.waitForSelector('#lecture');
    assert.equal(await page.isHidden('#error'), true);
    await page.close();
  });
});

describe('per-row scales, additive terms and the state matrix (Chromium)', { skip }, () => {
  let browser: Browser;
  before(async () => { browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] }); });
  after(async () => { await browser?.close(); });

  test('a GPT opens on the prompt\'s last token; its causal maps are scaled per row; Enter in "new tokens" submits', async () => {
    const dir = tinyDecoder('lm');
    const viz = await startViz(['--model', dir]);
    try {
      const { page, errors } = await open(browser, viz.url);
      const r = libraryDecoderInspection(dir, 'lm', 'the cat', { maxNewTokens: 8 });
      const T = r.tokens.length;
      assert.equal(await page.inputValue('#layer'), String(r.layers.length - 1));
      assert.match(await page.textContent('#lecture h2') ?? '', new RegExp(`Query a${'⁰¹²³⁴⁵⁶⁷⁸⁹'[T]}: "t"`));
      // every row of a causal mini map has its largest weight in the darkest colour, even the last
      const w = r.layers[0]!.heads[0]!.alphaPrime!;
      for (const i of [1, T - 1]) {
        const j = w[i]!.indexOf(Math.max(...w[i]!.slice(0, i + 1)));
        const px = await page.$eval('canvas.mini[data-layer="0"][data-head="0"]', (c, [x, y]) => Array.from((c as HTMLCanvasElement).getContext('2d')!.getImageData(x!, y!, 1, 1).data.slice(0, 3)), [j, i]);
        assert.deepEqual(px, [85, 30, 160], `row ${i + 1}'s largest weight is drawn at full strength`);
      }
      assert.equal(await page.getAttribute('#matrices figure[data-name="A′"]', 'data-per'), 'col');
      assert.match(await page.textContent('#grid .legend') ?? '', /each row \(query i\) scaled to its own largest weight/);
      await page.fill('#tokens', '3');
      await page.press('#tokens', 'Enter');
      await page.waitForSelector('#gen-step[max="2"]');
      assert.deepEqual(errors, []);
      if (SHOTS) await page.screenshot({ path: join(SHOTS, 'viz-lm.png'), fullPage: true });
      for (const width of WIDTHS) {
        await page.setViewportSize({ width, height: 900 });
        await page.waitForTimeout(300); // the grid is redrawn for the new width
        await fits(page, width, ['grid'], 'a GPT');
      }
      await page.close();
    } finally {
      await stop(viz);
    }
  });

  test('additive attention: the explanation writes q + k, tanh, w and every term, summing to α', async () => {
    const dir = tinyModel({ attention: 'additive' });
    const viz = await startViz(['--model', dir]);
    try {
      const { page } = await open(browser, viz.url);
      const r = libraryInspection(dir, { tokens: ['I', 'saw', 'a', 'saw'] });
      const hd = r.layers[1]!.heads[0]!;
      await page.click('#lecture button.num[data-name="alpha"][data-j="1"]');
      const terms = hd.q[3]!.map((x, c) => hd.w![c]! * Math.tanh(x + hd.k[1]![c]!));
      const shown = await page.$$eval('#explain [data-name="terms"] [data-value]', (cs) => cs.map((c) => Number(c.getAttribute('data-value'))));
      assert.equal(shown.length, terms.length);
      shown.forEach((x, c) => assert.ok(Math.abs(x - terms[c]!) <= 1e-6, `term ${c}`));
      assert.equal(await page.locator('#explain [data-name="terms"] .c').first().textContent().then((t) => numbersIn(t ?? '').length), 1, 'the terms are written as numbers');
      const sum = Number(await page.getAttribute('#explain [data-name="relevance-sum"]', 'data-value'));
      assert.ok(Math.abs(sum - hd.alpha![3]![1]!) <= 1e-5, `Σ w tanh(q + k) = α: ${sum} vs ${hd.alpha![3]![1]}`);
      await page.close();
    } finally {
      await stop(viz);
    }
  });

  test('linear attention: S is one matrix (brackets, one scale), not a stack of vectors', async () => {
    const dir = tinyModel({ attention: 'linear', pos: 'none' });
    const viz = await startViz(['--model', dir]);
    try {
      const { page } = await open(browser, viz.url);
      assert.equal(await page.locator('#state .matrix[data-matrix="S"]').count(), 1);
      assert.equal(await page.locator('#state .matrix[data-matrix="S"] .mrow').count(), 8);
      assert.equal(await page.locator('#state .matrix-wrap .legend').count(), 1);
      await page.close();
    } finally {
      await stop(viz);
    }
  });
});

describe('frames typed as JSON, and exported pages of file-reading models (Chromium)', { skip }, () => {
  let browser: Browser;
  before(async () => { browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] }); });
  after(async () => { await browser?.close(); });

  test('a frame tagger: its JSON input and its frames do not widen the page; frames numbered from 1', async () => {
    const dir = tinyModel({ pos: 'sinusoidal' }, 'speech');
    const viz = await startViz(['--model', dir]);
    try {
      for (const width of WIDTHS) {
        const { page, errors } = await open(browser, viz.url, width);
        const input = JSON.parse(await page.inputValue('#input')) as { frames: number[][] };
        assert.ok(JSON.stringify(input).length > 1000, 'a long JSON input');
        assert.equal(await page.getAttribute('#frames canvas[data-name="frames"]', 'data-cols'), String(input.frames.length));
        assert.match(await page.textContent('#lecture h2') ?? '', new RegExp(`"frame ${input.frames.length}"`));
        await fits(page, width, ['frames', 'grid'], 'a frame tagger');
        if (SHOTS) await page.screenshot({ path: join(SHOTS, `viz-frames-${width}.png`), fullPage: true });
        assert.deepEqual(errors, []);
        await page.close();
      }
    } finally {
      await stop(viz);
    }
  });

  test('an exported image model works from file:// offline: the picture and its patches', async () => {
    const dir = mediaModel('shapes');
    const out = join(mkdtempSync(join(tmpdir(), 'qkv-viz-export-')), 'shapes.html');
    const e = spawnSync(process.execPath, [bin, 'viz', '--model', dir, '--export', out], { encoding: 'utf8' });
    assert.equal(e.status, 0, e.stderr);
    const context = await browser.newContext({ offline: true, viewport: { width: 800, height: 900 } });
    const requests: string[] = [];
    context.on('request', (req) => requests.push(req.url()));
    const page = await context.newPage();
    await page.goto(`file://${out}`);
    await page.waitForSelector('body[data-ready="true"]');
    assert.equal(await page.locator('#patch-weights .patch').count(), 16);
    await fits(page, 800, ['image', 'grid'], 'an exported image model');
    assert.deepEqual(requests, [`file://${out}`], 'the page fetched nothing');
    await context.close();
  });
});

describe('speech and image models (Chromium)', { skip }, () => {
  let browser: Browser;
  before(async () => { browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] }); });
  after(async () => { await browser?.close(); });

  test('a speech model: opens on the spoken set\'s example, takes a WAV file, frames drawn, numbers equal the library\'s', async () => {
    const dir = mediaModel('spoken');
    const first = readFileSync(join(SPOKEN, 'list.tsv'), 'utf8').split('\n')[0]!.split('\t')[0]!;
    const viz = await startViz(['--model', dir]);
    try {
      const { page, errors } = await open(browser, viz.url);
      assert.match(await page.textContent('#example') ?? '', new RegExp(`${first.replace('.', '\\.')} \\(the built-in spoken set\\)`));
      const r = wavInspection(dir, join(SPOKEN, first));
      const T = r.tokens.length;
      assert.equal(await page.getAttribute('#frames canvas[data-name="frames"]', 'data-cols'), String(T));
      assert.equal(compare(await lectureNumbers(page), r, 1, 0, T - 1) > 0, true);
      // another recording, sent as a file
      const other = join(SPOKEN, 'cat-03.wav');
      await page.setInputFiles('#file', other);
      const r2 = wavInspection(dir, other);
      await page.waitForSelector(`#frames canvas[data-name="frames"][data-cols="${r2.tokens.length}"]`);
      await page.click('#lecture .tok[data-j="2"]');
      compare(await lectureNumbers(page), r2, 1, 0, 2);
      // clicking a column of the spectrogram picks that frame
      const spectrogram = page.locator('#frames canvas[data-name="frames"]');
      const box = (await spectrogram.boundingBox())!;
      await spectrogram.click({ position: { x: (box.width * 4.5) / r2.tokens.length, y: 5 } });
      assert.match(await page.textContent('#lecture h2') ?? '', /^Query a⁵: "frame 5"/);
      for (const width of WIDTHS) {
        await page.setViewportSize({ width, height: 900 });
        await page.waitForTimeout(300);
        await fits(page, width, ['frames', 'grid'], 'a speech model');
        if (SHOTS) await page.screenshot({ path: join(SHOTS, `viz-speech-${width}.png`), fullPage: true });
      }
      // not a WAV: one line on the page, the stale result gone
      const bad = join(mkdtempSync(join(tmpdir(), 'qkv-viz-bad-')), 'notes.wav');
      writeFileSync(bad, 'hello');
      await page.setInputFiles('#file', bad);
      await page.waitForSelector('#error:not([hidden])');
      assert.match(await page.textContent('#error') ?? '', /^notes\.wav: not a WAV file/);
      assert.equal(await page.locator('#frames').count(), 0);
      assert.deepEqual(errors, []);
      await page.close();
    } finally {
      await stop(viz);
    }
    // qkv viz --input clip.wav: the page opens on that file
    const clip = join(SPOKEN, 'cat-03.wav');
    const given = await startViz(['--model', dir, '--input', clip]);
    try {
      const { page } = await open(browser, given.url);
      assert.equal(await page.getAttribute('#frames canvas[data-name="frames"]', 'data-cols'), String(wavInspection(dir, clip).tokens.length));
      await page.close();
    } finally {
      await stop(given);
    }
  });

  test('an image model: the picture with its patch grid, α′ from a clicked patch painted over it, equal to the library\'s', async () => {
    const dir = mediaModel('shapes');
    const viz = await startViz(['--model', dir]);
    try {
      const { page, errors } = await open(browser, viz.url);
      const m = loadClassify(dir);
      const example = (data.builtinDataset('shapes', { seed: 12345, n: 1 }) as data.ClassifiedExample[])[0]!;
      const r = inspectModel(m as unknown as InspectableModel, { image: example.image! });
      assert.equal(r.tokens.length, 17); // the class token and 4 × 4 patches of 4 × 4 pixels
      assert.match(await page.textContent('#lecture h2') ?? '', /^Query a¹: "\[CLS\]"/, 'opens on the class token');
      assert.equal(await page.locator('#patches .patch').count(), 16);
      // click patch (2, 3): position 1 + 4 + 2 = 7 (0-based), then read its weights off the picture
      await page.click('#patches .patch[data-row="1"][data-col="2"]');
      assert.match(await page.textContent('#lecture h2') ?? '', /^Query a⁸: "patch 2,3"/);
      const hd = r.layers[1]!.heads[0]!;
      const painted = await page.$$eval('#patch-weights .patch', (ps) => ps.map((p) => [Number(p.getAttribute('data-j')), Number(p.getAttribute('data-value'))]));
      assert.equal(painted.length, 16);
      for (const [j, x] of painted) assert.ok(Math.abs(x! - hd.alphaPrime![7]![j!]!) <= 1e-6, `α′ to position ${j}`);
      assert.ok(Math.abs(Number(await page.getAttribute('#cls-weight', 'data-value')) - hd.alphaPrime![7]![0]!) <= 1e-6);
      compare(await lectureNumbers(page), r, 1, 0, 7);
      for (const width of WIDTHS) {
        await page.setViewportSize({ width, height: 900 });
        await page.waitForTimeout(300);
        await fits(page, width, ['image', 'grid'], 'an image model');
        if (SHOTS) await page.screenshot({ path: join(SHOTS, `viz-image-${width}.png`), fullPage: true });
      }
      // a PNG file of the same picture: the same numbers
      const fe = data.SHAPES_FRONT_END;
      const gray = Float32Array.from(example.image!.data, (x) => x * fe.std[0]! + fe.mean[0]!);
      const png = join(mkdtempSync(join(tmpdir(), 'qkv-viz-png-')), 'plus.png');
      writeFileSync(png, encodePng({ width: 16, height: 16, channels: 1, data: gray }));
      await page.setInputFiles('#file', png);
      await page.waitForFunction(() => document.querySelector('#lecture h2')?.textContent?.startsWith('Query a¹:'));
      const fromFile = inspectModel(m as unknown as InspectableModel, { image: data.toImageInput({ width: 16, height: 16, channels: 1, data: gray.map((x) => Math.round(x * 255) / 255) }, fe, 'plus.png') });
      assert.ok(compare(await lectureNumbers(page), fromFile, 1, 0, 0) > 0);
      assert.deepEqual(errors, []);
      await page.close();
    } finally {
      await stop(viz);
    }
  });
});
