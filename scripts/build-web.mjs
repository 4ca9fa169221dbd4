// Bundles the visualizer page (web/main.ts) into one script with esbuild, next to its CSS:
// dist/web/viz.js and dist/web/viz.css. `qkv viz` inlines both into the page it serves or exports.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
mkdirSync(join(root, 'dist/web'), { recursive: true });
await build({
  entryPoints: [join(root, 'web/main.ts')],
  outfile: join(root, 'dist/web/viz.js'),
  bundle: true, format: 'iife', target: 'es2020', platform: 'browser',
  legalComments: 'none', logLevel: 'warning',
});
copyFileSync(join(root, 'web/style.css'), join(root, 'dist/web/viz.css'));
await import('./build-playground.mjs'); // the playground's static folder (dist/web/playground-site)
