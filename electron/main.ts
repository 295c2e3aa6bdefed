// The desktop shell: one window, the menu, native dialogs, the training process,
// and the security settings. Everything the renderer asks for is done by the
// same HostService that browser mode uses; this file only wires it to IPC.
import { app, BrowserWindow, dialog, ipcMain, Menu, net, protocol, session, shell, type WebContents } from 'electron';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { APP_ROOT, APP_VERSION, RENDERER_DIR, TEMPLATES_DIR } from './app-root.js';
import { contentSecurityPolicy, SECURITY_HEADERS } from './csp.js';
import { afterChoice, CLOSE_AFTER_SAVE, closeChoice, closePrompt } from './close-prompt.js';
import type { HostEvent, MenuCommand } from '../common/host-api/api.js';
import { absolutePaths } from './host/paths.js';
import { HostService, type Dialogs } from './host/service.js';
import { handleHostCall, TOUCHES_RECENT } from './ipc.js';
import { menuTemplate } from './menu.js';
import { ProcessTrainingDriver } from './host/training.js';
import { utilityInspect, utilityTraining } from './training-utility.js';
import { engineExporter } from './host/exporter.js';
import {
  APP_ORIGIN,
  APP_SCHEME,
  appFilePath,
  EVENT_CHANNEL,
  HOST_CHANNEL,
  isAllowedNavigation,
  isExternalLink,
  rendererOrigin,
  windowOpenResponse,
  windowOptions,
} from './security.js';

/** Set by `npm run dev` to the Vite dev server, for hot reload. */
const DEV_URL = process.env.ATTN_DEV_URL;
const ORIGIN = rendererOrigin(DEV_URL);
const PRELOAD = path.join(APP_ROOT, 'dist', 'electron', 'preload.cjs');
const TRAINING_ENTRY = path.join(APP_ROOT, 'dist', 'electron', 'training-entry.js');
const GRAPH_FILTERS = [
  { name: 'Attention Studio graph', extensions: ['attn.json'] },
  { name: 'All files', extensions: ['*'] },
];

protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
app.enableSandbox();

let win: BrowserWindow | null = null;

function serveApp(): void {
  protocol.handle(APP_SCHEME, async (req) => {
    const file = appFilePath(req.url, RENDERER_DIR, path.join, path.sep);
    if (!file) return new Response('not found', { status: 404 });
    const res = await net.fetch(pathToFileURL(file).href).catch(() => null);
    if (!res || !res.ok) return new Response('not found', { status: 404 });
    const headers = new Headers(res.headers);
    headers.set('Content-Security-Policy', contentSecurityPolicy());
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) headers.set(k, v);
    return new Response(res.body, { status: 200, headers });
  });
}

function lockDown(): void {
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  app.on('web-contents-created', (_e, contents: WebContents) => {
    contents.on('will-navigate', (e, url) => {
      if (!isAllowedNavigation(url, ORIGIN)) e.preventDefault();
    });
    contents.on('will-redirect', (e, url) => {
      if (!isAllowedNavigation(url, ORIGIN)) e.preventDefault();
    });
    contents.on('will-attach-webview', (e) => e.preventDefault());
    contents.setWindowOpenHandler(({ url, frameName }) => {
      const response = windowOpenResponse(url, frameName);
      if (response.action === 'deny' && isExternalLink(url)) void shell.openExternal(url);
      return response;
    });
  });
}

function dialogs(): Dialogs {
  return {
    async openGraph() {
      const r = await dialog.showOpenDialog(win!, { title: 'Open graph', filters: GRAPH_FILTERS, properties: ['openFile'] });
      return r.canceled || !r.filePaths[0] ? null : r.filePaths[0];
    },
    async saveGraph(suggestedName) {
      const r = await dialog.showSaveDialog(win!, { title: 'Save graph', defaultPath: suggestedName, filters: GRAPH_FILTERS });
      return r.canceled || !r.filePath ? null : r.filePath;
    },
  };
}

function send(event: HostEvent): void {
  if (win && !win.isDestroyed()) win.webContents.send(EVENT_CHANNEL, event);
}

async function buildMenu(service: HostService): Promise<void> {
  const recent = await service.recent.recentFiles();
  const template = menuTemplate({
    platform: process.platform,
    appName: app.name,
    recent,
    dev: Boolean(DEV_URL),
    send: (command: MenuCommand, arg?: string) => send({ channel: 'menu', command, arg }),
    clearRecent: () => void service.recent.clearRecentFiles().then(() => buildMenu(service)),
  });
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}

function createWindow(): BrowserWindow {
  const w = new BrowserWindow(windowOptions(PRELOAD));
  w.once('ready-to-show', () => w.show());
  // The renderer refuses to unload unsaved work (`beforeunload`): ask Save / Don't Save / Cancel.
  // A reload (dev mode) asks too; Save then saves without closing the window.
  let closing = false;
  w.on('close', () => (closing = true));
  w.webContents.on('will-prevent-unload', (e) => {
    const wasClosing = closing;
    closing = false;
    const next = afterChoice(closeChoice(dialog.showMessageBoxSync(w, closePrompt(w.getTitle()))));
    if (next.unload) e.preventDefault();
    else if (next.saveThenClose) send({ channel: 'menu', command: 'file.save', arg: wasClosing ? CLOSE_AFTER_SAVE : undefined });
  });
  void w.loadURL(DEV_URL ?? `${APP_ORIGIN}/index.html`);
  return w;
}

async function main(): Promise<void> {
  await app.whenReady();
  lockDown();
  serveApp();
  const userData = app.getPath('userData');
  const service = new HostService({
    mode: 'desktop',
    version: APP_VERSION,
    paths: absolutePaths(),
    stateDir: userData,
    templatesDir: TEMPLATES_DIR,
    runsDir: path.join(userData, 'runs'),
    dialogs: dialogs(),
    training: new ProcessTrainingDriver(utilityTraining(TRAINING_ENTRY)),
    inspect: utilityInspect(TRAINING_ENTRY),
    exporter: engineExporter,
  });
  service.onEvent(send);
  ipcMain.handle(HOST_CHANNEL, async (e, method: unknown, request: unknown) => {
    const frame = e.senderFrame;
    const sender = frame && { url: frame.url, isMainFrame: frame.parent === null };
    const reply = await handleHostCall(service, sender, ORIGIN, method, request);
    if (reply.ok && typeof method === 'string' && TOUCHES_RECENT.has(method)) void buildMenu(service);
    return reply;
  });
  await buildMenu(service);
  win = createWindow();
  win.on('closed', () => (win = null));

  app.on('window-all-closed', () => {
    void service.dispose().finally(() => app.quit());
  });
  app.on('activate', () => {
    if (!win) win = createWindow();
  });
}

void main();
