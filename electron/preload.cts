// The preload bridge: the only thing the sandboxed renderer gets from the main
// process. Two functions, no Node, no ipcRenderer handed out. A sandboxed
// preload must be CommonJS, hence .cts.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { HostEvent } from '../common/host-api/api.js';

// Kept in step with HOST_CHANNEL and EVENT_CHANNEL in security.ts (a sandboxed preload cannot import it).
const HOST_CHANNEL = 'attn:host';
const EVENT_CHANNEL = 'attn:event';

contextBridge.exposeInMainWorld('attnHost', {
  invoke: (method: string, request: unknown) => ipcRenderer.invoke(HOST_CHANNEL, String(method), request),
  onEvent(listener: (event: HostEvent) => void) {
    const handler = (_e: IpcRendererEvent, event: HostEvent) => listener(event);
    ipcRenderer.on(EVENT_CHANNEL, handler);
    return () => void ipcRenderer.removeListener(EVENT_CHANNEL, handler);
  },
});
