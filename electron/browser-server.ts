// Browser mode: the renderer and the host API over HTTP and WebSocket on the
// loopback interface. The Host header (and Origin, when sent) must name our own
// port on a loopback name, so neither DNS rebinding nor another web page gets
// in. The built renderer holds no secrets and is served to any such request;
// the host API (the WebSocket) also needs the random token, which the page
// takes from the printed URL (?token=…), keeps in its sessionStorage (bound to
// this origin, port included) and offers as a WebSocket subprotocol. No cookie
// is ever set: cookies are not bound to a port, so every other server on
// 127.0.0.1 would receive one.
//
// Nothing a client sends may bring the process down: malformed URLs, protocol
// errors on the socket and oversize messages each end that one request or
// connection, with a status or close code that says why.
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
import type { HostEndpoint } from './host/dispatcher.js';
import { encodeFrame, HOST_WS_PATH, HOST_WS_PROTOCOL, tokenFromProtocols, type WireReply, type WireRequest } from '../common/host-api/wire.js';
import { contentSecurityPolicy, SECURITY_HEADERS } from './csp.js';

/** Past this much unsent data on a socket, attention maps are dropped (the next snapshot replaces them). */
const MAX_BUFFERED = 8 * 1024 * 1024;
/** The largest request message; a bigger one closes the socket with 1009 (message too big). */
export const MAX_REQUEST_BYTES = 64 * 1024 * 1024;
/** Subprotocol values are RFC 7230 tokens: the token must be one to travel in that header. */
const TOKEN_SYNTAX = /^[A-Za-z0-9_-]{16,}$/;

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
  /** The host's dispatcher and event source (a HostService). */
  service: HostEndpoint;
  /** The built renderer (dist/app). */
  staticDir: string;
  token: string;
  /** 0 picks a free port. */
  port?: number;
  /** The largest request message (default MAX_REQUEST_BYTES). */
  maxMessageBytes?: number;
}

export interface BrowserServer {
  /** The address to open, token included. */
  url: string;
  port: number;
  close(): Promise<void>;
}

function tokenMatches(given: string | undefined, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The request's URL, or undefined when the request line holds none that parses (e.g. `GET http://[/`). */
function requestUrl(req: IncomingMessage): URL | undefined {
  try {
    return new URL(req.url ?? '/', 'http://127.0.0.1');
  } catch {
    return undefined;
  }
}

type Verdict = { ok: true } | { ok: false; status: 400 | 403 | 404; why: string };

/**
 * Host must be one of our loopback names with our port. Origin, when sent (or
 * when `originRequired`), must be that same origin. Returns why not otherwise.
 */
function sameOrigin(req: IncomingMessage, port: number, originRequired: boolean): Verdict {
  const hosts = [`127.0.0.1:${port}`, `localhost:${port}`];
  if (!hosts.includes(req.headers.host ?? '')) return { ok: false, status: 403, why: 'unexpected Host header' };
  const origin = req.headers.origin;
  if (origin === undefined && originRequired) return { ok: false, status: 403, why: 'no Origin header' };
  if (origin !== undefined && !hosts.some((h) => origin === `http://${h}`)) return { ok: false, status: 403, why: 'cross-origin request' };
  return { ok: true };
}

/** The WebSocket upgrade: our path, our origin (always sent by browsers), and the token among the offered subprotocols. */
export function admitSocket(req: IncomingMessage, token: string, port: number): Verdict {
  const url = requestUrl(req);
  if (!url) return { ok: false, status: 400, why: 'malformed request URL' };
  const origin = sameOrigin(req, port, true);
  if (!origin.ok) return origin;
  if (url.pathname !== HOST_WS_PATH) return { ok: false, status: 404, why: 'not found' };
  const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
  if (!tokenMatches(tokenFromProtocols(offered), token)) return { ok: false, status: 403, why: 'missing or wrong token' };
  return { ok: true };
}

/** A page or asset of the renderer: our origin; a token in the URL, when there is one, must be the right one. */
export function admitPage(req: IncomingMessage, token: string, port: number): Verdict {
  const url = requestUrl(req);
  if (!url) return { ok: false, status: 400, why: 'malformed request URL' };
  const origin = sameOrigin(req, port, false);
  if (!origin.ok) return origin;
  // Not a gate (the files are public): a stale address, from before the server restarted, is told so at once.
  const given = url.searchParams.get('token');
  if (given !== null && !tokenMatches(given, token)) return { ok: false, status: 403, why: 'wrong token (a restarted server prints a new address)' };
  return { ok: true };
}

const STATUS_TEXT = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found' } as const;

export async function startBrowserServer(opts: BrowserServerOptions): Promise<BrowserServer> {
  const { service, token } = opts;
  if (!TOKEN_SYNTAX.test(token)) throw new Error('the browser-mode token must be at least 16 characters of A-Z a-z 0-9 _ -');
  const staticDir = path.resolve(opts.staticDir);
  let port = 0;
  const csp = () => contentSecurityPolicy({ connect: [`ws://127.0.0.1:${port}`, `ws://localhost:${port}`] });

  const refuse = (res: ServerResponse, status: number, text: string) => {
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', ...SECURITY_HEADERS });
    res.end(`${text}\n`);
  };

  async function serveFile(req: IncomingMessage, res: ServerResponse): Promise<void> {
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
    res.writeHead(200, {
      'Content-Type': MIME[path.extname(file)] ?? 'application/octet-stream',
      'Content-Length': String(size),
      'Cache-Control': 'no-store',
      'Content-Security-Policy': csp(),
      ...SECURITY_HEADERS,
    });
    if (req.method === 'HEAD') return void res.end();
    createReadStream(file)
      .on('error', () => res.destroy())
      .pipe(res);
  }

  const server: Server = createServer((req, res) => {
    const a = admitPage(req, token, port);
    if (!a.ok) return refuse(res, a.status, `${STATUS_TEXT[a.status]}: ${a.why}. Open the URL that \`npm run serve\` printed.`);
    serveFile(req, res).catch((err: Error) => {
      if (!res.headersSent) refuse(res, 500, err.message);
      else res.destroy();
    });
  });
  // A request the HTTP parser rejects (or a client that resets mid-request): answer 400 if the socket still can, never throw.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: opts.maxMessageBytes ?? MAX_REQUEST_BYTES,
    handleProtocols: (offered) => (offered.has(HOST_WS_PROTOCOL) ? HOST_WS_PROTOCOL : false),
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Node removes its own error handling from an upgraded socket: a reset here would otherwise be an uncaught 'error'.
    socket.on('error', () => socket.destroy());
    const a = admitSocket(req, token, port);
    if (!a.ok) {
      socket.end(
        `HTTP/1.1 ${a.status} ${STATUS_TEXT[a.status]}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(a.why)}\r\n\r\n${a.why}`,
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => connect(ws));
  });

  function connect(ws: WebSocket): void {
    // Protocol errors (a frame over maxPayload, a bad opcode, an unmasked frame,
    // invalid UTF-8) are the client's: ws has already closed the socket with
    // the fitting code (1009, 1002, 1007); without a listener they would throw.
    ws.on('error', () => undefined);
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
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    async close() {
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
