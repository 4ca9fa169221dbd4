// The browser entry in a real browser (Debian's Chromium, driven by playwright-core). Served
// cross-origin isolated, `import 'qkv'` (src/browser.ts) loads the WebAssembly backend by itself
// and runs it on Web Worker threads; served without isolation it runs on one thread. Either way
// it must compute what Node's reference backend computes.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import * as q from '../../src/index.js';
import { repoRoot } from '../fixtures.js';

const CHROMIUM = process.env['QKV_CHROMIUM'] ?? '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `no browser at ${CHROMIUM} (.ci/run installs Debian's chromium; QKV_CHROMIUM names another)`;
const TYPES: Record<string, string> = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html' };

/** Serves dist/ (and an empty page at /) with or without the headers that make a page cross-origin isolated. */
function serve(isolated: boolean): Promise<Server> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    const headers: Record<string, string> = isolated
      ? { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp', 'Cross-Origin-Resource-Policy': 'same-origin' }
      : {};
    if (path === '/') {
      res.writeHead(200, { ...headers, 'Content-Type': 'text/html' }).end('<!doctype html><title>qkv</title>');
      return;
    }
    const file = join(repoRoot(), path);
    if (!path.startsWith('/dist/') || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { ...headers, 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** What the page computes: a 96×96 product's checksum and a causal flashAttention output. */
interface PageResult { backend: string; note: string; isolated: boolean; cores: number; workerParts: number; sum: number; attention: number[] }

async function runPage(browser: Browser, server: Server): Promise<PageResult> {
  const page = await browser.newPage();
  try {
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    return await page.evaluate(async () => {
      const lib = await import('/dist/src/browser.js' as string);
      const backend = lib.getBackend();
      await backend.whenReady?.();
      const a = lib.tensor(Float32Array.from({ length: 96 * 96 }, (_, i) => Math.sin(i)), { shape: [96, 96] });
      const sum = lib.matmul(a, a).sum().item();
      const x = lib.tensor(Float32Array.from({ length: 2 * 2 * 40 * 16 }, (_, i) => Math.cos(0.3 * i)), { shape: [2, 2, 40, 16] });
      const attention = Array.from(lib.flashAttention(x, x, x, { causal: true }).toTypedArray() as Float32Array);
      return { backend: lib.describeBackend(), note: lib.defaultBackendNote(), isolated: globalThis.crossOriginIsolated, cores: navigator.hardwareConcurrency, workerParts: backend.workerParts ?? 0, sum, attention };
    });
  } finally {
    await page.close();
  }
}

/** The same numbers from Node's reference backend. */
function expected(): { sum: number; attention: number[] } {
  const previous = q.getBackend().name;
  q.setBackend('ref');
  try {
    return q.tidy(() => {
      const a = q.tensor(Float32Array.from({ length: 96 * 96 }, (_, i) => Math.sin(i)), { shape: [96, 96] });
      const x = q.tensor(Float32Array.from({ length: 2 * 2 * 40 * 16 }, (_, i) => Math.cos(0.3 * i)), { shape: [2, 2, 40, 16] });
      return { sum: q.matmul(a, a).sum().item(), attention: Array.from(q.flashAttention(x, x, x, { causal: true }).toTypedArray()) };
    });
  } finally {
    q.setBackend(previous);
  }
}

function assertSame(got: PageResult, want: ReturnType<typeof expected>): void {
  assert.ok(Math.abs(got.sum - want.sum) <= 1e-3 * Math.max(1, Math.abs(want.sum)), `matmul checksum ${got.sum} vs ${want.sum}`);
  assert.equal(got.attention.length, want.attention.length);
  got.attention.forEach((v, i) => assert.ok(Math.abs(v - want.attention[i]!) <= 1e-5, `attention[${i}]: ${v} vs ${want.attention[i]}`));
}

describe('in a browser (Chromium)', { skip }, () => {
  let browser: Browser;
  before(async () => { browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] }); });
  after(async () => { await browser?.close(); });

  test('a cross-origin isolated page gets the wasm backend on Web Worker threads by default', async () => {
    const server = await serve(true);
    try {
      const got = await runPage(browser, server);
      assert.equal(got.isolated, true);
      assert.equal(got.note, '');
      assert.match(got.backend, /^wasm \((relaxed-)?simd, \d+ threads?\)$/);
      const threads = Number(/(\d+) thread/.exec(got.backend)![1]);
      assert.equal(threads, got.cores, 'one thread per core (navigator.hardwareConcurrency)');
      if (threads > 1) assert.ok(got.workerParts > 0, 'workers took part of the work');
      assertSame(got, expected());
    } finally {
      server.close();
    }
  });

  test('a page that is not isolated gets the wasm backend on one thread', async () => {
    const server = await serve(false);
    try {
      const got = await runPage(browser, server);
      assert.equal(got.isolated, false);
      assert.match(got.backend, /^wasm \((relaxed-)?simd, 1 thread\)$/);
      assertSame(got, expected());
    } finally {
      server.close();
    }
  });
});
