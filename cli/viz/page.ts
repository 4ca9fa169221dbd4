// The visualizer's one HTML page: the bundled script and CSS (dist/web, built by esbuild from
// web/) inlined, and for an export the model's inspections embedded as JSON, so one file works
// offline from file:// with no server.
import { readFileSync } from 'node:fs';
import { UsageError } from '../shared.js';

const asset = (name: string): string => {
  const url = new URL(`../../web/${name}`, import.meta.url);
  try {
    return readFileSync(url, 'utf8');
  } catch {
    throw new UsageError(`viz: the page's ${name} is missing (${url.pathname}); run npm run build`);
  }
};

/** JSON with numbers as float32 (see below). */
export const compactJson = (value: unknown): string => JSON.stringify(value, numbers);

/** Compact JSON safe inside a <script> element (no "</script>", no "<!--"). */
export const scriptJson = (value: unknown): string => compactJson(value).replace(/</g, '\\u003c');

/**
 * Numbers as the float32 values they are (9 significant digits round-trip a float32): about
 * half the text of a double's 17 digits, and the same value once read back as float32.
 */
function numbers(_k: string, v: unknown): unknown {
  if (typeof v !== 'number') return v;
  return Number.isFinite(v) ? Number(v.toPrecision(9)) : null;
}

/** The page; with `data`, an offline page showing those inspections. */
export function vizPage(title: string, data: unknown | null): string {
  const csp = data === null
    ? "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'none'"
    : "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";
  const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<title>qkv · see attention — ${esc(title)}</title>
<style>${asset('viz.css')}</style>
</head>
<body>
<div id="app"></div>
${data === null ? '' : `<script type="application/json" id="qkv-data">${scriptJson(data)}</script>\n`}<script>${asset('viz.js').replace(/<\/script/gi, '<\\/script')}</script>
</body>
</html>
`;
}
