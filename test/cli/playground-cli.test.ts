// `qkv playground` end to end: it serves exactly the static build's files on 127.0.0.1 with the
// headers that make the page cross-origin isolated (threads for the wasm kernels), refuses
// other paths, methods and Host headers, and --export writes the static folder.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { bin } from './viz-helpers.js';

interface Reply { status: number; headers: Record<string, string | string[] | undefined>; body: string }

function get(url: string, path: string, options: { method?: string; host?: string } = {}): Promise<Reply> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: u.port, path, method: options.method ?? 'GET', headers: { Host: options.host ?? u.host } }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('qkv playground', () => {
  let child: ChildProcess;
  let url: string;
  before(async () => {
    child = spawn(process.execPath, [bin, 'playground', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`no URL: ${out}`)), 30_000);
      child.stdout!.on('data', (d: Buffer) => {
        out += d;
        const m = /^qkv playground: (http:\/\/127\.0\.0\.1:\d+\/) \(Ctrl-C to stop\)$/m.exec(out);
        if (m) { clearTimeout(timer); resolve(m[1]!); }
      });
    });
  });
  after(() => { child?.kill(); });

  test('serves the page, its bundle and the wasm kernels, cross-origin isolated', async () => {
    const page = await get(url, '/');
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.equal(page.headers['cross-origin-opener-policy'], 'same-origin');
    assert.equal(page.headers['cross-origin-embedder-policy'], 'require-corp');
    assert.match(page.body, /<script type="module" src="playground.js"><\/script>/);
    assert.match(page.body, /Content-Security-Policy/);
    assert.match(String((await get(url, '/playground.js')).headers['content-type']), /^text\/javascript/);
    assert.match(String((await get(url, '/worker-web.js')).headers['content-type']), /^text\/javascript/);
    const wasm = await get(url, '/kernels-simd.wasm');
    assert.equal(wasm.headers['content-type'], 'application/wasm');
    assert.equal(wasm.body.slice(0, 4), '\0asm');
  });

  test('refuses paths outside the build, other methods and foreign Host headers', async () => {
    for (const path of ['/../package.json', '/%2e%2e/package.json', '/etc/passwd', '/..%5cpackage.json', '/dist/web/viz.js']) {
      assert.equal((await get(url, path)).status, 404, path);
    }
    assert.equal((await get(url, '/', { method: 'POST' })).status, 405);
    assert.equal((await get(url, '/', { host: 'evil.example:80' })).status, 403);
    assert.equal((await get(url, `/${'x'.repeat(3000)}`)).status, 414);
  });

  test('--export writes the static folder; a non-empty folder and a bad --port are one line each', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'qkv-playground-')), 'site');
    const r = spawnSync(process.execPath, [bin, 'playground', '--export', out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    for (const f of ['index.html', 'playground.js', 'playground.css', 'worker-web.js', 'kernels-simd.wasm']) assert.ok(existsSync(join(out, f)), f);
    writeFileSync(join(out, 'extra.txt'), 'x');
    const again = spawnSync(process.execPath, [bin, 'playground', '--export', out], { encoding: 'utf8' });
    assert.equal(again.status, 1);
    assert.equal(again.stderr.trim().split('\n').length, 1, again.stderr);
    assert.match(again.stderr, /--export .*exists and is not empty/);
    assert.ok(readdirSync(out).includes('extra.txt'));
    const port = spawnSync(process.execPath, [bin, 'playground', '--port', '70000'], { encoding: 'utf8' });
    assert.equal(port.status, 1);
    assert.match(port.stderr, /--port must be an integer from 0 to 65535/);
  });
});
