// The visualizer's server under a bounded loopback load (200 concurrent requests), slow
// clients that never finish their headers, oversized request lines and bodies, percent-encoded
// path traversal and foreign Host headers (DNS rebinding), sent as raw bytes so nothing
// normalises them first. Handlers are stubs: this is about the server, not the model.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import type { Server } from 'node:http';
import { MAX_URL, startVizServer } from '../../cli/viz/server.js';

let server: Server;
let port = 0;
let inspected = 0;

before(async () => {
  server = await startVizServer({
    page: '<!doctype html><title>viz</title>',
    model: () => ({ status: 200, body: { ok: true } }),
    inspect: (input) => { inspected++; return { echo: input }; },
  }, 0);
  port = (server.address() as { port: number }).port;
});
after(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));

/** Sends raw bytes and reads the whole answer (status line, headers, body). */
function raw(bytes: string, timeoutMs = 5000): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => { s.destroy(); reject(new Error(`no answer in ${timeoutMs} ms to ${bytes.slice(0, 60)}`)); }, timeoutMs);
    s.on('data', (c) => chunks.push(c));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('utf8');
      resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0), text });
    });
    s.end(bytes);
  });
}
const getLine = (path: string, host = `127.0.0.1:${port}`, extra = '') => `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n${extra}\r\n`;

function get(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('200 concurrent requests on loopback: every one answered, each with its own input', async () => {
  inspected = 0;
  const t0 = performance.now();
  const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => get(`/api/inspect?input=${encodeURIComponent(`sentence ${i}`)}`)));
  const ms = performance.now() - t0;
  answers.forEach((a, i) => {
    assert.equal(a.status, 200);
    assert.deepEqual(JSON.parse(a.body), { result: { echo: `sentence ${i}` } });
  });
  assert.equal(inspected, 200);
  assert.ok(ms < 20_000, `${ms.toFixed(0)} ms for 200 requests`);
});

test('slow clients that never finish their headers do not hold up others, and are timed out', async () => {
  const slow: Socket[] = [];
  for (let i = 0; i < 30; i++) {
    const s = connect(port, '127.0.0.1');
    s.on('error', () => undefined);
    s.write(`GET /api/model HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Slow: `); // never ends
    slow.push(s);
  }
  try {
    const answers = await Promise.all(Array.from({ length: 20 }, () => get('/api/model')));
    for (const a of answers) assert.equal(a.status, 200);
    // a client that stops mid-headers is dropped after headersTimeout, not kept forever
    assert.ok(server.headersTimeout > 0 && server.headersTimeout <= 20_000, `headersTimeout ${server.headersTimeout}`);
    assert.ok(server.requestTimeout > 0 && server.requestTimeout <= 60_000, `requestTimeout ${server.requestTimeout}`);
  } finally {
    for (const s of slow) s.destroy();
  }
});

test('oversized request lines, headers and bodies are refused without reading them', async () => {
  assert.equal((await raw(getLine(`/api/inspect?input=${'a'.repeat(MAX_URL)}`))).status, 414);
  assert.equal((await raw(getLine('/', undefined, `X-Big: ${'b'.repeat(40_000)}\r\n`))).status, 431);
  assert.equal((await raw(getLine('/api/model', undefined, 'Content-Length: 5\r\n') + 'hello')).status, 413);
  assert.equal((await raw(getLine('/api/model', undefined, 'Content-Length: 1000000000000\r\n'))).status, 413);
  assert.equal((await raw(getLine('/api/model', undefined, 'Transfer-Encoding: chunked\r\n') + '5\r\nhello\r\n0\r\n\r\n')).status, 413);
  assert.equal((await raw(`POST /api/inspect HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`)).status, 405);
  assert.equal((await raw(`DELETE / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`)).status, 405);
});

test('percent-encoded path traversal finds nothing: 404 and no file read', async () => {
  for (const path of ['/%2e%2e/%2e%2e/etc/passwd', '/..%2f..%2f..%2fetc%2fpasswd', '/%252e%252e%252fetc%252fpasswd', '//etc/passwd', '/api/../../../etc/passwd',
    '/%2E%2E%5C%2E%2E%5Cetc%5Cpasswd', '/api/model/..%2f..%2fpackage.json', '/%00', '/%ff%fe', '/api%2finspect?input=x']) {
    const r = await raw(getLine(path));
    assert.ok(r.status === 404 || r.status === 400, `${path}: ${r.status}`);
    assert.doesNotMatch(r.text, /root:|"name": "qkv"/, path);
  }
});

test('a Host that is not this loopback address and port is refused (DNS rebinding)', async () => {
  for (const host of ['evil.example', `evil.example:${port}`, `127.0.0.1.evil.example:${port}`, `localhost.evil.example:${port}`, `127.0.0.1:${port + 1}`, `[::1]:${port}`, '', `0.0.0.0:${port}`]) {
    const r = await raw(getLine('/api/model', host));
    assert.equal(r.status, 403, `Host "${host}": ${r.status}`);
  }
  // HTTP/1.0 without any Host header
  assert.equal((await raw('GET /api/model HTTP/1.0\r\n\r\n')).status, 403);
  for (const host of [`127.0.0.1:${port}`, `localhost:${port}`]) assert.equal((await raw(getLine('/api/model', host))).status, 200, host);
});
