// Reading the visualizer's numbers back from the DOM (every vector cell and scalar carries its
// exact value in data-value) and comparing them with the library's inspection; shared by the
// browser tests.
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import type { ModelInspection } from '../../src/index.js';

export interface Shown { name: string; i: string | null; j: string | null; c: string | null; value: string }

/** Every number in the lecture view, as the DOM holds it. */
export async function lectureNumbers(page: Page): Promise<Shown[]> {
  return page.$$eval('#lecture [data-value]', (els) => els.map((el) => {
    const owner = el.closest('[data-name]')!;
    const own = el.hasAttribute('data-name');
    return {
      name: owner.getAttribute('data-name')!, i: owner.getAttribute('data-i'), j: own ? el.getAttribute('data-j') : null,
      c: own ? null : el.getAttribute('data-c'), value: el.getAttribute('data-value')!,
    };
  }));
}

/** Compares what the page shows for (layer, head, query) with the library's numbers. */
export function compare(shown: Shown[], r: ModelInspection, layer: number, head: number, query: number): number {
  const l = r.layers[layer]!;
  const hd = l.heads[head]!;
  const vectors: Record<string, number[][]> = { a: l.a, aKey: l.aKeys ?? [], q: hd.q, k: hd.k, v: hd.v }; // aKey: cross-attention's keys' vectors
  let checked = 0;
  const near = (got: string, want: number, where: string) => {
    assert.ok(Math.abs(Number(got) - want) <= 1e-6, `layer ${layer} head ${head} query ${query} ${where}: page ${got}, library ${want}`);
    checked++;
  };
  for (const s of shown) {
    const i = Number(s.i);
    const c = Number(s.c);
    if (s.name in vectors) near(s.value, vectors[s.name]![i]![c]!, `${s.name}[${i}][${c}]`);
    else if (s.name === 'b') near(s.value, hd.b[i]![c]!, `b[${i}][${c}]`);
    else if (s.name === 'weighted') near(s.value, hd.alphaPrime![query]![i]! * hd.v[i]![c]!, `alpha'v[${i}][${c}]`);
    else if (s.name === 'alpha' || s.name === 'alphaPrime') {
      assert.equal(i, query);
      const j = Number(s.j);
      const want = s.name === 'alpha' ? hd.alpha![i]![j]! : hd.alphaPrime![i]![j]!;
      if (s.value === 'blocked') {
        assert.ok(r.blocked[i]![j], `${s.name}[${i}][${j}] shown as blocked, but no mask blocks it`);
        assert.equal(hd.alphaPrime![i]![j], 0);
        checked++;
      } else near(s.value, want!, `${s.name}[${i}][${j}]`);
    }
  }
  return checked;
}

export async function choose(page: Page, layer: number, head: number, query: number): Promise<void> {
  await page.selectOption('#layer', String(layer));
  await page.selectOption('#head', String(head));
  await page.click(`#lecture .tok[data-j="${query}"]`);
}

/** A page of the visualizer at `url`, with the uncaught errors it throws collected in `errors`. */
export async function openViz(browser: Browser, url: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url);
  return { page, errors };
}
