// The playground in a real browser (Debian's Chromium via playwright-core), served by `qkv
// playground`: two models train side by side in the tab with the network off, the loss falls,
// the α′ the page shows equals what Node's library computes from the weights the page saves (the
// saved .tar is a checkpoint `qkv viz --model` opens), on the WebAssembly path and on the WebGPU
// path (SwiftShader); bad input is a message on the page; nothing overflows its card at 800,
// 1280 or 1920 px. Screenshots go to $QKV_PLAYGROUND_SHOTS when set.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { inspectModel, loadModel, tagAttention, type InspectableModel, type TagModel } from '../../src/index.js';
import { bin } from '../cli/viz-helpers.js';

const CHROMIUM = process.env['QKV_CHROMIUM'] ?? '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `no browser at ${CHROMIUM} (.ci/run installs Debian's chromium; QKV_CHROMIUM names another)`;
const SHOTS = process.env['QKV_PLAYGROUND_SHOTS'];

/** Starts `qkv playground` and waits for the URL it prints. */
function startPlayground(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [bin, 'playground'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill(); reject(new Error(`qkv playground printed no URL: ${out}`)); }, 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      const m = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m) { clearTimeout(timer); resolve({ child, url: m[1]! }); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`qkv playground exited with ${code}`)); });
  });
}

interface Opened { context: BrowserContext; page: Page; external: string[]; errors: string[] }

/** The page in a fresh context where every request that is not to 127.0.0.1 is refused (and noted). */
async function open(browser: Browser, url: string, width = 1280): Promise<Opened> {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width, height: 900 } });
  const external: string[] = [];
  await context.route('**/*', (route) => {
    const u = new URL(route.request().url());
    if (u.protocol === 'blob:' || u.protocol === 'data:' || u.hostname === '127.0.0.1') return route.continue();
    external.push(u.href);
    return route.abort();
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await page.waitForSelector('body[data-ready]', { timeout: 120_000 });
  assert.equal(await page.getAttribute('body', 'data-ready'), 'true', await page.textContent('#app') ?? '');
  return { context, page, external, errors };
}

/** Waits until the page has nothing in progress (building models, evaluating, training). */
const idle = (page: Page) => page.waitForFunction(() => document.body.dataset.busy === '0', null, { timeout: 300_000 });

/** Trains `steps` steps (both models) and waits until the page is done. */
async function train(page: Page, steps: number): Promise<void> {
  await idle(page);
  await page.fill('#steps', String(steps));
  await page.click('#train');
  await page.waitForFunction(() => document.body.dataset.busy !== '0', null, { timeout: 5_000 }).catch(() => undefined);
  await idle(page);
}

const num = async (page: Page, side: string, what: string) => Number(await page.getAttribute(`[data-model="${side}"] .${what}`, 'data-value'));

/** α′ of every layer and head of model `side` as the page shows it (the cells' data-value). */
async function pageAlpha(page: Page, side: string, layers: number, heads: number): Promise<number[][][][]> {
  const out: number[][][][] = [];
  for (let l = 0; l < layers; l++) {
    out.push([]);
    for (let h = 0; h < heads; h++) {
      await page.selectOption(`[data-model="${side}"] select.layer`, String(l));
      await page.selectOption(`[data-model="${side}"] select.head`, String(h));
      out[l]!.push(await page.$$eval(`[data-model="${side}"] table.alpha tr`, (rows) => rows.slice(1).map((r) => Array.from(r.querySelectorAll("td")).map((td) => Number(td.dataset.value)))));
    }
  }
  return out;
}

/** Saves model `side` from the page, unpacks the .tar and returns the checkpoint directory. */
async function saveRun(page: Page, side: string): Promise<string> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click(`[data-model="${side}"] button.save`)]);
  const dir = mkdtempSync(join(tmpdir(), 'qkv-playground-'));
  const tar = join(dir, download.suggestedFilename());
  await download.saveAs(tar);
  const untar = spawnSync('tar', ['-xf', tar, '-C', dir], { encoding: 'utf8' });
  assert.equal(untar.status, 0, untar.stderr);
  return join(dir, download.suggestedFilename().replace(/\.tar$/, ''));
}

/** The page's α′ against the library's for the saved weights, to 1e-5; returns the largest difference. */
function compareAlpha(got: number[][][][], dir: string, tokens: string[]): number {
  const m = loadModel(dir);
  const want = tagAttention(m.instance as TagModel, { tokens });
  assert.equal(got.length, want.length, 'layers');
  let worst = 0;
  want.forEach((layer, l) => layer.forEach((map, h) => map.forEach((row, i) => row.forEach((v, j) => {
    const g = got[l]![h]![i]![j]!;
    worst = Math.max(worst, Math.abs(g - v));
    assert.ok(Math.abs(g - v) <= 1e-5, `layer ${l + 1} head ${h + 1} α′${i + 1},${j + 1}: page ${g}, library ${v}`);
  }))));
  return worst;
}

describe('the playground in a browser (Chromium)', { skip }, () => {
  let browser: Browser;
  let server: { child: ChildProcess; url: string };
  before(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    server = await startPlayground();
  });
  after(async () => {
    await browser?.close();
    server?.child.kill();
  });

  test('with the network off, FC and self-attention train 100 steps side by side on wasm threads; α′ equals the library\'s; the saved run opens in qkv viz', async (t) => {
    const { context, page, external, errors } = await open(browser, `${server.url}?backend=wasm`);
    try {
      await context.setOffline(true); // from here on nothing may load: the library, its workers and its kernels are in the tab
      assert.match(await page.textContent('#backend') ?? '', /wasm \((relaxed-)?simd, \d+ threads?\).*cross-origin isolated/);
      assert.equal(await page.inputValue('[data-model="A"] [name="model"]'), 'fc');
      assert.equal(await page.inputValue('[data-model="B"] [name="model"]'), 'transformer');
      await train(page, 1);
      const first = { A: await num(page, 'A', 'loss'), B: await num(page, 'B', 'loss') };
      const started = Date.now();
      await train(page, 99);
      t.diagnostic(`99 steps of both models: ${((Date.now() - started) / 1000).toFixed(1)} s`);
      for (const side of ['A', 'B']) {
        assert.equal(await num(page, side, 'step'), 100, `model ${side} trained 100 steps`);
        const last = await num(page, side, 'loss');
        t.diagnostic(`model ${side}: loss ${first[side as 'A' | 'B'].toFixed(3)} -> ${last.toFixed(3)}, accuracy ${await num(page, side, 'accuracy')}`);
        assert.ok(last < first[side as 'A' | 'B'] / 2, `model ${side}: loss ${first[side as 'A' | 'B']} -> ${last}`);
      }
      // the lecture's point: context (attention) beats one word alone on the ambiguous words
      assert.ok(await num(page, 'B', 'ambiguous') > await num(page, 'A', 'ambiguous'));
      const got = await pageAlpha(page, 'B', 2, 2);
      const dir = await saveRun(page, 'B');
      t.diagnostic(`α′ largest difference page vs library: ${compareAlpha(got, dir, ['I', 'saw', 'a', 'saw']).toExponential(2)}`);
      const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { step: number; meta: { builtin: string } };
      assert.equal(config.step, 100);
      assert.equal(config.meta.builtin, 'ambiguity');
      const html = join(dir, 'viz.html');
      const viz = spawnSync(process.execPath, [bin, 'viz', '--model', dir, '--export', html, '--input', 'I saw a saw'], { encoding: 'utf8' });
      assert.equal(viz.status, 0, viz.stderr);
      assert.ok(readFileSync(html, 'utf8').includes('"step":100'), 'qkv viz plays back the α′ recorded while the page trained (attention.jsonl)');
      assert.deepEqual(external, []);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('every task trains and draws α′; bad input is a message on the page, never a frozen tab', async () => {
    const { context, page, errors } = await open(browser, `${server.url}?backend=wasm`);
    try {
      for (const task of ['marker', 'graph', 'reverse']) {
        await page.selectOption('#task', task);
        await idle(page);
        if (task === 'reverse') {
          assert.match(await page.textContent('[data-model="A"] .error') ?? '', /encoder-decoder Transformer: pick self-attention/);
          await page.selectOption('[data-model="A"] [name="model"]', 'transformer');
          await idle(page);
        }
        await train(page, 3);
        assert.equal(await num(page, 'B', 'step'), 3, task);
        assert.equal(await page.textContent('#message'), '', task);
        assert.equal(await page.textContent('[data-model="B"] .error'), '', task);
        assert.ok(await page.$$eval('[data-model="B"] table.alpha td', (c) => c.length) > 0, `${task}: α′ drawn`);
        if (task === 'reverse') {
          // the cross-attention (rows <bos> f e d c b a over the source a..f) equals the library's on the saved weights
          const got = await pageAlpha(page, 'B', 2, 2);
          const dir = await saveRun(page, 'B');
          const { instance } = loadModel(dir);
          const want = inspectModel(instance as unknown as InspectableModel, { source: [...'abcdef'] }, { target: [...'fedcba'] });
          const cross = want.parts!.find((p) => p.name === 'cross-attention')!;
          assert.deepEqual(cross.tokens, ['<bos>', ...'fedcba']);
          cross.layers.forEach((layer, l) => layer.heads.forEach((head, h) => head.alphaPrime!.forEach((row, i) => row.forEach((v, j) => {
            assert.ok(Math.abs(got[l]![h]![i]![j]! - v) <= 1e-5, `cross-attention layer ${l + 1} head ${h + 1} α′${i + 1},${j + 1}: page ${got[l]![h]![i]![j]}, library ${v}`);
          }))));
          const viz = spawnSync(process.execPath, [bin, 'viz', '--model', dir, '--export', join(dir, 'viz.html'), '--input', 'abcdef'], { encoding: 'utf8' });
          assert.equal(viz.status, 0, viz.stderr);
        }
      }
      await page.selectOption('#task', 'ambiguity');
      await idle(page);
      const probe = async (text: string) => {
        await page.fill('#probe', text);
        await page.press('#probe', 'Enter');
        await idle(page);
        return page.textContent('#message');
      };
      assert.match(await probe('   ') ?? '', /probe is empty/);
      assert.match(await probe('I saw a xylophone') ?? '', /unknown word "xylophone"/);
      const setting = async (name: string, value: string) => {
        await page.fill(`[data-model="B"] [name="${name}"]`, value);
        await page.dispatchEvent(`[data-model="B"] [name="${name}"]`, 'change');
        await idle(page);
        return page.textContent('[data-model="B"] .error');
      };
      assert.match(await setting('heads', '0') ?? '', /heads must be a whole number from 1/);
      assert.match(await setting('heads', '3') ?? '', /width 32 is not divisible by 3 heads/);
      await setting('heads', '2');
      await page.selectOption('[data-model="B"] [name="relevance"]', 'additive');
      await page.selectOption('[data-model="B"] [name="normalizer"]', 'relu');
      await idle(page);
      assert.match(await page.textContent('[data-model="B"] .error') ?? '', /no attention kind computes additive relevance with ReLU/);
      assert.match(await setting('width', '') ?? '', /width must be a whole number/);
      // the tab still answers, and the model with good settings still trains
      await page.fill('#probe', 'I saw a saw');
      await train(page, 2);
      assert.equal(await num(page, 'A', 'step'), 2);
      assert.equal(await page.evaluate(() => 1 + 1), 2);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('settings come from the address (a report links to a comparison); Stop stops a long run mid-way', async () => {
    const { context, page, errors } = await open(browser, `${server.url}?backend=wasm&task=marker&steps=100000&probe=same+w1+w9&a.model=cnn&b.relevance=additive&b.heads=4&b.width=24&b.pos=sinusoidal`);
    try {
      assert.equal(await page.inputValue('#task'), 'marker');
      assert.equal(await page.inputValue('#probe'), 'same w1 w9');
      assert.equal(await page.inputValue('[data-model="A"] [name="model"]'), 'cnn');
      assert.equal(await page.inputValue('[data-model="B"] [name="relevance"]'), 'additive');
      assert.equal(await page.inputValue('[data-model="B"] [name="heads"]'), '4');
      assert.equal(await page.textContent('#message'), '');
      assert.equal(await page.textContent('[data-model="B"] .error'), '');
      assert.equal(await page.$$eval('[data-model="B"] table.alpha tr', (r) => r.length), 4, 'α′ of the 3-word probe (and its header row)');
      await page.click('#train');
      await page.waitForFunction(() => Number(document.querySelector('[data-model="B"] .step')!.getAttribute('data-value')) >= 2, null, { timeout: 60_000 });
      await page.click('#stop'); // taken between two chunks of training: the tab is not frozen
      await idle(page);
      const steps = await num(page, 'B', 'step');
      assert.ok(steps >= 2 && steps < 1000, `stopped after ${steps} steps`);
      assert.equal(await num(page, 'A', 'step'), steps, 'both models stop at the same step');
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
    const bad = await open(browser, `${server.url}?backend=wasm&task=nope&a.colour=red`);
    try {
      assert.match(await bad.page.textContent('#message') ?? '', /task=nope is not a task.*a\.colour= is not a setting/);
    } finally {
      await bad.context.close();
    }
  });

  test('nothing overflows its card at 800, 1280 and 1920 px', async () => {
    const { context, page } = await open(browser, `${server.url}?backend=wasm`, 800);
    try {
      await page.fill('#probe', 'the old boy saw a saw and the duck can fly');
      await page.press('#probe', 'Enter');
      await idle(page);
      assert.equal(await page.textContent('#message'), '');
      await train(page, 6); // curves and numbers on the page too
      await page.waitForSelector('[data-model="B"] table.alpha');
      for (const width of [800, 1280, 1920]) {
        await page.setViewportSize({ width, height: 900 });
        const problems = await page.evaluate(() => {
          const out: string[] = [];
          if (document.documentElement.scrollWidth > innerWidth) out.push(`the page is ${document.documentElement.scrollWidth} px wide in a ${innerWidth} px window`);
          for (const card of Array.from(document.querySelectorAll(".card"))) {
            const box = card.getBoundingClientRect();
            for (const e of Array.from(card.querySelectorAll("*"))) {
              if (e.closest('.alpha-wrap') && !e.classList.contains('alpha-wrap')) continue; // the map scrolls inside its own box
              const r = e.getBoundingClientRect();
              if (r.width && (r.right > box.right + 0.5 || r.left < box.left - 0.5)) out.push(`${e.tagName}.${e.className} (${Math.round(r.left)}-${Math.round(r.right)}) leaves its card (${Math.round(box.left)}-${Math.round(box.right)})`);
            }
          }
          return out;
        });
        assert.deepEqual(problems, [], `${width} px`);
        if (SHOTS) await page.screenshot({ path: join(SHOTS, `playground-${width}.png`), fullPage: true });
      }
    } finally {
      await context.close();
    }
  });
});

describe('the playground on WebGPU in Chromium (SwiftShader)', { skip }, () => {
  let browser: Browser;
  let server: { child: ChildProcess; url: string };
  before(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--enable-unsafe-webgpu'] });
    server = await startPlayground();
  });
  after(async () => {
    await browser?.close();
    server?.child.kill();
  });

  test('both models train on webgpu, the loss falls, and α′ equals the library\'s for the saved weights', async (t) => {
    const { context, page, external, errors } = await open(browser, `${server.url}?backend=webgpu`);
    try {
      const backend = await page.textContent('#backend') ?? '';
      if (!/Backend: webgpu/.test(backend)) return t.skip(`no WebGPU adapter in this Chromium: ${backend}`);
      t.diagnostic(backend);
      await context.setOffline(true);
      await train(page, 1);
      const first = { A: await num(page, 'A', 'loss'), B: await num(page, 'B', 'loss') };
      const started = Date.now();
      await train(page, 19);
      t.diagnostic(`19 steps of both models: ${((Date.now() - started) / 1000).toFixed(1)} s`);
      for (const side of ['A', 'B'] as const) {
        assert.equal(await num(page, side, 'step'), 20);
        const last = await num(page, side, 'loss');
        t.diagnostic(`model ${side}: loss ${first[side].toFixed(3)} -> ${last.toFixed(3)}`);
        assert.ok(last < first[side] * 0.8, `model ${side}: loss ${first[side]} -> ${last}`);
      }
      const got = await pageAlpha(page, 'B', 2, 2);
      const dir = await saveRun(page, 'B');
      t.diagnostic(`α′ largest difference page (webgpu) vs library: ${compareAlpha(got, dir, ['I', 'saw', 'a', 'saw']).toExponential(2)}`);
      assert.deepEqual(external, []);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});
