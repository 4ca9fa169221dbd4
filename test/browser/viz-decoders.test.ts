// The visualizer on decoders in a real browser (Debian's Chromium via playwright-core): a GPT's
// generation step by step — every number of a step (q, the new k and v, alpha and alpha' over
// the cache, b; linear attention's S and z) read back from the DOM equals the library's to 1e-6,
// and the cache map grows by one column per step; bad prompts show on the page; a seq2seq
// model's cross-attention lecture view (target query over source keys) equals the library's;
// a watched seq2seq run's training view draws its cross-attention as target x source canvases.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { GenerationHead, ModelInspection } from '../../src/index.js';
import type { WatchRecord } from '../../src/index.js';
import { libraryDecoderInspection, startViz, stop, tinyDecoder } from '../cli/viz-helpers.js';
import { choose, compare, lectureNumbers, openViz } from './viz-dom.js';

const CHROMIUM = process.env['QKV_CHROMIUM'] ?? '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `no browser at ${CHROMIUM} (.ci/run installs Debian's chromium; QKV_CHROMIUM names another)`;
const SHOTS = process.env['QKV_VIZ_SHOTS'];

/** The numbers of the generation step on show, by data-name: vectors as arrays, scalars by key j. */
async function stepNumbers(page: Page): Promise<Record<string, number[]>> {
  return page.$$eval('#gen-details [data-value]', (els) => {
    const out: Record<string, number[]> = {};
    for (const el of els) {
      const own = el.hasAttribute('data-name');
      const owner = el.closest('[data-name]')!;
      const name = owner.getAttribute('data-name')! + (own || owner.getAttribute('data-name') !== 'gen-S' ? '' : `[${owner.getAttribute('data-i')}]`);
      (out[name] ??= []).push(Number(el.getAttribute('data-value')));
    }
    return out;
  });
}

function near(got: number[] | undefined, want: readonly number[], where: string): number {
  assert.ok(got, `${where}: not on the page`);
  assert.equal(got.length, want.length, `${where}: length`);
  got.forEach((x, k) => assert.ok(Math.abs(x - want[k]!) <= 1e-6, `${where}[${k}]: page ${x}, library ${want[k]}`));
  return got.length;
}

/** Compares the page's step with the library's head at that step. */
function compareStep(shown: Record<string, number[]>, hd: GenerationHead, where: string): number {
  let n = near(shown['gen-q'], hd.q, `${where} q`) + near(shown['gen-k'], hd.k.at(-1)!, `${where} k`) + near(shown['gen-v'], hd.v.at(-1)!, `${where} v`) + near(shown['gen-b'], hd.b, `${where} b`);
  if (hd.state) {
    hd.state.S.forEach((row, c) => { n += near(shown[`gen-S[${c}]`], row, `${where} S[${c}]`); });
    n += near(shown['gen-z'], hd.state.z, `${where} z`);
  } else n += near(shown['gen-alpha'], hd.alpha!, `${where} alpha`) + near(shown['gen-alphaPrime'], hd.alphaPrime!, `${where} alpha'`);
  return n;
}

async function look(page: Page, prompt: string, tokens: string): Promise<void> {
  await page.fill('#input', prompt);
  await page.fill('#tokens', tokens);
  await page.click('#go');
}

describe('the visualizer on decoders (Chromium)', { skip }, () => {
  let browser: Browser;
  before(async () => { browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] }); });
  after(async () => { await browser?.close(); });

  for (const attention of ['softmax', 'linear'] as const) {
    test(`a GPT (${attention}) generating: each step's numbers equal the library's cached decoding, the cache one column longer per step`, async () => {
      const dir = tinyDecoder('lm', { attention });
      const viz = await startViz(['--model', dir]);
      try {
        const { page, errors } = await openViz(browser, viz.url);
        await page.waitForSelector('#generation');
        assert.equal(await page.inputValue('#input'), 'the cat');
        await look(page, 'a dog', '5');
        await page.waitForSelector('#gen-step[max="4"]');
        const r = libraryDecoderInspection(dir, 'lm', 'a dog', { maxNewTokens: 5 });
        assert.equal(await page.textContent('#generated'), r.prediction);
        let checked = 0;
        for (const [layer, head] of [[0, 0], [1, 1]] as const) {
          await page.selectOption('#layer', String(layer));
          await page.selectOption('#head', String(head));
          for (const s of [0, 2, 4]) {
            await page.fill('#gen-step', String(s));
            assert.equal(await page.getAttribute('#gen-details', 'data-step'), String(s));
            checked += compareStep(await stepNumbers(page), r.generation!.steps[s]!.layers[layer]![head]!, `layer ${layer} head ${head} step ${s}`);
            if (attention === 'softmax') {
              // the map has a row per step so far and a column per cached key: one more each step
              assert.equal(await page.getAttribute('canvas[data-name="gen-map"]', 'data-cols'), String(5 + s));
              assert.equal(await page.getAttribute('canvas[data-name="gen-map"]', 'data-rows'), String(s + 1));
            }
            assert.equal(await page.getAttribute('canvas[data-name="gen-K"]', 'data-cols'), String(5 + s));
          }
        }
        // per (layer, head, step): q, k, v, b (4 x 8), then alpha and alpha' over 5 + s keys, or S (8 x 8) and z (8)
        const perStep = (s: number) => 32 + (attention === 'softmax' ? 2 * (5 + s) : 64 + 8);
        assert.equal(checked, 2 * [0, 2, 4].reduce((a, s) => a + perStep(s), 0));
        // the prompt's causal self-attention in the lecture view, as for an encoder
        await choose(page, 1, 0, 3);
        assert.ok(compare(await lectureNumbers(page), r, 1, 0, 3) > 0);
        if (SHOTS) await page.screenshot({ path: join(SHOTS, `viz-gpt-${attention}.png`), fullPage: true });
        // bad prompts: the reason on the page
        await look(page, '', '5');
        await page.waitForSelector('#error:not([hidden])');
        assert.match(await page.textContent('#error') ?? '', /the prompt is empty/);
        await look(page, 'a d§g', '5');
        await page.waitForFunction(() => /§/.test(document.getElementById('error')!.textContent ?? ''));
        assert.match(await page.textContent('#error') ?? '', /the character "§" \(U\+00A7\) at position 3/);
        assert.deepEqual(errors, []);
        await page.close();
      } finally {
        await stop(viz);
      }
    });
  }

  test('a seq2seq model: encoder, decoder and cross-attention; the cross-attention lecture view equals the library\'s', async () => {
    const dir = tinyDecoder('seq2seq');
    const viz = await startViz(['--model', dir]);
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      await page.goto(viz.url);
      await page.waitForSelector('body[data-ready="true"]');
      await page.fill('#input', 'abcd');
      await page.click('#go');
      await page.waitForFunction(() => document.querySelectorAll('#lecture .tok').length === 4);
      const r = libraryDecoderInspection(dir, 'seq2seq', { source: [...'abcd'] });
      assert.deepEqual(await page.$$eval('#part option', (os) => os.map((o) => o.textContent!.replace(/ \(.*/, ''))), ['encoder self-attention', 'decoder self-attention', 'cross-attention']);
      await page.selectOption('#part', '2');
      const cross = r.parts![1]!;
      const asPart: ModelInspection = { ...r, tokens: cross.tokens, keys: cross.keys, blocked: cross.blocked, layers: cross.layers };
      const T = cross.tokens.length;
      const query = T - 1;
      await choose(page, 1, 1, query);
      const shown = await lectureNumbers(page);
      // a^i and q^i of the query (8 each), a^j (16 each), k^j and v^j (8 each) of the 4 source keys, alpha and alpha' (4 each), alpha'v (4 x 8), b (8)
      assert.equal(compare(shown, asPart, 1, 1, query), 16 + 8 + 4 * (16 + 8 + 8) + 8 + 32 + 8);
      assert.equal(await page.locator('canvas.mini').first().getAttribute('width'), '4', 'a column per source token');
      assert.equal(await page.locator('canvas.mini').first().getAttribute('height'), String(T), 'a row per target token');
      if (SHOTS) await page.screenshot({ path: join(SHOTS, 'viz-seq2seq-cross.png'), fullPage: true });
      await page.close();
    } finally {
      await stop(viz);
    }
  });

  test('training, watched (seq2seq): encoder self-attention source x source and cross-attention target x source per layer and head, on a slider', async () => {
    const dir = tinyDecoder('seq2seq', {}, 'abcde => edcba');
    const records = readFileSync(join(dir, 'attention.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as WatchRecord);
    const viz = await startViz(['--model', dir]);
    try {
      const { page, errors } = await openViz(browser, viz.url);
      await page.waitForSelector('#training');
      assert.equal(await page.getAttribute('#train-step', 'max'), '1', 'one slider step per evaluation');
      assert.match(await page.textContent('#training h2') ?? '', /α′ for "abcde => edcba"/);
      assert.deepEqual(await page.$$eval('#training h3', (hs) => hs.map((x) => x.textContent)), ['encoder self-attention: source × source', 'cross-attention: target × source']);
      assert.match(await page.textContent('#training .train-part[data-part="cross-attention"] [data-axis="rows"]') ?? '', /^rows \(target, 6\): <bos> e d c b a \(teacher-forced\)/);
      // token labels: the first map of a part carries its rows (queries) and columns (keys)
      assert.deepEqual(await page.$$eval('#training .train-part[data-part="cross-attention"] .row-labels', (ls) => ls.map((l) => Array.from(l.children, (c) => c.textContent))), [['<bos>', ...'edcba'], ['<bos>', ...'edcba']]);
      assert.deepEqual(await page.$$eval('#training .train-part[data-part="cross-attention"] .col-labels', (ls) => ls.map((l) => Array.from(l.children, (c) => c.textContent))), [[...'abcde'], [...'abcde']]);
      for (const [k, step] of [[1, '4'], [0, '2']] as const) {
        await page.fill('#train-step', String(k));
        assert.equal(await page.getAttribute('#train-label', 'data-step'), step);
        const canvases = await page.$$eval('#training canvas', (cs) => cs.map((c) => [c.dataset.part, c.dataset.step, (c as HTMLCanvasElement).width, (c as HTMLCanvasElement).height, c.dataset.rows, c.dataset.cols].join(' ')));
        assert.deepEqual(canvases, [...new Array<string>(4).fill(`encoder self-attention ${step} 5 5 5 5`), ...new Array<string>(4).fill(`cross-attention ${step} 5 6 6 5`)]);
        // the darkest pixel of each cross-attention map is its largest weight (each map is scaled to its own)
        const w = records[k]!.parts![0]!.alphaPrime;
        for (const [layer, head] of [[0, 0], [1, 1]] as const) {
          const map = w[layer]![head]!;
          const flat = map.flat();
          const at = flat.indexOf(Math.max(...flat));
          const px = await page.$eval(`#training canvas[data-part="cross-attention"][data-layer="${layer}"][data-head="${head}"]`, (c, [x, y]) => Array.from((c as HTMLCanvasElement).getContext('2d')!.getImageData(x!, y!, 1, 1).data), [at % 5, Math.floor(at / 5)]);
          assert.deepEqual(px, [85, 30, 160, 255], `step ${step} layer ${layer} head ${head}: the largest weight is drawn darkest`);
        }
      }
      assert.deepEqual(errors, []);
      if (SHOTS) await page.screenshot({ path: join(SHOTS, 'viz-seq2seq-watched.png'), fullPage: true });
      await page.close();
    } finally {
      await stop(viz);
    }
  });
});
