// The WebGPU backend in a real browser: Debian's Chromium (playwright-core) with
// --enable-unsafe-webgpu exposes a SwiftShader adapter; the page imports the browser entry,
// selects webgpu, runs ops whose kernels are WGSL on that adapter (a product, softmax, LayerNorm,
// GELU, causal fused attention, cross-entropy and its gradient) and reads the values back; Node's
// reference backend computes the same and the two must agree.
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

function serve(): Promise<Server> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    if (path === '/') return void res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>qkv webgpu</title>');
    const file = join(repoRoot(), path);
    if (!path.startsWith('/dist/') || !existsSync(file)) return void res.writeHead(404).end();
    res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

type Results = Record<string, number[]>;

/** The computation, written once: run in the page (on webgpu) and in Node (on ref). */
async function compute(lib: typeof q): Promise<Results> {
  // (self-contained: its source is sent to the page)
  const A = (i: number) => Math.sin(0.37 * i);
  const B = (i: number) => Math.cos(0.11 * i);
  const t = (n: number, f: (i: number) => number, shape: number[], requiresGrad = false) =>
    lib.tensor(Float32Array.from({ length: n }, (_, i) => f(i)), { shape, requiresGrad });
  const a = t(33 * 65, A, [33, 65]);
  const b = t(65 * 17, B, [65, 17]);
  const x = t(4 * 2 * 24 * 16, A, [4, 2, 24, 16]);
  const logits = t(12 * 10, B, [12, 10], true);
  const gamma = t(65, B, [65]);
  const beta = t(65, A, [65]);
  const loss = lib.crossEntropy(logits.mul(3), lib.tensor(Int32Array.from([3, 1, 4, 1, 5, 9, 2, 6, -100, 5, 3, 5]), { shape: [12] }), { labelSmoothing: 0.1 });
  loss.backward();
  const read = async (y: q.Tensor) => Array.from(await y.data());
  return {
    matmul: await read(lib.matmul(a, b)),
    softmax: await read(lib.softmax(a, -1)),
    layerNorm: await read(lib.layerNorm(a, [65], gamma, beta)),
    gelu: await read(lib.gelu(a)),
    attention: await read(lib.flashAttention(x, x, x, { causal: true })),
    loss: await read(loss),
    dlogits: await read(logits.grad!),
  };
}

describe('the WebGPU backend in Chromium', { skip }, () => {
  let browser: Browser;
  let server: Server;
  before(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--enable-unsafe-webgpu'] });
    server = await serve();
  });
  after(async () => {
    await browser?.close();
    server?.close();
  });

  test('ops on webgpu in the page match Node\'s reference backend', async (t) => {
    const page = await browser.newPage();
    try {
      await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      const got = await page.evaluate(async (source) => {
        const lib = await import('/dist/src/browser.js' as string);
        if (!(navigator as Navigator & { gpu?: unknown }).gpu) return { skipped: 'this Chromium has no navigator.gpu' };
        await lib.selectBackendAsync('webgpu');
        const backend = lib.getBackend();
        // eslint-disable-next-line no-new-func
        const run = new Function('lib', `return (${source})(lib);`) as (l: unknown) => Promise<Results>;
        return { backend: backend.name, kind: backend.kind, adapter: backend.adapter, results: await run(lib) };
      }, compute.toString());
      if ('skipped' in got) return t.skip(got.skipped as string);
      assert.equal(got.backend, 'webgpu');
      assert.equal(got.kind, 'device');
      t.diagnostic(`page adapter: ${got.adapter}`);
      const previous = q.getBackend().name;
      q.setBackend('ref');
      let want: Results;
      try {
        want = await compute(q);
      } finally {
        q.setBackend(previous);
      }
      for (const [name, values] of Object.entries(want)) {
        const g: number[] = got.results[name]!;
        assert.equal(g.length, values.length, name);
        let worst = 0;
        values.forEach((v, i) => { worst = Math.max(worst, Math.abs(g[i]! - v) / Math.max(1, Math.abs(v))); });
        t.diagnostic(`${name}: max error ${worst.toExponential(2)}`);
        assert.ok(worst <= 1e-5, `${name} differs by ${worst}`);
      }
    } finally {
      await page.close();
    }
  });

  test('chooseBackend: webgpu for a large model on the page\'s GPU; wasm for a small model, on a CPU-emulated adapter and without an adapter; each says why', async (t) => {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const choose = async (b: Browser) => {
      const page = await b.newPage();
      try {
        await page.goto(url);
        return await page.evaluate(async () => {
          const lib = await import('/dist/src/browser.js' as string);
          const pick = async (size: object, options: object = {}) => ({ ...(await lib.chooseBackend(size, options)), selected: lib.getBackend().name as string });
          return {
            small: await pick({ params: 20_000, flops: 4e6 }, { allowEmulated: true }),
            large: await pick({ params: 2e6 }, { allowEmulated: true }),
            emulated: await pick({ flops: 5e9 }),
          };
        });
      } finally {
        await page.close();
      }
    };
    const got = await choose(browser);
    for (const [k, v] of Object.entries(got)) t.diagnostic(`${k}: ${v.reason} (selected ${v.selected})`);
    assert.equal(got.large.backend, 'webgpu');
    assert.equal(got.large.selected, 'webgpu');
    assert.match(got.large.reason, /^webgpu: the page has the GPU ".+" and the model is large enough to gain \(2M parameters\)$/);
    assert.equal(got.small.backend, 'wasm');
    assert.equal(got.small.selected, 'wasm');
    assert.match(got.small.reason, /^wasm: the model is too small to gain from the GPU ".+" \(20k parameters, 4M FLOPs a call; WebGPU from 1M parameters or 1G FLOPs a call\)$/);
    // SwiftShader is how this machine has WebGPU: a real GPU would be taken here
    if (/swiftshader/i.test(got.large.adapter ?? '')) {
      assert.equal(got.emulated.backend, 'wasm');
      assert.match(got.emulated.reason, /^wasm: the GPU adapter ".+" is a CPU emulation, slower than the CPU backends$/);
    }
    // the same Chromium without --enable-unsafe-webgpu has no adapter
    const plain = await chromium.launch({ executablePath: CHROMIUM });
    try {
      const none = await choose(plain);
      t.diagnostic(`no adapter: ${none.large.reason}`);
      assert.equal(none.large.backend, 'wasm');
      assert.equal(none.large.selected, 'wasm');
      assert.equal(none.large.adapter, null);
      assert.match(none.large.reason, /^wasm: (navigator\.gpu gave no adapter|this page has no navigator\.gpu)/);
    } finally {
      await plain.close();
    }
  });
});
