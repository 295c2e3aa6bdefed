// Files in the browser mode, end to end: Open Recent from the toolbar (the
// browser has no native menu) opens the file itself; a recent file that is gone
// says so and leaves the list; Clear Recent; and the page asks before it is
// closed with unsaved work (beforeunload), not once the work is saved.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Dialog, Page } from 'playwright-core';
import { serializeGraph } from '../../engine/graph/schema.js';
import { tinyGraph } from '../host-fixtures.js';
import { browserModeSuite, openFile, skipReason, withEditor } from './harness.js';
import { fitWhole, shows } from './canvas-page.js';

const skip = skipReason();
if (skip) console.log(`# NOTICE: ${skip}`);

const titleIs = (page: Page, name: string) => shows(page, 'doc-title', name);

async function openThroughDialog(page: Page, name: string): Promise<void> {
  await openFile(page, name);
  await fitWhole(page);
  await titleIs(page, name);
}

async function recentEntries(page: Page): Promise<string[]> {
  await page.getByTestId('cmd-file.openRecent').click();
  const menu = page.getByTestId('recent-menu');
  await menu.waitFor();
  // The list comes from the host each time the menu opens.
  await menu.locator('li').first().waitFor();
  return menu.locator('[data-testid^="recent-entry-"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')!.slice('recent-entry-'.length)));
}

describe('files in browser mode (headless Chromium)', { skip, timeout: 120_000 }, () => {
  const env = browserModeSuite(async (workspace) => {
    for (const name of ['first', 'second']) await writeFile(path.join(workspace, `${name}.attn.json`), serializeGraph(tinyGraph(name)));
  });

  test('Open Recent opens the chosen file directly; a file that is gone says so and leaves the list; Clear Recent empties it', async () => {
    await withEditor(env, async ({ page, errors }) => {
      await openThroughDialog(page, 'first.attn.json');
      await openThroughDialog(page, 'second.attn.json');
      assert.deepEqual(await recentEntries(page), ['second.attn.json', 'first.attn.json']);

      await page.getByTestId('recent-entry-first.attn.json').click();
      await titleIs(page, 'first.attn.json');
      assert.equal(await page.getByTestId('file-dialog-open').count(), 0, 'no file dialog in between');
      assert.equal(await page.getByTestId('recent-menu').count(), 0, 'the menu closes');
      await page.getByTestId('node-fc').waitFor();

      await rm(path.join(env.server.workspace, 'second.attn.json'));
      assert.deepEqual(await recentEntries(page), ['first.attn.json', 'second.attn.json']);
      await page.getByTestId('recent-entry-second.attn.json').click();
      const problem = page.getByTestId('load-diagnostic');
      await problem.waitFor();
      assert.equal(await problem.textContent(), 'error: cannot read second.attn.json: no such file');
      await page.getByTestId('toast-error').filter({ hasText: 'removed from Open Recent' }).waitFor();
      assert.equal(await page.getByTestId('doc-title').textContent(), 'first.attn.json', 'the open graph stays');
      await page.getByTestId('dialog-close').click();
      assert.deepEqual(await recentEntries(page), ['first.attn.json']);

      await page.getByTestId('recent-clear').click();
      await page.getByTestId('recent-empty').waitFor();
      assert.equal(await page.locator('[data-testid^="recent-entry-"]').count(), 0);
      await page.keyboard.press('Escape');
      await page.getByTestId('recent-menu').waitFor({ state: 'detached' });
      assert.deepEqual(await recentEntries(page), []);
      assert.deepEqual(errors, []);
    });
  });

  test('closing the page with unsaved work asks first; once saved it closes without asking', async () => {
    await withEditor(env, async ({ page }) => {
      await openThroughDialog(page, 'first.attn.json');
      await page.getByTestId('palette-item-core.flatten').dblclick();
      await page.getByTestId('dirty-marker').waitFor();

      const asked = new Promise<Dialog>((resolve) => page.once('dialog', resolve));
      await page.close({ runBeforeUnload: true });
      const dialog = await asked;
      assert.equal(dialog.type(), 'beforeunload');
      await dialog.dismiss(); // Stay on the page
      await page.getByTestId('dirty-marker').waitFor();
      assert.equal(page.isClosed(), false);

      await page.getByTestId('cmd-file.save').click();
      await page.getByTestId('dirty-marker').waitFor({ state: 'detached' });
      let promptedAgain = false;
      page.once('dialog', (d) => {
        promptedAgain = true;
        void d.accept();
      });
      const closed = new Promise((resolve) => page.once('close', resolve));
      await page.close({ runBeforeUnload: true });
      await closed;
      assert.equal(promptedAgain, false);
    });
  });
});
