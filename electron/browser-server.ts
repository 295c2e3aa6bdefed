// Browser mode: the renderer and the host API over HTTP and WebSocket on the
// loopback interface. Every request must carry the random token (in the URL,
// or in the cookie set when the page was first opened with it); anything else
// gets 403. The Host and Origin headers are checked too, so neither another
// web page (cross-site WebSocket) nor DNS rebinding can reach the API.
import { timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { HostRequestError, type HostEvent } from '../common/host-api/api.js';
import { PathError } from './host/paths.js';
import type { HostService } from './host/service.js';
import { encodeFrame, HOST_WS_PATH, type WireReply, type WireRequest } from '../common/host-api/wire.js';
import { contentSecurityPolicy, SECURITY_HEADERS } from './csp.js';

export const TOKEN_COOKIE = 'attn_token';
/** Past this much unsent data on a socket, attention maps are dropped (the next snapshot replaces them). */
const MAX_BUFFERED = 8 * 1024 * 1024;
const MAX_REQUEST = 64 * 1024 * 1024;

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

export interface BrowserServerOptions {
  service: HostService;
  /** The built renderer (dist/app). */
  staticDir: string;
  token: string;
  /** 0 picks a free port. */
  port?: number;
}

export interface BrowserServer {
  /** The address to open, token included. */
  url: string;
  port: number;
  close(): Promise<void>;
}

function tokenMatches(given: string | null | undefined, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieToken(req: IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === TOKEN_COOKIE) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

/** Checks Host (and Origin, when sent) against the loopback names of our port; then the token. */
export function admit(req: IncomingMessage, token: string, port: number): { ok: true; viaQuery: boolean } | { ok: false; why: string } {
  const hosts = [`127.0.0.1:${port}`, `localhost:${port}`];
  if (!hosts.includes(req.headers.host ?? '')) return { ok: false, why: 'unexpected Host header' };
  const origin = req.headers.origin;
  if (origin !== undefined && !hosts.some((h) => origin === `http://${h}`)) return { ok: false, why: 'cross-origin request' };
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const q = url.searchParams.get('token');
  if (tokenMatches(q, token)) return { ok: true, viaQuery: true };
  if (tokenMatches(cookieToken(req), token)) return { ok: true, viaQuery: false };
  return { ok: false, why: 'missing or wrong token' };
}

export async function startBrowserServer(opts: BrowserServerOptions): Promise<BrowserServer> {
  const { service, token } = opts;
  const staticDir = path.resolve(opts.staticDir);
  let port = 0;
  const csp = () => contentSecurityPolicy({ connect: [`ws://127.0.0.1:${port}`, `ws://localhost:${port}`] });

  const refuse = (res: ServerResponse, status: number, text: string) => {
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', ...SECURITY_HEADERS });
    res.end(`${text}\n`);
  };

  async function serveFile(req: IncomingMessage, res: ServerResponse, viaQuery: boolean): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(res, 405, 'method not allowed');
    let rel: string;
    try {
      rel = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
    } catch {
      return refuse(res, 400, 'bad path');
    }
    if (rel.endsWith('/')) rel += 'index.html';
    const file = path.resolve(staticDir, `.${path.posix.normalize(rel)}`);
    if (!file.startsWith(staticDir + path.sep)) return refuse(res, 404, 'not found');
    let size: number;
    try {
      const s = await stat(file);
      if (!s.isFile()) return refuse(res, 404, 'not found');
      size = s.size;
    } catch {
      if (rel === '/index.html') return refuse(res, 503, 'the renderer is not built: run `npx vite build` (or `npm test`, which builds it) first');
      return refuse(res, 404, 'not found');
    }
    const headers: Record<string, string | string[]> = {
      'Content-Type': MIME[path.extname(file)] ?? 'application/octet-stream',
      'Content-Length': String(size),
      'Cache-Control': 'no-store',
      'Content-Security-Policy': csp(),
      ...SECURITY_HEADERS,
    };
    // The page's own asset requests carry no token in their URLs: they get it from this cookie.
    if (viaQuery) headers['Set-Cookie'] = `${TOKEN_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`;
    res.writeHead(200, headers);
    if (req.method === 'HEAD') return void res.end();
    createReadStream(file).pipe(res);
  }

  const server: Server = createServer((req, res) => {
    const a = admit(req, token, port);
    if (!a.ok) return refuse(res, 403, `forbidden: ${a.why}. Open the URL that \`npm run serve\` printed.`);
    serveFile(req, res, a.viaQuery).catch((err: Error) => {
      if (!res.headersSent) refuse(res, 500, err.message);
      else res.destroy();
    });
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_REQUEST });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const a = admit(req, token, port);
    const pathname = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    if (!a.ok || pathname !== HOST_WS_PATH) {
      socket.end(`HTTP/1.1 ${a.ok ? '404 Not Found' : '403 Forbidden'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => connect(ws));
  });

  function connect(ws: WebSocket): void {
    const send = (msg: WireReply) => {
      if (ws.readyState === ws.OPEN) ws.send(encodeFrame(msg));
    };
    const unsubscribe = service.onEvent((event: HostEvent) => {
      const droppable = event.channel === 'training' && event.event.type === 'attention';
      if (droppable && ws.bufferedAmount > MAX_BUFFERED) return;
      send({ kind: 'event', event });
    });
    ws.on('close', unsubscribe);
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) return ws.close(1003, 'requests are JSON text frames');
      let msg: WireRequest;
      try {
        msg = JSON.parse(data.toString()) as WireRequest;
      } catch {
        return ws.close(1007, 'malformed JSON');
      }
      if (!msg || typeof msg !== 'object' || !Number.isSafeInteger(msg.id)) return ws.close(1007, 'a request needs a numeric id');
      service.dispatch(msg.method, msg.request).then(
        (value) => send({ kind: 'result', id: msg.id, value }),
        (err: Error) => {
          const expected = err instanceof HostRequestError || err instanceof PathError;
          if (!expected) console.error(`host: ${String(msg.method)} failed:`, err);
          send({ kind: 'error', id: msg.id, message: err.message });
        },
      );
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/?token=${encodeURIComponent(token)}`,
    port,
    async close() {
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
