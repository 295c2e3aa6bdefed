// Browser mode's server: the origin checks, the token gate on the socket, the
// security headers, and the host API over a real WebSocket, with attention maps
// arriving as binary Float32Arrays.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { WebSocket } from 'ws';
import { startBrowserServer, type BrowserServer } from '../electron/browser-server.js';
import type { GraphLoad, GraphWrite, HostEvent } from '../common/host-api/api.js';
import { decodeFrame, encodeFrame, HOST_WS_PROTOCOL, socketProtocols, type WireReply } from '../common/host-api/wire.js';
import { sandbox, tinyGraph, type Sandbox } from './host-fixtures.js';

const TOKEN = 'test-token-0123456789abcdef';
let s: Sandbox;
let server: BrowserServer;

before(async () => {
  s = await sandbox();
  const staticDir = path.join(s.root, 'renderer');
  await mkdir(path.join(staticDir, 'assets'), { recursive: true });
  await writeFile(path.join(staticDir, 'index.html'), '<!doctype html><title>Attention Studio</title><script type="module" src="/assets/app.js"></script>');
  await writeFile(path.join(staticDir, 'assets', 'app.js'), 'console.log("app")');
  server = await startBrowserServer({ service: s.service, staticDir, token: TOKEN, port: 0 });
});

after(async () => {
  await server.close();
  await s.cleanup();
});

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(pathAndQuery: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path: pathAndQuery, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('the server listens on the loopback address only and prints a URL with the token', () => {
  assert.match(server.url, new RegExp(`^http://127\\.0\\.0\\.1:${server.port}/\\?token=${TOKEN}$`));
});

test('the renderer files are served without the token (they hold no secret); a wrong token in the URL is refused', async () => {
  for (const p of ['/', '/index.html', '/assets/app.js']) assert.equal((await get(p)).status, 200, p);
  for (const p of ['/?token=wrong', `/?token=${TOKEN}x`, `/assets/app.js?token=nope`]) {
    const r = await get(p);
    assert.equal(r.status, 403, p);
    assert.match(r.body, /wrong token/, p);
  }
  assert.equal((await get('/../../etc/passwd')).status, 404);
});

test('the page comes with a strict CSP, no referrer, and sets no cookie', async () => {
  const r = await get(`/?token=${TOKEN}`);
  assert.equal(r.status, 200);
  assert.match(r.body, /<title>Attention Studio<\/title>/);
  const csp = String(r.headers['content-security-policy']);
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self'(;|$)/, 'no inline script, no eval');
  assert.match(csp, /object-src 'none'/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.equal(r.headers['referrer-policy'], 'no-referrer');
  assert.equal(r.headers['x-content-type-options'], 'nosniff');
  assert.equal(r.headers['set-cookie'], undefined);

  const asset = await get('/assets/app.js');
  assert.equal(asset.status, 200);
  assert.equal(asset.headers['content-type'], 'text/javascript; charset=utf-8');
  assert.equal(asset.body, 'console.log("app")');
});

test('a foreign Host (DNS rebinding) or Origin (another site) is refused even with the token', async () => {
  for (const p of ['/', `/?token=${TOKEN}`, '/assets/app.js']) {
    assert.equal((await get(p, { Host: `evil.example:${server.port}` })).status, 403, p);
    assert.equal((await get(p, { Host: `127.0.0.1:${server.port + 1}` })).status, 403, p);
    assert.equal((await get(p, { Origin: 'http://evil.example' })).status, 403, p);
    assert.equal((await get(p, { Host: `localhost:${server.port}` })).status, 200, p);
  }
});

const WS_URL = () => `ws://127.0.0.1:${server.port}/api`;
const ORIGIN = () => `http://127.0.0.1:${server.port}`;

/** Resolves with the HTTP status of a refused upgrade, or 101 when the socket opens. */
function upgradeStatus(protocols: string[], opts: { origin?: string; headers?: Record<string, string>; url?: string } = {}): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(opts.url ?? WS_URL(), protocols, { origin: opts.origin, headers: opts.headers });
    ws.on('open', () => {
      ws.close();
      resolve(101);
    });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('error', () => undefined);
  });
}

test('the WebSocket needs the token (offered as a subprotocol), our Origin and Host', async () => {
  const ok = socketProtocols(TOKEN);
  assert.equal(await upgradeStatus(ok, { origin: ORIGIN() }), 101);
  assert.equal(await upgradeStatus(ok, { origin: `http://localhost:${server.port}` }), 101);
  assert.equal(await upgradeStatus([HOST_WS_PROTOCOL], { origin: ORIGIN() }), 403, 'no token');
  assert.equal(await upgradeStatus(socketProtocols('wrong-token-0123456789'), { origin: ORIGIN() }), 403, 'wrong token');
  assert.equal(await upgradeStatus([], { origin: ORIGIN(), url: `${WS_URL()}?token=${TOKEN}` }), 403, 'the token in the URL is not accepted');
  assert.equal(await upgradeStatus([HOST_WS_PROTOCOL], { origin: ORIGIN(), headers: { Cookie: `attn_token=${TOKEN}` } }), 403, 'nor in a cookie');
  assert.equal(await upgradeStatus(ok), 403, 'no Origin');
  assert.equal(await upgradeStatus(ok, { origin: 'http://evil.example' }), 403, 'another site');
  assert.equal(await upgradeStatus(ok, { origin: `http://127.0.0.1:${server.port + 1}` }), 403, 'another port');
  assert.equal(await upgradeStatus(ok, { origin: ORIGIN(), headers: { Host: `evil.example:${server.port}` } }), 403, 'DNS rebinding');
  assert.equal(await upgradeStatus(ok, { origin: ORIGIN(), url: `ws://127.0.0.1:${server.port}/elsewhere` }), 404);
});

/** A minimal client: calls by id, collects events. */
async function client() {
  const ws = new WebSocket(WS_URL(), socketProtocols(TOKEN), { origin: ORIGIN() });
  const events: HostEvent[] = [];
  const waiting = new Map<number, (r: WireReply) => void>();
  const frames: { binary: boolean }[] = [];
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    frames.push({ binary: isBinary });
    const msg = decodeFrame(data);
    if (msg.kind === 'event') events.push(msg.event);
    else waiting.get(msg.id)?.(msg);
  });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  let id = 0;
  const call = (method: string, req: unknown) =>
    new Promise<WireReply>((resolve) => {
      const n = ++id;
      waiting.set(n, resolve);
      ws.send(JSON.stringify({ id: n, method, request: req }));
    });
  return { ws, call, events, frames };
}

test('host calls over the socket: save, open, and a validation error comes back as an error reply', async () => {
  const c = await client();
  try {
    const saved = await c.call('saveFile', { path: 'ws.attn.json', graph: tinyGraph('over the socket') });
    assert.equal(saved.kind, 'result');
    assert.equal((saved as { value: GraphWrite }).value.written, true);
    const opened = await c.call('openFile', { path: 'ws.attn.json' });
    assert.equal((opened as { value: GraphLoad }).value.graph?.name, 'over the socket');
    const bad = await c.call('readGraph', { path: 7 });
    assert.equal(bad.kind, 'error');
    assert.match((bad as { message: string }).message, /bad request for readGraph: path/);
    const escape = await c.call('readGraph', { path: '../../etc/passwd.json' });
    assert.match((escape as { message: string }).message, /outside the workspace/);
    assert.ok(
      c.frames.every((f) => f.binary),
      'every reply is a binary frame',
    );
  } finally {
    c.ws.close();
  }
});

test('training events reach the socket as binary frames with the map as a Float32Array', async () => {
  const c = await client();
  try {
    await c.call('info', {}); // the subscription is in place once a call has gone through
    const data = new Float32Array([0.25, 0.5, 0.125, 0.125, 1e-7, -3]);
    s.service.emit({
      channel: 'training',
      runId: 'r1',
      event: {
        type: 'attention',
        epoch: 0,
        step: 12,
        ms: 3,
        maps: [{ nodeId: 'se', port: 'weights', kind: 'channel', shape: [2, 3], fullShape: [2, 3], data }],
      },
    });
    for (let i = 0; i < 100 && c.events.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(c.events.length, 1);
    const e = c.events[0];
    assert.ok(e.channel === 'training' && e.event.type === 'attention');
    assert.equal(e.runId, 'r1');
    const map = e.event.maps[0];
    assert.ok(map.data instanceof Float32Array);
    assert.deepEqual([...map.data], [...data]);
    assert.deepEqual(map.shape, [2, 3]);
  } finally {
    c.ws.close();
  }
});

test('the frame codec carries typed arrays as raw bytes, aligned, and survives a misaligned buffer', () => {
  const data = new Float32Array(1000).map((_, i) => Math.sin(i));
  const ids = new Int32Array([1, -2, 3]);
  const frame = encodeFrame({ kind: 'result', id: 3, value: { maps: [data, data.subarray(10, 20)], ids, note: 'ok' } });
  // The floats are not spelled out as JSON text: the frame is about 4 bytes per float.
  assert.ok(frame.byteLength < 4 * 1010 + 12 + 400, `frame of ${frame.byteLength} bytes`);
  const back = decodeFrame(frame.buffer as ArrayBuffer) as { value: { maps: Float32Array[]; ids: Int32Array; note: string } };
  assert.deepEqual([...back.value.maps[0]], [...data]);
  assert.equal(back.value.maps[0].buffer, frame.buffer, 'aligned arrays are views, not copies');
  assert.deepEqual([...back.value.maps[1]], [...data.subarray(10, 20)]);
  assert.deepEqual([...back.value.ids], [1, -2, 3]);
  assert.equal(back.value.note, 'ok');
  const shifted = new Uint8Array(frame.byteLength + 1);
  shifted.set(frame, 1);
  const again = decodeFrame(shifted.subarray(1)) as typeof back;
  assert.deepEqual([...again.value.maps[0]], [...data]);
});
