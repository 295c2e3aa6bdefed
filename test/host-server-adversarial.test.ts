// Browser mode's server against hostile clients without the token: malformed
// cookies and request lines, broken WebSocket frames, oversize messages, resets
// mid-handshake. Each probe must end only its own request or connection, with a
// status or close code that says why, and leave the server answering. The
// server runs in this process, so a probe that crashed it fails here as an
// uncaught exception. Raw bytes go over `net` sockets: a well-behaved client
// library cannot send what these probes send.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { mkdir, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import path from 'node:path';
import { WebSocket } from 'ws';
import { MAX_REQUEST_BYTES, startBrowserServer, type BrowserServer } from '../electron/browser-server.js';
import { decodeFrame, HOST_WS_PROTOCOL, socketProtocols, type WireReply } from '../common/host-api/wire.js';
import { sandbox, type Sandbox } from './host-fixtures.js';

const TOKEN = 'adversarial-token-0123456789';
let s: Sandbox;
let server: BrowserServer;
const origin = () => `http://127.0.0.1:${server.port}`;

before(async () => {
  s = await sandbox();
  const staticDir = path.join(s.root, 'renderer');
  await mkdir(staticDir, { recursive: true });
  await writeFile(path.join(staticDir, 'index.html'), '<!doctype html><title>Attention Studio</title>');
  server = await startBrowserServer({ service: s.service, staticDir, token: TOKEN, port: 0 });
});

after(async () => {
  await server.close();
  await s.cleanup();
});

/** Sends raw bytes and collects what comes back until the server closes, or `quietMs` pass with nothing new. */
function raw(bytes: string | Buffer, quietMs = 300): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = connect(server.port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let timer = setTimeout(() => sock.destroy(), quietMs);
    sock.on('data', (c: Buffer) => {
      chunks.push(c);
      clearTimeout(timer);
      timer = setTimeout(() => sock.destroy(), quietMs);
    });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
    sock.on('error', reject);
    sock.write(bytes);
  });
}

const statusLine = (reply: Buffer) => reply.toString('latin1').split('\r\n')[0];

/** The server still serves the page and answers a host call over a fresh WebSocket. */
async function assertAnswering(): Promise<void> {
  const status = await new Promise<number>((resolve, reject) => {
    request({ host: '127.0.0.1', port: server.port, path: '/' }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    })
      .on('error', reject)
      .end();
  });
  assert.equal(status, 200, 'the page is still served');
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api`, socketProtocols(TOKEN), { origin: origin() });
  try {
    const reply = await new Promise<WireReply>((resolve, reject) => {
      ws.once('error', reject);
      ws.once('open', () => ws.send(JSON.stringify({ id: 1, method: 'info', request: {} })));
      ws.once('message', (data: Buffer) => resolve(decodeFrame(data)));
    });
    assert.equal(reply.kind, 'result', 'a host call still gets its answer');
  } finally {
    ws.close();
  }
}

function handshake(extra = ''): string {
  return (
    `GET /api HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nOrigin: ${origin()}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`
  );
}

/** An authenticated raw WebSocket: the handshake done by hand, then `frame` sent; resolves with the close code the server sent back. */
function closeCodeAfter(frame: Buffer): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const sock: Socket = connect(server.port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    let upgraded = false;
    const timer = setTimeout(() => sock.destroy(), 3000);
    sock.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        assert.match(buf.subarray(0, end).toString('latin1'), /^HTTP\/1\.1 101 /);
        upgraded = true;
        buf = buf.subarray(end + 4);
        sock.write(frame);
      }
      // A close frame from the server: 0x88, an unmasked length < 126, then the code.
      if (buf.length >= 4 && buf[0] === 0x88) {
        clearTimeout(timer);
        resolve(buf.readUInt16BE(2));
        sock.destroy();
      }
    });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(undefined);
    });
    sock.on('error', reject);
    sock.write(handshake(`Sec-WebSocket-Protocol: ${socketProtocols(TOKEN).join(', ')}\r\n`));
  });
}

/** A client frame: FIN set, `opcode`, masked with a zero key (so the payload reads as is) unless `masked` is false. */
function frame(opcode: number, payload: Buffer, opts: { masked?: boolean; claimedLength?: number } = {}): Buffer {
  const masked = opts.masked ?? true;
  const length = opts.claimedLength ?? payload.length;
  const head: number[] = [0x80 | opcode];
  const maskBit = masked ? 0x80 : 0;
  let ext = Buffer.alloc(0);
  if (length < 126) head.push(maskBit | length);
  else if (length < 65536) {
    head.push(maskBit | 126);
    ext = Buffer.alloc(2);
    ext.writeUInt16BE(length);
  } else {
    head.push(maskBit | 127);
    ext = Buffer.alloc(8);
    ext.writeBigUInt64BE(BigInt(length));
  }
  return Buffer.concat([Buffer.from(head), ext, masked ? Buffer.alloc(4) : Buffer.alloc(0), payload]);
}

test('a malformed token cookie (%E0%A4%A) neither crashes the server nor opens the socket', async () => {
  const page = await raw(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nCookie: attn_token=%E0%A4%A\r\nConnection: close\r\n\r\n`);
  assert.match(statusLine(page), /^HTTP\/1\.1 200 /);
  const upgrade = await raw(handshake(`Cookie: attn_token=%E0%A4%A\r\nSec-WebSocket-Protocol: ${HOST_WS_PROTOCOL}\r\n`));
  assert.match(statusLine(upgrade), /^HTTP\/1\.1 403 /);
  await assertAnswering();
});

test('a request line whose URL does not parse (GET http://[/) gets 400, as a request and as an upgrade', async () => {
  const page = await raw(`GET http://[/ HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nConnection: close\r\n\r\n`);
  assert.match(statusLine(page), /^HTTP\/1\.1 400 /);
  const upgrade = await raw(handshake().replace('GET /api ', 'GET http://[/ '));
  assert.match(statusLine(upgrade), /^HTTP\/1\.1 400 /);
  await assertAnswering();
});

test('bytes that are not HTTP get 400 from the parser', async () => {
  assert.match(statusLine(await raw('\x00\x01\x02 not http at all\r\n\r\n')), /^HTTP\/1\.1 400 /);
  await assertAnswering();
});

test('broken WebSocket frames close that socket with the fitting code and nothing else', async () => {
  const probes: [string, Buffer, number][] = [
    ['invalid UTF-8 in a text frame', frame(0x1, Buffer.from([0xff, 0xfe, 0xfd])), 1007],
    ['a reserved opcode', frame(0x3, Buffer.alloc(0)), 1002],
    ['an unmasked client frame', frame(0x1, Buffer.from('{}'), { masked: false }), 1002],
    ['a frame over the message limit', frame(0x1, Buffer.alloc(0), { claimedLength: MAX_REQUEST_BYTES + 1 }), 1009],
  ];
  for (const [what, bytes, code] of probes) {
    assert.equal(await closeCodeAfter(bytes), code, what);
    await assertAnswering();
  }
});

test('an oversize message sent by a real client is closed with 1009 (message too big), and the next connection works', async () => {
  const limit = 64 * 1024;
  const small = await startBrowserServer({ service: s.service, staticDir: path.join(s.root, 'renderer'), token: TOKEN, port: 0, maxMessageBytes: limit });
  try {
    const url = `ws://127.0.0.1:${small.port}/api`;
    const opts = { origin: `http://127.0.0.1:${small.port}` };
    const ws = new WebSocket(url, socketProtocols(TOKEN), opts);
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    ws.on('error', () => undefined);
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(JSON.stringify({ id: 1, method: 'info', request: { pad: 'x'.repeat(limit) } }));
    assert.equal(await closed, 1009);
    const again = new WebSocket(url, socketProtocols(TOKEN), opts);
    const reply = await new Promise<WireReply>((resolve, reject) => {
      again.once('error', reject);
      again.once('open', () => again.send(JSON.stringify({ id: 2, method: 'info', request: {} })));
      again.once('message', (data: Buffer) => resolve(decodeFrame(data)));
    });
    again.close();
    assert.equal(reply.kind, 'result');
  } finally {
    await small.close();
  }
});

test('clients that reset mid-handshake leave the server answering', async () => {
  for (let i = 0; i < 20; i++) {
    await new Promise<void>((resolve) => {
      const sock = connect(server.port, '127.0.0.1', () => {
        // Half of them with the token, half without: a refusal written to a reset socket must not throw either.
        sock.write(handshake(i % 2 ? `Sec-WebSocket-Protocol: ${socketProtocols(TOKEN).join(', ')}\r\n` : ''));
        sock.resetAndDestroy();
      });
      sock.on('close', () => resolve());
      sock.on('error', () => undefined);
    });
  }
  await assertAnswering();
});

test('no response carries a cookie, whatever the request', async () => {
  const seen: string[] = [];
  const requests = [`GET /?token=${TOKEN} HTTP/1.1`, 'GET / HTTP/1.1', 'GET /?token=wrong HTTP/1.1', 'GET /missing.js HTTP/1.1', 'POST / HTTP/1.1'];
  for (const line of requests) {
    const reply = (await raw(`${line}\r\nHost: 127.0.0.1:${server.port}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)).toString('latin1');
    seen.push(statusLine(Buffer.from(reply, 'latin1')));
    assert.doesNotMatch(reply.split('\r\n\r\n')[0], /^set-cookie:/im, line);
    assert.ok(!reply.includes(TOKEN), `${line}: the token is not echoed`);
  }
  assert.deepEqual(
    seen.map((l) => l.split(' ')[1]),
    ['200', '200', '403', '404', '405'],
  );
  const upgrade = (await raw(handshake(`Sec-WebSocket-Protocol: ${socketProtocols(TOKEN).join(', ')}\r\n`))).toString('latin1');
  assert.match(upgrade, /^HTTP\/1\.1 101 /);
  const head = upgrade.split('\r\n\r\n')[0];
  assert.doesNotMatch(head, /^set-cookie:/im);
  assert.match(
    head,
    new RegExp(`^sec-websocket-protocol: ${HOST_WS_PROTOCOL.replace('.', '\\.')}$`, 'im'),
    'the server picks the plain protocol, never echoes the token',
  );
  assert.ok(!head.includes(TOKEN));
});
