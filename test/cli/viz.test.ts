// `qkv viz` end to end: the server answers the library's numbers, binds 127.0.0.1 only, serves
// nothing but its page and API (traversals, absolute paths, encoded tricks, long requests,
// bodies, other methods and foreign Host headers refused), and bad models and inputs give one
// readable line; `--export` writes one self-contained file, atomically.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, cpSync } from 'node:fs';
import { request } from 'node:http';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ModelInspection } from '../../src/index.js';
import { bin, libraryInspection, startViz, stop, tinyModel, type Running } from './viz-helpers.js';

interface Reply { status: number; body: string; json: () => Record<string, unknown> }

/** A raw request: the path goes on the wire exactly as given (no client-side normalising). */
function get(url: string, path: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method: options.method ?? 'GET', headers: options.headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode!, body, json: () => JSON.parse(body) as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

function assertClose(got: unknown, want: unknown, where: string): void {
  if (typeof want === 'number') return assert.ok(typeof got === 'number' && Math.abs(got - want) <= 1e-6, `${where}: ${String(got)} vs ${want}`);
  if (Array.isArray(want)) {
    assert.ok(Array.isArray(got) && got.length === want.length, `${where}: length`);
    return want.forEach((w, i) => assertClose((got as unknown[])[i], w, `${where}[${i}]`));
  }
  if (want && typeof want === 'object') return Object.entries(want).forEach(([k, w]) => assertClose((got as Record<string, unknown>)[k], w, `${where}.${k}`));
  assert.deepEqual(got, want, where);
}

const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

describe('qkv viz server', () => {
  let dir: string;
  let viz: Running;
  before(async () => {
    dir = tinyModel({ window: 1 });
    viz = await startViz(['--model', dir]);
  });
  after(async () => { if (viz) await stop(viz); });

  test('serves the page, the model, and inspections equal to the library\'s', async () => {
    const page = await get(viz.url, '/');
    assert.equal(page.status, 200);
    assert.match(page.body, /<div id="app"><\/div>/);
    assert.match(page.body, /Content-Security-Policy/);
    const model = (await get(viz.url, '/api/model')).json();
    assert.equal((model.model as { task: string }).task, 'tag');
    assert.equal(model.defaultInput, 'I saw a saw');
    const r = await get(viz.url, `/api/inspect?input=${encodeURIComponent('I saw a saw')}`);
    assert.equal(r.status, 200);
    const got = r.json().result as ModelInspection;
    assertClose(got, libraryInspection(dir, { tokens: ['I', 'saw', 'a', 'saw'] }), 'inspection');
    assert.deepEqual(got.blocked[0], [false, false, true, true], 'window 1 blocks keys two away');
  });

  test('bad inputs: empty, unknown words (<unk>), too long, all one readable line', async () => {
    const empty = await get(viz.url, '/api/inspect?input=');
    assert.equal(empty.status, 400);
    assert.match(empty.json().error as string, /^the input is empty/);
    const unk = (await get(viz.url, `/api/inspect?input=${encodeURIComponent('I saw a zyzzyva')}`)).json().result as ModelInspection;
    assert.deepEqual(unk.unknown, [false, false, false, true]);
    const long = await get(viz.url, `/api/inspect?input=${encodeURIComponent(Array(1100).fill('a').join(' '))}`);
    assert.equal(long.status, 400);
    assert.match(long.json().error as string, /1100 positions; at most 1024 \(--max-positions\)/);
  });

  test('nothing but the page and its API: traversals, absolute and encoded paths are refused', async () => {
    const secret = readFileSync(join(dir, 'best', 'config.json'), 'utf8').slice(0, 40);
    for (const path of ['/../package.json', '/..%2f..%2fpackage.json', '/%2e%2e/%2e%2e/etc/passwd', '//etc/passwd', '/etc/passwd',
      `/${dir}/best/config.json`, `/..%2F..%2F${encodeURIComponent(dir)}%2Fbest%2Fconfig.json`, '/dist/web/viz.js', '/web/main.ts', '/api/../../etc/passwd',
      '/api/model/../../../etc/passwd', '/%00', 'http://127.0.0.1/etc/passwd', '/./api/../package.json', '/\\..\\package.json']) {
      const r = await get(viz.url, path);
      assert.ok(r.status === 404 || r.status === 400, `${path}: status ${r.status}`);
      assert.ok(!r.body.includes('root:') && !r.body.includes('"name": "qkv"') && !r.body.includes(secret), `${path} leaked a file`);
    }
  });

  test('oversized requests, bodies, other methods and foreign Host headers are refused', async () => {
    assert.equal((await get(viz.url, `/api/inspect?input=${'a'.repeat(20_000)}`)).status, 414);
    assert.equal((await get(viz.url, '/', { headers: { 'X-Big': 'x'.repeat(40_000) } })).status, 431);
    assert.equal((await get(viz.url, '/', { method: 'POST', body: 'x' })).status, 405);
    assert.equal((await get(viz.url, '/api/model', { headers: { 'Content-Length': '3' }, body: 'abc' })).status, 413);
    const rebinding = await get(viz.url, '/api/model', { headers: { Host: 'evil.example:80' } });
    assert.equal(rebinding.status, 403);
    assert.ok(!rebinding.body.includes('"model"'));
  });

  test('binds 127.0.0.1 only', async () => {
    assert.match(viz.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const port = new URL(viz.url).port;
    const outside = Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal);
    if (!outside) return; // no other interface on this machine to try
    await assert.rejects(get(`http://${outside.address}:${port}/`, '/'), /ECONNREFUSED/);
  });
});

describe('qkv viz: bad models and --export', () => {
  test('a missing or damaged model: one line on the terminal, a readable error on the page', async () => {
    const missing = join(tmpdir(), 'qkv-viz-no-such-model');
    const viz = await startViz(['--model', missing]);
    try {
      const lines = viz.stderr().trim().split('\n');
      assert.equal(lines.length, 1, viz.stderr());
      assert.match(lines[0]!, /^qkv: viz: .*qkv-viz-no-such-model/);
      const r = await get(viz.url, '/api/model');
      assert.equal(r.status, 500);
      assert.match(r.json().error as string, /^cannot load the model: .*qkv-viz-no-such-model/);
    } finally {
      await stop(viz);
    }
    const damaged = mkdtempSync(join(tmpdir(), 'qkv-viz-damaged-'));
    cpSync(tinyModel(), damaged, { recursive: true });
    writeFileSync(join(damaged, 'best', 'config.json'), '{"format": "qkv-checkpoint", "task": ');
    const out = join(damaged, 'page.html');
    const r = run('viz', '--model', damaged, '--export', out);
    assert.equal(r.status, 1);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^qkv: /);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    assert.ok(!existsSync(out), 'no page written');
  });

  test('--export writes one self-contained page with every input\'s numbers; bad inputs name the input', () => {
    const dir = tinyModel();
    const out = join(dir, 'page.html');
    const r = run('viz', '--model', dir, '--export', out, '--input', 'I saw a saw', '--input', 'the duck can fly');
    assert.equal(r.status, 0, r.stderr);
    const html = readFileSync(out, 'utf8');
    assert.doesNotMatch(html, /<script[^>]+src=|<link[^>]+href=|https?:\/\/(?!www\.w3\.org)/, 'nothing loaded from elsewhere');
    const embedded = JSON.parse(/<script type="application\/json" id="qkv-data">(.*?)<\/script>/s.exec(html)![1]!) as { inspections: { input: string; result: ModelInspection }[] };
    assert.deepEqual(embedded.inspections.map((x) => x.input), ['I saw a saw', 'the duck can fly']);
    assertClose(embedded.inspections[1]!.result, libraryInspection(dir, { tokens: ['the', 'duck', 'can', 'fly'] }), 'exported');
    const bad = run('viz', '--model', dir, '--export', join(dir, 'bad.html'), '--input', '  ');
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /^qkv: --input " {2}": the input is empty/);
    assert.ok(!existsSync(join(dir, 'bad.html')));
    const served = run('viz', '--model', dir, '--input', 'x', '--input', 'y');
    assert.equal(served.status, 1);
    assert.match(served.stderr, /--input: the served page opens on one input/);
    const port = run('viz', '--model', dir, '--port', '70000');
    assert.equal(port.status, 1);
    assert.match(port.stderr, /^qkv: --port must be an integer from 0 to 65535\n$/);
  });
});

describe('training, watched', () => {
  test('qkv train tag --viz records alpha\' at every evaluation, equal to the checkpoint\'s, and trains exactly as without it', () => {
    const base = mkdtempSync(join(tmpdir(), 'qkv-viz-watch-'));
    const args = (out: string) => ['train', 'tag', '--builtin', 'ambiguity', '--n', '100', '--max-steps', '4', '--eval-every', '2', '--d-model', '16', '--heads', '2', '--layers', '1', '--out', join(base, out)];
    const watched = run(...args('watched'), '--viz');
    assert.equal(watched.status, 0, watched.stderr);
    const plain = run(...args('plain'));
    assert.equal(plain.status, 0, plain.stderr);
    const losses = (out: string) => readFileSync(join(base, out, 'log.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { loss?: number }).filter((e) => e.loss !== undefined).map((e) => e.loss);
    assert.deepEqual(losses('watched'), losses('plain'), 'watching changes nothing in training');
    const records = readFileSync(join(base, 'watched', 'attention.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number; tokens: string[]; alphaPrime: number[][][][] });
    assert.deepEqual(records.map((r) => r.step), [2, 4]);
    assert.deepEqual(records[1]!.tokens, ['I', 'saw', 'a', 'saw']);
    const last = libraryInspection(join(base, 'watched', 'last'), { tokens: ['I', 'saw', 'a', 'saw'] });
    assertClose(records[1]!.alphaPrime, last.layers.map((l) => l.heads.map((h) => h.alphaPrime)), 'alphaPrime at step 4');
    const model = run('viz', '--model', join(base, 'watched'), '--export', join(base, 'w.html'));
    assert.equal(model.status, 0, model.stderr);
    assert.match(readFileSync(join(base, 'w.html'), 'utf8'), /"training":\[\{"step":2,/);
    const fc = run('train', 'tag', '--builtin', 'ambiguity', '--model', 'fc', '--viz', '--out', join(base, 'fc'));
    assert.equal(fc.status, 1);
    assert.match(fc.stderr, /--viz: a fc model has no attention to watch/);
  });
});
