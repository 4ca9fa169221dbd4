// The `qkv viz` web server: Node's http on 127.0.0.1 only. It serves exactly five things: the
// page (/), the model's description (/api/model), an inspection of one typed input
// (/api/inspect?input=...), of the example the page opens on (/api/example) and of one file the
// page sends (POST /api/inspect-file: a WAV or an image, as bytes). It never reads a file named
// by a request, so no path can reach the disk; long URLs, bodies anywhere else, other methods,
// foreign Host headers and cross-site posts are refused.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { QkvError } from '../../src/index.js';
import { scriptJson } from './page.js';
import { debugging, report } from '../errors.js';

export const HOST = '127.0.0.1';
/** Longest request line accepted (the input travels in the query string). */
export const MAX_URL = 16 * 1024;
/** Largest file the page may send (a WAV of several minutes; an image of several megapixels). */
export const MAX_FILE = 32 * 1024 * 1024;

export interface VizHandlers {
  page: string;
  /** The model's description, or the reason it did not load (shown on the page). */
  model: () => { status: number; body: unknown };
  /** Runs the model on one input (with the request's other parameters); throws a QkvError for bad input. */
  inspect: (input: string, params: URLSearchParams) => unknown;
  /** The example the page opens on (a file-reading model's built-in example or --input file); throws a QkvError if there is none. */
  example?: () => unknown;
  /** Runs the model on one file's bytes (`name`: what the page calls it, for errors); throws a QkvError for a bad file. */
  inspectFile?: (bytes: Uint8Array, name: string) => unknown;
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, {
    'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer', 'X-Frame-Options': 'DENY',
  });
  res.end(body);
}
const json = (res: ServerResponse, status: number, value: unknown) => send(res, status, 'application/json; charset=utf-8', scriptJson(value));
const refuse = (res: ServerResponse, status: number, error: string) => json(res, status, { error });

/** A QkvError is the user's (400, its message); anything else is logged and answered 500. */
function answer(res: ServerResponse, run: () => unknown): void {
  try {
    return json(res, 200, { result: run() });
  } catch (e) {
    if (e instanceof QkvError) return refuse(res, 400, e.message);
    // a bug in qkv: one line here and on the page (QKV_DEBUG=1 prints where)
    const line = report(e).line;
    console.error(`qkv viz: ${line}`);
    if (debugging()) console.error((e as Error).stack);
    return refuse(res, 500, line);
  }
}

/** POST /api/inspect-file: the page's file as raw bytes, at most MAX_FILE. */
function inspectFile(h: VizHandlers, url: URL, port: () => number, req: IncomingMessage, res: ServerResponse): void {
  // a refusal leaves the body unread: close the connection rather than read what follows on it as a request
  res.setHeader('Connection', 'close');
  if (!h.inspectFile) return refuse(res, 404, 'this model reads typed input, not files');
  // only this page may post: a cross-site form can send text/plain or form data, never octet-stream, and says where it comes from
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://${HOST}:${port()}` && origin !== `http://localhost:${port()}`) return refuse(res, 403, `unexpected Origin "${origin}"`);
  if (req.headers['content-type'] !== 'application/octet-stream') return refuse(res, 415, 'send the file as application/octet-stream');
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (!(declared <= MAX_FILE)) return refuse(res, 413, `a file of at most ${MAX_FILE / 1024 / 1024} MiB, with its Content-Length`);
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (d: Buffer) => {
    size += d.length;
    if (size > declared) { req.destroy(); return; }
    chunks.push(d);
  });
  req.on('end', () => {
    res.removeHeader('Connection');
    const name = (url.searchParams.get('name') ?? 'the file').slice(0, 200);
    answer(res, () => h.inspectFile!(new Uint8Array(Buffer.concat(chunks)), name));
  });
}

function handle(h: VizHandlers, port: () => number, req: IncomingMessage, res: ServerResponse): void {
  const raw = req.url ?? '/';
  const post = req.method === 'POST' && raw.split('?')[0] === '/api/inspect-file';
  if (req.method !== 'GET' && req.method !== 'HEAD' && !post) return refuse(res, 405, `${req.method} is not allowed`);
  if (raw.length > MAX_URL) return refuse(res, 414, `request too long (${raw.length} characters; at most ${MAX_URL})`);
  if (!post && (Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'])) return refuse(res, 413, 'requests carry no body');
  // a page on another site must not reach this server through a DNS name pointing at 127.0.0.1
  const host = req.headers.host ?? '';
  if (host !== `${HOST}:${port()}` && host !== `localhost:${port()}`) return refuse(res, 403, `unexpected Host "${host}"`);
  let url: URL;
  try {
    url = new URL(raw, `http://${HOST}`);
  } catch {
    return refuse(res, 400, 'bad request');
  }
  if (post) return inspectFile(h, url, port, req, res);
  switch (url.pathname) {
    case '/': return send(res, 200, 'text/html; charset=utf-8', h.page);
    case '/api/model': {
      const m = h.model();
      return json(res, m.status, m.body);
    }
    case '/api/inspect': return answer(res, () => h.inspect(url.searchParams.get('input') ?? '', url.searchParams));
    case '/api/example': return h.example ? answer(res, h.example) : refuse(res, 404, 'this model has no example to open on');
    default: return refuse(res, 404, 'not found');
  }
}

/** Listens on 127.0.0.1 (port 0: a free one) and resolves once it does. */
export function startVizServer(h: VizHandlers, port: number): Promise<Server> {
  // a client that stops sending mid-request is dropped (checked every 2 s), not kept forever
  const server: Server = createServer({ maxHeaderSize: 32 * 1024, headersTimeout: 10_000, requestTimeout: 30_000, connectionsCheckingInterval: 2_000 }, (req, res) => handle(h, () => (server.address() as AddressInfo).port, req, res));
  return new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(new QkvError(e.code === 'EADDRINUSE' ? `--port ${port}: already in use` : `cannot listen on ${HOST}:${port}: ${e.message}`)));
    server.listen(port, HOST, () => resolve(server));
  });
}
