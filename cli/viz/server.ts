// The `qkv viz` web server: Node's http on 127.0.0.1 only. It serves exactly three things: the
// page (/), the model's description (/api/model) and an inspection of one input
// (/api/inspect?input=...). It never reads a file named by a request, so no path can reach the
// disk; long URLs, bodies, other methods and foreign Host headers are refused.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { QkvError } from '../../src/index.js';
import { scriptJson } from './page.js';
import { debugging, report } from '../errors.js';

export const HOST = '127.0.0.1';
/** Longest request line accepted (the input travels in the query string). */
export const MAX_URL = 16 * 1024;

export interface VizHandlers {
  page: string;
  /** The model's description, or the reason it did not load (shown on the page). */
  model: () => { status: number; body: unknown };
  /** Runs the model on one input (with the request's other parameters); throws a QkvError for bad input. */
  inspect: (input: string, params: URLSearchParams) => unknown;
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

function handle(h: VizHandlers, port: () => number, req: IncomingMessage, res: ServerResponse): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(res, 405, `${req.method} is not allowed`);
  const raw = req.url ?? '/';
  if (raw.length > MAX_URL) return refuse(res, 414, `request too long (${raw.length} characters; at most ${MAX_URL})`);
  if (Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding']) return refuse(res, 413, 'requests carry no body');
  // a page on another site must not reach this server through a DNS name pointing at 127.0.0.1
  const host = req.headers.host ?? '';
  if (host !== `${HOST}:${port()}` && host !== `localhost:${port()}`) return refuse(res, 403, `unexpected Host "${host}"`);
  let url: URL;
  try {
    url = new URL(raw, `http://${HOST}`);
  } catch {
    return refuse(res, 400, 'bad request');
  }
  switch (url.pathname) {
    case '/': return send(res, 200, 'text/html; charset=utf-8', h.page);
    case '/api/model': {
      const m = h.model();
      return json(res, m.status, m.body);
    }
    case '/api/inspect': {
      try {
        return json(res, 200, { result: h.inspect(url.searchParams.get('input') ?? '', url.searchParams) });
      } catch (e) {
        if (e instanceof QkvError) return refuse(res, 400, e.message);
        // a bug in qkv: one line here and on the page (QKV_DEBUG=1 prints where)
        const line = report(e).line;
        console.error(`qkv viz: ${line}`);
        if (debugging()) console.error((e as Error).stack);
        return refuse(res, 500, line);
      }
    }
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
