// The `qkv playground` web server: Node's http on 127.0.0.1 only, serving the files of the
// playground's static build (dist/web/playground, read once at start; a request can name only
// one of those files, never a path on disk), with the headers that make the page cross-origin
// isolated (COOP/COEP), so qkv's WebAssembly kernels get worker threads over shared memory.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { QkvError } from '../../src/index.js';
import { HOST } from '../viz/server.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.wasm': 'application/wasm',
};

/** The static build's files by URL path ('/' is index.html); a QkvError when the build is missing. */
export function playgroundFiles(dir: string): Map<string, { type: string; body: Buffer }> {
  let names: string[];
  try {
    names = readdirSync(dir).filter((f) => TYPES[extname(f)]);
  } catch {
    throw new QkvError(`playground: the page is missing (${dir}); run npm run build`);
  }
  if (!names.includes('index.html')) throw new QkvError(`playground: ${join(dir, 'index.html')} is missing; run npm run build`);
  const files = new Map(names.map((f) => [`/${f}`, { type: TYPES[extname(f)]!, body: readFileSync(join(dir, f)) }]));
  files.set('/', files.get('/index.html')!);
  return files;
}

function send(res: ServerResponse, status: number, type: string, body: Buffer | string, head: boolean): void {
  res.writeHead(status, {
    'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer', 'X-Frame-Options': 'DENY',
    // cross-origin isolation: SharedArrayBuffer, hence the kernels' worker threads
    'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp', 'Cross-Origin-Resource-Policy': 'same-origin',
  });
  res.end(head ? undefined : body);
}

function handle(files: ReturnType<typeof playgroundFiles>, port: () => number, req: IncomingMessage, res: ServerResponse): void {
  const text = (status: number, message: string) => send(res, status, 'text/plain; charset=utf-8', `${message}\n`, req.method === 'HEAD');
  if (req.method !== 'GET' && req.method !== 'HEAD') return text(405, `${req.method} is not allowed`);
  const raw = req.url ?? '/';
  if (raw.length > 2048) return text(414, 'request too long');
  if (Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding']) return text(413, 'requests carry no body');
  // a page on another site must not reach this server through a DNS name pointing at 127.0.0.1
  const host = req.headers.host ?? '';
  if (host !== `${HOST}:${port()}` && host !== `localhost:${port()}`) return text(403, `unexpected Host "${host.slice(0, 100)}"`);
  let path: string;
  try {
    path = new URL(raw, `http://${HOST}`).pathname;
  } catch {
    return text(400, 'bad request');
  }
  const file = files.get(path);
  if (!file) return text(404, 'not found');
  send(res, 200, file.type, file.body, req.method === 'HEAD');
}

/** Listens on 127.0.0.1 (port 0: a free one) and resolves once it does. */
export function startPlaygroundServer(dir: string, port: number): Promise<Server> {
  const files = playgroundFiles(dir);
  const server: Server = createServer({ maxHeaderSize: 32 * 1024 }, (req, res) => handle(files, () => (server.address() as AddressInfo).port, req, res));
  return new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(new QkvError(e.code === 'EADDRINUSE' ? `--port ${port}: already in use` : `cannot listen on ${HOST}:${port}: ${e.message}`)));
    server.listen(port, HOST, () => resolve(server));
  });
}
