// The desktop IPC handler as a pure function: the sender is checked, the request
// validated and routed by the host's dispatcher (host/dispatcher.ts), and the answer wrapped so that the
// renderer gets our error message rather than Electron's "Error invoking remote
// method" prefix.
import type { HostEndpoint } from './host/dispatcher.js';
import { isTrustedSender } from './security.js';

export type IpcReply = { ok: true; value: unknown } | { ok: false; message: string };

export async function handleHostCall(
  host: Pick<HostEndpoint, 'dispatch'>,
  sender: { url: string; isMainFrame: boolean } | null | undefined,
  origin: string,
  method: unknown,
  request: unknown,
): Promise<IpcReply> {
  if (!isTrustedSender(sender, origin)) return { ok: false, message: 'refused: this frame may not use the host API' };
  try {
    return { ok: true, value: await host.dispatch(method, request) };
  } catch (err) {
    return { ok: false, message: err instanceof Error ? err.message : String(err) };
  }
}

/** Methods whose success changes the recent-files list (the Open Recent menu is rebuilt after them). */
export const TOUCHES_RECENT: ReadonlySet<string> = new Set(['openFile', 'readGraph', 'saveFile', 'saveFileAs', 'writeGraph', 'clearRecentFiles']);
