// The renderer's HostApi. In the desktop app the preload script puts a bridge on
// `window.attnHost` (IPC to the main process); in browser mode the same calls go
// over a WebSocket to `npm run serve`, authenticated by the token the page was
// opened with (see takeToken).
// Either way the renderer sees one interface and never touches Node or Electron.
import { HOST_METHODS, type HostApi, type HostEvent, type HostMethod, type Unsubscribe } from '../../common/host-api/api.js';
import { decodeFrame, HOST_WS_PATH, socketProtocols, type WireRequest } from '../../common/host-api/wire.js';

/** What electron/preload.ts exposes through contextBridge. */
export interface PreloadBridge {
  invoke(method: string, request: unknown): Promise<{ ok: true; value: unknown } | { ok: false; message: string }>;
  onEvent(listener: (event: HostEvent) => void): Unsubscribe;
}

declare global {
  interface Window {
    attnHost?: PreloadBridge;
  }
}

/** A transport: send one call, and deliver events to one sink. */
interface Transport {
  call(method: HostMethod, request: unknown): Promise<unknown>;
  events: EventHub;
}

class EventHub {
  private readonly listeners = new Set<(event: HostEvent) => void>();
  add(listener: (event: HostEvent) => void): Unsubscribe {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }
  emit(event: HostEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (err) {
        console.error('host event listener failed', err);
      }
    }
  }
}

function bridgeTransport(bridge: PreloadBridge): Transport {
  const events = new EventHub();
  bridge.onEvent((e) => events.emit(e));
  return {
    events,
    async call(method, request) {
      const r = await bridge.invoke(method, request);
      if (!r.ok) throw new Error(r.message);
      return r.value;
    },
  };
}

/** Browser mode. Connects lazily, reconnects on the next call after a drop, rejects calls in flight when the socket closes. */
class SocketTransport implements Transport {
  readonly events = new EventHub();
  private socket?: WebSocket;
  private opening?: Promise<WebSocket>;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; method: string }>();

  constructor(
    private readonly url: string,
    private readonly token: string,
  ) {}

  async call(method: HostMethod, request: unknown): Promise<unknown> {
    const ws = await this.open();
    const id = this.nextId++;
    const msg: WireRequest = { id, method, request };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, method });
      ws.send(JSON.stringify(msg));
    });
  }

  /** Opens the socket now (events flow only while it is open). */
  connect(): Promise<WebSocket> {
    return this.open();
  }

  private open(): Promise<WebSocket> {
    if (this.socket?.readyState === WebSocket.OPEN) return Promise.resolve(this.socket);
    this.opening ??= new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(this.url, socketProtocols(this.token));
      ws.binaryType = 'arraybuffer';
      let opened = false;
      ws.onopen = () => {
        opened = true;
        this.socket = ws;
        this.opening = undefined;
        resolve(ws);
      };
      ws.onmessage = (e) => this.receive(e.data);
      ws.onclose = (e) => {
        this.opening = undefined;
        if (this.socket === ws) this.socket = undefined;
        // A refused upgrade reaches the page only as 1006, before open; the server says why in its 403 (see the network panel).
        const why = opened
          ? `the connection to the host closed (${e.code}${e.reason ? `: ${e.reason}` : ''})`
          : 'could not connect to the host: is `npm run serve` still running? A restarted server has a new token: open the address it printed';
        reject(new Error(why));
        for (const [id, p] of this.pending) {
          p.reject(new Error(`${p.method}: ${why}`));
          this.pending.delete(id);
        }
      };
    });
    return this.opening;
  }

  private receive(data: unknown): void {
    if (!(data instanceof ArrayBuffer)) return; // the host speaks binary frames only
    const msg = decodeFrame(data);
    if (msg.kind === 'event') return this.events.emit(msg.event);
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (msg.kind === 'result') p.resolve(msg.value);
    else p.reject(new Error(msg.message));
  }
}

function makeApi(t: Transport): HostApi {
  const api = { onEvent: (listener: (e: HostEvent) => void) => t.events.add(listener) } as Record<string, unknown>;
  for (const m of HOST_METHODS) api[m] = (request?: unknown) => t.call(m, request ?? {});
  return api as unknown as HostApi;
}

const TOKEN_KEY = 'attn.token';

type PageWindow = Pick<Window, 'location' | 'history' | 'sessionStorage'>;

/**
 * The browser-mode token: taken from the address the page was opened with
 * (`?token=…`), kept in this tab's sessionStorage so that a reload still
 * connects, and removed from the address bar and this session history entry
 * (so bookmarks, screenshots and copied links do not carry it). sessionStorage
 * is bound to this origin, port included, and to this tab; a cookie would go
 * to every server on 127.0.0.1.
 */
export function takeToken(win: PageWindow): string | undefined {
  const url = new URL(win.location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    try {
      win.sessionStorage.setItem(TOKEN_KEY, fromUrl);
    } catch {
      // Storage disabled: this page load still connects; a reload will need the printed address again.
    }
    url.searchParams.delete('token');
    win.history.replaceState(win.history.state, '', url.pathname + url.search + url.hash);
    return fromUrl;
  }
  try {
    return win.sessionStorage.getItem(TOKEN_KEY) ?? undefined;
  } catch {
    return undefined;
  }
}

/** The WebSocket URL of the host API for a page served by browser mode. */
export function socketUrl(loc: Pick<Location, 'protocol' | 'host'>): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}${HOST_WS_PATH}`;
}

export class NoHostError extends Error {
  constructor() {
    super('no host: open the URL that `npm run serve` printed (it carries the access token), or run the desktop app');
    this.name = 'NoHostError';
  }
}

/** The HostApi for this page: the preload bridge when present, else the browser-mode WebSocket. */
export function createHostClient(win: Window = window): HostApi {
  if (win.attnHost) return makeApi(bridgeTransport(win.attnHost));
  const token = takeToken(win);
  if (!token) throw new NoHostError();
  const transport = new SocketTransport(socketUrl(win.location), token);
  // Open at once so events (menu commands, training) flow before the first call.
  transport.connect().catch(() => undefined);
  return makeApi(transport);
}
