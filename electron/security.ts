// The desktop shell's security decisions as plain functions and data, so that
// they can be tested without the Electron binary (type imports only here).
// Follows Electron's security checklist: isolated, sandboxed renderer without
// Node; the app's own origin only; IPC only from our frame; no new windows but
// the detached dock's, no navigation away, no permissions.
import type { BrowserWindowConstructorOptions, WebPreferences } from 'electron';
import { DOCK_WINDOW_NAME } from '../common/host-api/windows.js';

/** The renderer is served from this privileged custom scheme, never file://. */
export const APP_SCHEME = 'app';
export const APP_HOST = 'attention-studio';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;

export const HOST_CHANNEL = 'attn:host';
export const EVENT_CHANNEL = 'attn:event';

export function webPreferences(preload: string): WebPreferences {
  return {
    preload,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    webviewTag: false,
    navigateOnDragDrop: false,
    safeDialogs: true,
    spellcheck: false,
  };
}

export function windowOptions(preload: string): BrowserWindowConstructorOptions {
  return {
    width: 1440,
    height: 900,
    minWidth: 900,
    minHeight: 600,
    show: false,
    title: 'Attention Studio',
    backgroundColor: '#1e1f24',
    webPreferences: webPreferences(preload),
  };
}

/**
 * The detached dock's window: blank and same-origin, rendered into by the main
 * window, so it needs no preload (and its frame, about:blank, is refused by the
 * host API anyway). Otherwise the main window's settings: isolated, sandboxed;
 * the page's Content-Security-Policy carries over to about:blank.
 */
export function dockWindowOptions(): BrowserWindowConstructorOptions {
  const { preload: _none, ...prefs } = webPreferences('');
  return { width: 1000, height: 720, minWidth: 480, minHeight: 320, title: 'Attention Studio — dock', backgroundColor: '#1e1f24', webPreferences: prefs };
}

export type WindowOpenResponse = { action: 'deny' } | { action: 'allow'; overrideBrowserWindowOptions: BrowserWindowConstructorOptions };

/** `window.open` from the renderer: the dock's blank window is allowed, everything else refused. */
export function windowOpenResponse(url: string, frameName: string): WindowOpenResponse {
  if (frameName === DOCK_WINDOW_NAME && (url === 'about:blank' || url === '')) return { action: 'allow', overrideBrowserWindowOptions: dockWindowOptions() };
  return { action: 'deny' };
}

/** The origin the renderer is loaded from: the app scheme, or the Vite dev server in `npm run dev`. */
export function rendererOrigin(devUrl?: string): string {
  return devUrl ? new URL(devUrl).origin : APP_ORIGIN;
}

function originOf(url: string): string | undefined {
  try {
    const u = new URL(url);
    // Custom standard schemes give "null" for .origin in Node's URL; build it ourselves.
    return `${u.protocol}//${u.host}`;
  } catch {
    return undefined;
  }
}

/** IPC is answered only for the main frame of our own page (not an iframe, not a page navigated elsewhere). */
export function isTrustedSender(sender: { url: string; isMainFrame: boolean } | null | undefined, origin: string): boolean {
  return Boolean(sender && sender.isMainFrame && originOf(sender.url) === origin);
}

/** In-page navigation (reload, hash) stays on our origin; everything else is refused. */
export function isAllowedNavigation(url: string, origin: string): boolean {
  return originOf(url) === origin;
}

/** External links the user clicks go to the system browser, and only these kinds. */
export function isExternalLink(url: string): boolean {
  try {
    return ['https:', 'http:', 'mailto:'].includes(new URL(url).protocol);
  } catch {
    return false;
  }
}

/** Maps a request for app://attention-studio/<path> to a file under `root`, or undefined when it leaves it. */
export function appFilePath(url: string, root: string, join: (...p: string[]) => string, sep: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  if (`${u.protocol}//${u.host}` !== APP_ORIGIN) return undefined;
  let rel: string;
  try {
    rel = decodeURIComponent(u.pathname);
  } catch {
    return undefined;
  }
  if (rel === '/' || rel === '') rel = '/index.html';
  const parts = rel.split('/').filter((p) => p && p !== '.');
  if (parts.some((p) => p === '..' || p.includes('\\') || p.includes('\0'))) return undefined;
  const file = join(root, ...parts);
  return file.startsWith(root.endsWith(sep) ? root : root + sep) ? file : undefined;
}
