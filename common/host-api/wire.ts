// The browser mode's WebSocket framing. Requests go up as JSON text frames;
// everything coming down (results, errors, events) is one binary frame:
//
//   u32 LE header length | header (UTF-8 JSON) | pad to 8 | buffer 0 | pad | buffer 1 ...
//
// Typed arrays inside a message (attention maps) travel as raw bytes after the
// header, never as JSON number arrays, and decode as views on the received
// ArrayBuffer without a copy when they are aligned (always, for a browser
// WebSocket with binaryType "arraybuffer").
//
// Imported by the renderer: no Node APIs.
import type { HostEvent } from './api.js';

export interface WireRequest {
  id: number;
  method: string;
  request?: unknown;
}

export type WireReply = { kind: 'result'; id: number; value?: unknown } | { kind: 'error'; id: number; message: string } | { kind: 'event'; event: HostEvent };

const TYPED = { f32: Float32Array, i32: Int32Array, u8: Uint8Array } as const;
type TypedName = keyof typeof TYPED;
type Typed = Float32Array | Int32Array | Uint8Array;
const ALIGN = 8;
const pad = (n: number) => (n + ALIGN - 1) & ~(ALIGN - 1);

function typedName(v: unknown): TypedName | undefined {
  if (v instanceof Float32Array) return 'f32';
  if (v instanceof Int32Array) return 'i32';
  if (v instanceof Uint8Array) return 'u8';
  return undefined;
}

export function encodeFrame(message: WireReply): Uint8Array {
  const buffers: Typed[] = [];
  const kinds: [TypedName, number][] = [];
  const m = JSON.stringify(message, (_key, value: unknown) => {
    const t = typedName(value);
    if (!t) return value;
    buffers.push(value as Typed);
    kinds.push([t, (value as Typed).length]);
    return { $ta: buffers.length - 1 };
  });
  // `m` is already JSON: splice it in rather than parse and stringify it again.
  const head = new TextEncoder().encode(`{"b":${JSON.stringify(kinds)},"m":${m ?? 'null'}}`);
  let size = pad(4 + head.byteLength);
  const offsets = buffers.map((b) => {
    const at = size;
    size = pad(size + b.byteLength);
    return at;
  });
  const out = new Uint8Array(size);
  new DataView(out.buffer).setUint32(0, head.byteLength, true);
  out.set(head, 4);
  buffers.forEach((b, i) => out.set(new Uint8Array(b.buffer, b.byteOffset, b.byteLength), offsets[i]));
  return out;
}

/** Decodes one binary frame; typed arrays are views on `frame` when aligned, copies otherwise. */
export function decodeFrame(frame: ArrayBuffer | ArrayBufferView): WireReply {
  const bytes = frame instanceof ArrayBuffer ? new Uint8Array(frame) : new Uint8Array(frame.buffer, frame.byteOffset, frame.byteLength);
  if (bytes.byteLength < 4) throw new Error('host frame too short');
  const headLen = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true);
  if (4 + headLen > bytes.byteLength) throw new Error('host frame is corrupt');
  const { b: kinds, m } = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + headLen))) as { b: [TypedName, number][]; m: unknown };
  let at = pad(4 + headLen);
  const arrays = kinds.map(([t, length]) => {
    const Ctor = TYPED[t];
    if (!Ctor) throw new Error(`host frame has an unknown array type ${JSON.stringify(t)}`);
    const byteLength = length * Ctor.BYTES_PER_ELEMENT;
    if (at + byteLength > bytes.byteLength) throw new Error('host frame is corrupt');
    const abs = bytes.byteOffset + at;
    const arr = abs % Ctor.BYTES_PER_ELEMENT === 0 ? new Ctor(bytes.buffer as ArrayBuffer, abs, length) : new Ctor(bytes.slice(at, at + byteLength).buffer);
    at = pad(at + byteLength);
    return arr;
  });
  return revive(m, arrays) as WireReply;
}

function revive(v: unknown, arrays: Typed[]): unknown {
  if (!v || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((x) => revive(x, arrays));
  const o = v as Record<string, unknown>;
  if (typeof o.$ta === 'number' && Object.keys(o).length === 1) return arrays[o.$ta];
  for (const k of Object.keys(o)) o[k] = revive(o[k], arrays);
  return o;
}

/** The WebSocket path of the browser-mode host API. */
export const HOST_WS_PATH = '/api';

/**
 * The browser-mode WebSocket subprotocols: the client offers both, the server
 * picks HOST_WS_PROTOCOL. The token travels in the second one (a header, never
 * a URL), so it stays out of history, logs and anything that records URLs.
 */
export const HOST_WS_PROTOCOL = 'attn.v1';
const TOKEN_PROTOCOL_PREFIX = 'attn.token.';

export function socketProtocols(token: string): string[] {
  return [HOST_WS_PROTOCOL, `${TOKEN_PROTOCOL_PREFIX}${token}`];
}

/** The token a client offered in its Sec-WebSocket-Protocol header, if any. */
export function tokenFromProtocols(protocols: Iterable<string>): string | undefined {
  for (const p of protocols) if (p.startsWith(TOKEN_PROTOCOL_PREFIX)) return p.slice(TOKEN_PROTOCOL_PREFIX.length);
  return undefined;
}
