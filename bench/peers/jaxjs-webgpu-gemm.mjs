// jax-js peer for the GEMM rows on WebGPU: `@jax-js/jax` (devDependency) on its webgpu device in
// Chromium (playwright-core, --enable-unsafe-webgpu: the page's adapter, SwiftShader on a machine
// without a GPU), and qkv's browser entry on its webgpu backend in the same page on the same
// adapter: A·B of two n×n float32 matrices at each size, the two libraries taking turns run by
// run, each product timed to the end of the device's work (jax-js: blockUntilReady(), qkv:
// backend.sync()). Request on stdin: {sizes, reps, maxMs}; one JSON line out.
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
    // the two take turns (one run each, over and over) so a slower stretch of the machine falls on both
    const timeBoth = async (fns) => {
      for (const fn of fns) await fn(); // warm-up (compiles the shaders)
      const runs = fns.map(() => []);
      const total = fns.map(() => 0);
      while (runs[0].length < req.reps && (runs[0].length === 0 || total.every((t) => t < req.maxMs))) {
        for (const [i, fn] of fns.entries()) {
          const t = performance.now();
          await fn();
          runs[i].push(performance.now() - t);
          total[i] += runs[i].at(-1);
        }
      }
      return runs.map(median);
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
      const data2 = Float32Array.from({ length: n * n }, (_, i) => Math.cos(i));
      const a = np.array(data).reshape([n, n]);
      const b = np.array(data2).reshape([n, n]);
      const x = qkv.tensor(data, { shape: [n, n] });
      const y = qkv.tensor(data2, { shape: [n, n] });
      [ms[n], qkvMs[n]] = await timeBoth([
        async () => { const c = np.matmul(a.ref, b.ref); await c.blockUntilReady(); c.dispose(); },
        async () => { qkv.matmul(x, y).dispose(); await backend.sync(); },
      ]);
      a.dispose();
      b.dispose();
      x.dispose();
      y.dispose();
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
