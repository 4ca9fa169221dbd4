// Bundles the playground (web/playground/) into a static folder, dist/web/playground-site/ (not dist/web/playground/, where tsc puts the sources' own .js): index.html,
// playground.js (the page and qkv's browser entry, one ES module), worker-web.js (the wasm
// kernels' worker thread), the .wasm kernel builds and playground.css. Everything the page needs
// is in the folder, so it runs with the network off; `qkv playground` serves it with the headers
// that give it threads, and any static server can serve it too.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const out = join(root, 'dist/web/playground-site');
const wasmDir = join(root, 'dist/src/kernels/wasm');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const common = { bundle: true, format: 'esm', target: 'es2022', platform: 'browser', legalComments: 'none', logLevel: 'warning' };
// the library finds its worker and .wasm next to the module (new URL('./x', import.meta.url)): the bundle sits beside them
await build({ ...common, entryPoints: [join(root, 'web/playground/main.ts')], outfile: join(out, 'playground.js') });
await build({ ...common, entryPoints: [join(root, 'src/kernels/wasm/worker-web.ts')], outfile: join(out, 'worker-web.js') });
const wasm = readdirSync(wasmDir).filter((f) => f.endsWith('.wasm'));
if (!wasm.length) throw new Error(`build-playground: no .wasm in ${wasmDir}; run npm run build:wasm first`);
for (const f of wasm) copyFileSync(join(wasmDir, f), join(out, f));
copyFileSync(join(root, 'web/playground/index.html'), join(out, 'index.html'));
copyFileSync(join(root, 'web/playground/style.css'), join(out, 'playground.css'));
