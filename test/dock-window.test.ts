// The desktop shell's window.open policy: the detached dock's blank window opens
// with the main window's security settings; every other window is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DOCK_WINDOW_NAME } from '../common/host-api/windows.js';
import { isTrustedSender, webPreferences, windowOpenResponse, APP_ORIGIN } from '../electron/security.js';

test("the dock's blank window opens isolated and sandboxed, without the preload", () => {
  const r = windowOpenResponse('about:blank', DOCK_WINDOW_NAME);
  assert.equal(r.action, 'allow');
  const prefs = r.action === 'allow' ? r.overrideBrowserWindowOptions.webPreferences! : {};
  const { preload: _p, ...main } = webPreferences('/x/preload.cjs');
  assert.deepEqual(prefs, main, 'the same settings as the main window');
  assert.equal(prefs.contextIsolation, true);
  assert.equal(prefs.sandbox, true);
  assert.equal(prefs.nodeIntegration, false);
  assert.equal('preload' in prefs, false);
  // Its frame may not call the host: the dock reaches it through its opener.
  assert.equal(isTrustedSender({ url: 'about:blank', isMainFrame: true }, APP_ORIGIN), false);
});

test('any other window.open is refused', () => {
  for (const [url, name] of [
    ['about:blank', ''],
    ['about:blank', 'other'],
    [`${APP_ORIGIN}/index.html`, DOCK_WINDOW_NAME],
    ['https://example.com/', DOCK_WINDOW_NAME],
    ['https://example.com/', ''],
  ])
    assert.deepEqual(windowOpenResponse(url, name), { action: 'deny' }, `${url} as "${name}"`);
});
