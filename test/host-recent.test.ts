// Open Recent from the host's side: the list the service keeps, a file that is
// gone (clear message, dropped from the list), Clear Recent, and the desktop
// menu built from that list.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { MenuItemConstructorOptions } from 'electron';
import type { GraphLoad, MenuCommand, RecentFile } from '../common/host-api/api.js';
import { TOUCHES_RECENT } from '../electron/ipc.js';
import { menuTemplate } from '../electron/menu.js';
import { sandbox, tinyGraph } from './host-fixtures.js';

const recentPaths = async (dispatch: (m: string, r: unknown) => Promise<unknown>) => ((await dispatch('recentFiles', {})) as RecentFile[]).map((r) => r.path);

for (const mode of ['browser', 'desktop'] as const) {
  test(`${mode} mode: a recent file opens by its path; a file that is gone says so and leaves the list; Clear Recent empties it`, async () => {
    const s = await sandbox(mode);
    const dispatch = (m: string, r: unknown) => s.service.dispatch(m, r);
    // Browser mode names files inside the workspace, the desktop app by absolute path.
    const name = (f: string) => (mode === 'browser' ? f : path.join(s.workspace, f));
    try {
      await dispatch('saveFile', { path: name('a.attn.json'), graph: tinyGraph('a') });
      await dispatch('saveFile', { path: name('b.attn.json'), graph: tinyGraph('b') });
      assert.deepEqual(await recentPaths(dispatch), [name('b.attn.json'), name('a.attn.json')]);

      const again = (await dispatch('openFile', { path: name('a.attn.json') })) as GraphLoad;
      assert.equal(again.graph?.name, 'a');
      assert.deepEqual(await recentPaths(dispatch), [name('a.attn.json'), name('b.attn.json')], 'opened last comes first');

      await rm(path.join(s.workspace, 'b.attn.json'));
      const gone = (await dispatch('openFile', { path: name('b.attn.json') })) as GraphLoad;
      assert.equal(gone.graph, undefined);
      assert.deepEqual(
        gone.diagnostics.map((d) => d.message),
        [`cannot read ${name('b.attn.json')}: no such file`],
      );
      assert.deepEqual(await recentPaths(dispatch), [name('a.attn.json')]);

      await dispatch('clearRecentFiles', {});
      assert.deepEqual(await recentPaths(dispatch), []);
    } finally {
      await s.cleanup();
    }
  });
}

test('the desktop Open Recent menu lists the service’s files, opens each by its path, and is rebuilt after the calls that change the list', async () => {
  const s = await sandbox('desktop');
  try {
    const file = path.join(s.workspace, 'se.attn.json');
    await s.service.dispatch('saveFileAs', { path: file, graph: tinyGraph('se') });
    const sent: [MenuCommand, string | undefined][] = [];
    let cleared = 0;
    const openRecent = (recent: RecentFile[]) => {
      const file = menuTemplate({
        platform: 'linux',
        appName: 'Attention Studio',
        recent,
        send: (c, a) => sent.push([c, a]),
        clearRecent: () => cleared++,
        dev: false,
      })[0];
      const submenu = (file.submenu as MenuItemConstructorOptions[]).find((i) => i.label === 'Open Recent')!.submenu as MenuItemConstructorOptions[];
      return submenu;
    };
    const items = openRecent(await s.service.recent.recentFiles());
    assert.deepEqual(
      items.map((i) => i.label ?? i.type),
      ['se', 'separator', 'Clear Recent'],
    );
    items[0].click!({} as never, undefined, {} as never);
    assert.deepEqual(sent, [['file.openRecent', file]]);
    items[2].click!({} as never, undefined, {} as never);
    assert.equal(cleared, 1);

    await s.service.recent.clearRecentFiles();
    const empty = openRecent(await s.service.recent.recentFiles());
    assert.deepEqual(
      empty.map((i) => [i.label, i.enabled]),
      [['No Recent Files', false]],
    );
    for (const m of ['openFile', 'readGraph', 'saveFile', 'saveFileAs', 'writeGraph', 'clearRecentFiles']) assert.ok(TOUCHES_RECENT.has(m), m);
  } finally {
    await s.cleanup();
  }
});
