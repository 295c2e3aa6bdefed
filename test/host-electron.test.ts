// The desktop shell's security settings, IPC checks and menu, tested as the pure
// modules they are (the Electron binary is not installed on CI).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import type { MenuItemConstructorOptions } from 'electron';
import { MENU_COMMANDS, type MenuCommand } from '../common/host-api/api.js';
import { handleHostCall } from '../electron/ipc.js';
import { menuTemplate } from '../electron/menu.js';
import {
  APP_ORIGIN,
  appFilePath,
  EVENT_CHANNEL,
  HOST_CHANNEL,
  isAllowedNavigation,
  isExternalLink,
  isTrustedSender,
  rendererOrigin,
  webPreferences,
  windowOptions,
} from '../electron/security.js';
import { sandbox, tinyGraph } from './host-fixtures.js';

test('the window follows the security checklist', () => {
  const wp = windowOptions('/app/preload.cjs').webPreferences!;
  assert.deepEqual(wp, webPreferences('/app/preload.cjs'));
  assert.equal(wp.contextIsolation, true);
  assert.equal(wp.sandbox, true);
  assert.equal(wp.nodeIntegration, false);
  assert.equal(wp.nodeIntegrationInWorker, false);
  assert.equal(wp.nodeIntegrationInSubFrames, false);
  assert.equal(wp.webSecurity, true);
  assert.equal(wp.allowRunningInsecureContent, false);
  assert.equal(wp.webviewTag, false);
  assert.equal(wp.experimentalFeatures, false);
  assert.equal(wp.preload, '/app/preload.cjs');
});

test('IPC is answered only for the main frame of our own origin', () => {
  assert.equal(rendererOrigin(), APP_ORIGIN);
  assert.equal(rendererOrigin('http://127.0.0.1:5173/'), 'http://127.0.0.1:5173');
  const ok = { url: `${APP_ORIGIN}/index.html`, isMainFrame: true };
  assert.equal(isTrustedSender(ok, APP_ORIGIN), true);
  assert.equal(isTrustedSender({ ...ok, isMainFrame: false }, APP_ORIGIN), false, 'an iframe');
  assert.equal(isTrustedSender({ url: 'https://evil.example/', isMainFrame: true }, APP_ORIGIN), false);
  assert.equal(isTrustedSender({ url: 'app://attention-studio.evil/index.html', isMainFrame: true }, APP_ORIGIN), false);
  assert.equal(isTrustedSender({ url: 'file:///etc/passwd', isMainFrame: true }, APP_ORIGIN), false);
  assert.equal(isTrustedSender({ url: 'not a url', isMainFrame: true }, APP_ORIGIN), false);
  assert.equal(isTrustedSender(null, APP_ORIGIN), false);
  assert.equal(isTrustedSender({ url: 'http://127.0.0.1:5173/', isMainFrame: true }, 'http://127.0.0.1:5173'), true);
  assert.equal(isTrustedSender({ url: 'http://127.0.0.1:5174/', isMainFrame: true }, 'http://127.0.0.1:5173'), false);
});

test('navigation away and new windows are refused; only web and mail links go to the system browser', () => {
  assert.equal(isAllowedNavigation(`${APP_ORIGIN}/index.html#x`, APP_ORIGIN), true);
  for (const url of ['https://example.com/', 'file:///etc/passwd', 'app://other/index.html', 'javascript:alert(1)', ''])
    assert.equal(isAllowedNavigation(url, APP_ORIGIN), false, url);
  assert.equal(isExternalLink('https://arxiv.org/abs/1709.01507'), true);
  assert.equal(isExternalLink('file:///bin/sh'), false);
  assert.equal(isExternalLink('smb://host/share'), false);
});

test('the app scheme serves files of the renderer folder only', () => {
  const root = '/opt/attn/dist/renderer';
  const p = (url: string) => appFilePath(url, root, path.posix.join, '/');
  assert.equal(p(`${APP_ORIGIN}/`), `${root}/index.html`);
  assert.equal(p(`${APP_ORIGIN}/assets/index-abc.js?x=1`), `${root}/assets/index-abc.js`);
  assert.equal(p(`${APP_ORIGIN}/../../etc/passwd`), `${root}/etc/passwd`, 'URL parsing already removes the dots');
  assert.equal(p(`${APP_ORIGIN}/%2e%2e/%2e%2e/etc/passwd`), `${root}/etc/passwd`, 'encoded dots too');
  assert.equal(p(`${APP_ORIGIN}/index.html%00.png`), undefined);
  assert.equal(p(`${APP_ORIGIN}/a%5c..%5c..%5cx`), undefined);
  assert.equal(p('app://elsewhere/index.html'), undefined);
  assert.equal(p('https://attention-studio/index.html'), undefined);
});

test('IPC calls from a foreign frame are refused before the service runs; bad requests come back as messages', async () => {
  const s = await sandbox();
  try {
    const trusted = { url: `${APP_ORIGIN}/index.html`, isMainFrame: true };
    const req = { path: 'ipc.attn.json', graph: tinyGraph('ipc') };
    const refused = await handleHostCall(s.service, { url: 'https://evil.example/', isMainFrame: true }, APP_ORIGIN, 'saveFile', req);
    assert.deepEqual(refused, { ok: false, message: 'refused: this frame may not use the host API' });
    assert.deepEqual(await s.service.dispatch('listFiles', {}), { dir: '.', parent: undefined, entries: [] }, 'nothing was written');
    const saved = await handleHostCall(s.service, trusted, APP_ORIGIN, 'saveFile', req);
    assert.equal(saved.ok, true);
    const bad = await handleHostCall(s.service, trusted, APP_ORIGIN, 'saveFile', { path: 3 });
    assert.equal(bad.ok, false);
    assert.match((bad as { message: string }).message, /^bad request for saveFile: path/);
    const unknown = await handleHostCall(s.service, trusted, APP_ORIGIN, '__proto__', {});
    assert.match((unknown as { message: string }).message, /unknown host method/);
  } finally {
    await s.cleanup();
  }
});

function flatten(items: MenuItemConstructorOptions[]): MenuItemConstructorOptions[] {
  return items.flatMap((i) => [i, ...(Array.isArray(i.submenu) ? flatten(i.submenu) : [])]);
}

test('the menu has the File, Edit, View and Help items, each sending its command', () => {
  for (const platform of ['linux', 'darwin', 'win32'] as const) {
    const sent: [MenuCommand, string | undefined][] = [];
    let cleared = 0;
    const template = menuTemplate({
      platform,
      appName: 'Attention Studio',
      recent: [{ path: '/home/u/se.attn.json', name: 'se', openedAt: '2026-01-01T00:00:00Z' }],
      send: (c, arg) => sent.push([c, arg]),
      clearRecent: () => cleared++,
      dev: false,
    });
    const labels = template.map((m) => m.label ?? m.role);
    assert.deepEqual(
      labels.filter((l) => ['File', 'Edit', 'View', 'help'].includes(String(l))),
      ['File', 'Edit', 'View', 'help'],
      platform,
    );
    const all = flatten(template);
    const byLabel = (l: string) => all.find((i) => i.label === l);
    for (const l of [
      'New',
      'Open…',
      'Open Recent',
      'Save',
      'Save As…',
      'Export Code…',
      'Undo',
      'Redo',
      'Cut',
      'Copy',
      'Paste',
      'Duplicate',
      'Delete',
      'Select All',
      'Zoom In',
      'Zoom Out',
      'Fit Graph',
      'Palette',
      'Inspector',
      'Keyboard Shortcuts',
    ])
      assert.ok(byLabel(l), `${platform}: ${l}`);
    // Clicking every command item sends exactly its command; the ids are real commands.
    for (const i of all.filter((x) => x.click && x.id)) {
      assert.ok((MENU_COMMANDS as readonly string[]).includes(i.id!), i.id);
      i.click!({} as never, undefined, {} as never);
      assert.deepEqual(sent.pop(), [i.id, undefined]);
      assert.equal(i.registerAccelerator, false, 'the page owns the keys');
    }
    byLabel('se')!.click!({} as never, undefined, {} as never);
    assert.deepEqual(sent.pop(), ['file.openRecent', '/home/u/se.attn.json']);
    byLabel('Clear Recent')!.click!({} as never, undefined, {} as never);
    assert.equal(cleared, 1);
    assert.equal(
      all.some((i) => i.role === 'toggleDevTools'),
      false,
      'no developer tools outside npm run dev',
    );
  }
});

test('the preload bridge exposes two functions on the channels the main process listens on', async () => {
  const file = fileURLToPath(new URL('../electron/preload.cjs', import.meta.url));
  const exposed: Record<string, Record<string, (...a: unknown[]) => unknown>> = {};
  const invoked: unknown[][] = [];
  const listeners = new Map<string, (...a: unknown[]) => void>();
  const electron = {
    contextBridge: { exposeInMainWorld: (key: string, api: Record<string, (...a: unknown[]) => unknown>) => (exposed[key] = api) },
    ipcRenderer: {
      invoke: (...a: unknown[]) => (invoked.push(a), Promise.resolve({ ok: true, value: 1 })),
      on: (ch: string, h: (...a: unknown[]) => void) => listeners.set(ch, h),
      removeListener: (ch: string) => listeners.delete(ch),
    },
  };
  const module = { exports: {} };
  vm.runInNewContext(await readFile(file, 'utf8'), {
    require: (m: string) => (m === 'electron' ? electron : assert.fail(`preload requires ${m}`)),
    module,
    exports: module.exports,
  });
  assert.deepEqual(Object.keys(exposed), ['attnHost']);
  assert.deepEqual(Object.keys(exposed.attnHost).sort(), ['invoke', 'onEvent']);
  await exposed.attnHost.invoke('readGraph', { path: '/x.attn.json' });
  assert.deepEqual(invoked, [[HOST_CHANNEL, 'readGraph', { path: '/x.attn.json' }]]);
  const got: unknown[] = [];
  const off = exposed.attnHost.onEvent((e: unknown) => got.push(e)) as () => void;
  listeners.get(EVENT_CHANNEL)!({}, { channel: 'menu', command: 'file.save' });
  assert.deepEqual(got, [{ channel: 'menu', command: 'file.save' }]);
  off();
  assert.equal(listeners.has(EVENT_CHANNEL), false);
});
