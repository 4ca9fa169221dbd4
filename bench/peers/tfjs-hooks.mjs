// Module hooks that let Node load tfjs-core's gradient definitions, which ship only as ES modules
// with extensionless imports in a package without "type": "module" (made for bundlers):
// relative imports inside tfjs-core/dist get ".js" (or "/index.js"), and its files load as ESM.
// Everything else resolves as usual; the bundles (tf-core.node.js) are untouched.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const DIST = '/node_modules/@tensorflow/tfjs-core/dist/';
const inDist = (url) => url?.startsWith('file:') && url.includes(DIST) && !/\/tf-core[^/]*\.js$/.test(url);

export async function resolve(specifier, context, next) {
  if (inDist(context.parentURL) && specifier.startsWith('.') && !specifier.endsWith('.js')) {
    for (const candidate of [`${specifier}.js`, `${specifier}/index.js`]) {
      const url = new URL(candidate, context.parentURL);
      if (existsSync(fileURLToPath(url))) return next(candidate, context);
    }
  }
  return next(specifier, context);
}

export async function load(url, context, next) {
  if (inDist(url) && url.endsWith('.js')) return next(url, { ...context, format: 'module' });
  return next(url, context);
}
