// The one door into the host: every call from the desktop IPC (ipc.ts) and the
// browser-mode WebSocket (browser-server.ts) comes through `dispatch`, which
// validates the request against its zod schema in common/host-api/ and hands
// the parsed request to the handler that owns the method. Nothing reaches a
// handler unvalidated, and a method without a handler does not compile.
import { parseHostRequest, type HostEvent, type HostHandlers, type HostMethod, type HostRequestParsed, type Unsubscribe } from '../../common/host-api/api.js';

/** What a transport needs of the host: calls in, events out. */
export interface HostEndpoint {
  /** Validates an untrusted request and runs it. Throws HostRequestError or the handler's error. */
  dispatch(method: unknown, request: unknown): Promise<unknown>;
  onEvent(listener: (event: HostEvent) => void): Unsubscribe;
}

type AnyHandler = (request: HostRequestParsed<HostMethod>) => Promise<unknown>;

export class HostDispatcher {
  constructor(private readonly handlers: HostHandlers) {}

  async dispatch(method: unknown, request: unknown): Promise<unknown> {
    // parseHostRequest accepts only the schemas' own keys, so `method` cannot name anything else on `handlers`.
    const parsed = parseHostRequest(method, request);
    const handler = this.handlers[parsed.method] as AnyHandler;
    return handler(parsed.request);
  }
}
