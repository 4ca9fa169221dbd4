// jax-js peer for the GEMM rows on WebGPU: `@jax-js/jax` (devDependency) on its webgpu device in
// Chromium (playwright-core, --enable-unsafe-webgpu: the page's adapter, SwiftShader on a machine
// without a GPU), and qkv's webgpu backend in the same page on the same adapter, n×n·n×n float32
// at each size, each product timed to the end of the device's work (jax-js: blockUntilReady(),
// qkv: backend.sync()). Request on stdin: {sizes, reps, maxMs}; one JSON line out.
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const request = JSON.parse(readFileSync(0, 'utf8'));
const root = fileURLToPath(new URL('../..', import.meta.url));
const CHROMIUM = process.env.QKV_CHROMIUM ?? '/usr/bin/chromium';
const TYPES = { '.js': 'text/javascript', '.wasm': 'application/wasm' };

let browser = null;
let server = null;
try {
  if (!existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM} (QKV_CHROMIUM names one)`);
  const { chromium } = await import('playwright-core');
  // the repository's dist/ (qkv's browser entry) and node_modules/@jax-js/jax/dist, nothing else
  server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    if (path === '/') return void res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>gemm</title>');
    const file = join(root, path);
    if (!(path.startsWith('/dist/') || path.startsWith('/node_modules/@jax-js/jax/dist/')) || !existsSync(file)) return void res.writeHead(404).end();
    res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--enable-unsafe-webgpu'] });
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  const out = await page.evaluate(async (req) => {
    const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
    const time = async (fn) => {
      await fn(); // warm-up (compiles the shaders)
      const runs = [];
      let total = 0;
      while (runs.length < req.reps && (runs.length === 0 || total < req.maxMs)) {
        const t = performance.now();
        await fn();
        runs.push(performance.now() - t);
        total += runs.at(-1);
      }
      return median(runs);
    };
    if (!navigator.gpu || !(await navigator.gpu.requestAdapter())) return { error: 'this Chromium has no WebGPU adapter' };
    const jax = await import('/node_modules/@jax-js/jax/dist/index.js');
    const devices = await jax.init();
    if (!devices.includes('webgpu')) return { error: `jax-js found no webgpu device (devices: ${devices.join(', ')})` };
    jax.defaultDevice('webgpu');
    const np = jax.numpy;
    const qkv = await import('/dist/src/browser.js');
    await qkv.selectBackendAsync('webgpu');
    const backend = qkv.getBackend();
    const ms = {};
    const qkvMs = {};
    for (const n of req.sizes) {
      const data = Float32Array.from({ length: n * n }, (_, i) => Math.sin(i));
      const a = np.array(data).reshape([n, n]);
      const b = np.array(data).reshape([n, n]);
      ms[n] = await time(async () => { const c = np.matmul(a.ref, b.ref); await c.blockUntilReady(); c.dispose(); });
      a.dispose();
      b.dispose();
      const x = qkv.tensor(data, { shape: [n, n] });
      qkvMs[n] = await time(async () => { qkv.matmul(x, x).dispose(); await backend.sync(); });
      x.dispose();
    }
    return { ms, qkvMs, adapter: backend.adapter };
  }, request);
  if (out.error) throw new Error(out.error);
  let version = 'unknown';
  try { version = JSON.parse(readFileSync(join(root, 'node_modules/@jax-js/jax/package.json'), 'utf8')).version; } catch { /* keep unknown */ }
  console.log(JSON.stringify({ ...out, jaxjs: { version, device: 'webgpu', browser: `Chromium ${browser.version()}` } }));
} catch (e) {
  console.log(JSON.stringify({ error: String(e.message ?? e).split('\n')[0].slice(0, 200) }));
} finally {
  await browser?.close();
  server?.close();
}
