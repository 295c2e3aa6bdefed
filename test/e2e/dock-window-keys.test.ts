// The detached dock's window hears the shortcuts and shows the dialogs asked
// for there (browser mode, headless Chromium, a real second window, real keys
// and clicks): F1's list, Undo/Redo on the graph, and New's unsaved-changes
// question open in the dock's window, not behind it in the main one.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { browserModeSuite, nodeIds, openEditor, openFile, ROOT, skipReason, textIncludes } from './harness.js';
import { fitWhole } from './canvas-page.js';

const skip = skipReason();
if (skip) console.log(`# NOTICE: ${skip}`);

const TEMPLATE = 'mlp.attn.json';

const count = (page: Page, testId: string) => page.getByTestId(testId).count();

describe("the detached dock's window: shortcuts and dialogs (browser mode, headless Chromium)", { skip, timeout: 120_000 }, () => {
  const env = browserModeSuite(async (workspace) => {
    await copyFile(path.join(ROOT, 'templates', TEMPLATE), path.join(workspace, TEMPLATE));
  });

  test('keys pressed in the dock window act there: help, undo/redo, and the New prompt in that window', async () => {
    const { context, page, errors } = await openEditor(env.browser, env.server.url);
    try {
      await openFile(page, TEMPLATE, 'node-image');
      await fitWhole(page); // the whole graph in view, as the gestures below assume
      const template = await nodeIds(page);
      // One unsaved edit in the main window.
      await page.getByTestId('palette-item-core.flatten').dblclick();
      await page.getByTestId('dirty-marker').waitFor();
      const edited = await nodeIds(page);
      assert.equal(edited.length, template.length + 1);

      await page.getByTestId('dock-tab-runs').click();
      const [dockPage] = await Promise.all([context.waitForEvent('page'), page.getByTestId('dock-detach').click()]);
      dockPage.setDefaultTimeout(15_000);
      const errorsThere: string[] = [];
      dockPage.on('pageerror', (e) => errorsThere.push(e.message));
      await dockPage.getByTestId('runs-panel').waitFor();
      // The user's hand is now in the dock's window.
      await dockPage.getByTestId('runs-panel').click();

      // F1: the shortcut list opens in the dock's window; Escape there closes it.
      await dockPage.keyboard.press('F1');
      await dockPage.getByTestId('help-dialog').waitFor();
      assert.equal(await count(page, 'help-dialog'), 0, 'not in the main window');
      await dockPage.keyboard.press('Escape');
      await dockPage.getByTestId('help-dialog').waitFor({ state: 'detached' });

      // Undo and redo reach the graph in the main window.
      await dockPage.keyboard.press('Control+z');
      await page.getByTestId('dirty-marker').waitFor({ state: 'detached' });
      assert.deepEqual(await nodeIds(page), template);
      await dockPage.keyboard.press('Control+Shift+z');
      await page.getByTestId('dirty-marker').waitFor();
      assert.deepEqual(await nodeIds(page), edited);

      // Canvas keys stay with the canvas: Delete in the dock's window deletes nothing.
      await page.getByTestId('canvas').click();
      await page.keyboard.press('Control+a');
      await page.waitForFunction(textIncludes, ['statusbar', `${edited.length} selected`] as const);
      await dockPage.getByTestId('runs-panel').click();
      await dockPage.keyboard.press('Delete');
      await dockPage.waitForTimeout(300);
      assert.deepEqual(await nodeIds(page), edited);

      // New with unsaved work asks in the dock's window; Cancel keeps the graph, Discard empties it.
      await dockPage.keyboard.press('Control+n');
      await dockPage.getByTestId('confirm-dialog').waitFor();
      assert.equal(await count(page, 'confirm-dialog'), 0, 'the question is not hidden in the main window');
      await dockPage.getByTestId('confirm-cancel').click();
      await dockPage.getByTestId('confirm-dialog').waitFor({ state: 'detached' });
      assert.deepEqual(await nodeIds(page), edited);
      await dockPage.keyboard.press('Control+n');
      await dockPage.getByTestId('confirm-ok').click();
      await page.waitForFunction(
        () =>
          (globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } }).document.querySelectorAll(
            '[data-testid^="node-"][data-type]',
          ).length === 0,
      );

      // Back in the main window, its dialogs are its own again.
      await page.getByTestId('canvas').click();
      await page.keyboard.press('F1');
      await page.getByTestId('help-dialog').waitFor();
      assert.equal(await count(dockPage, 'help-dialog'), 0);
      await page.keyboard.press('Escape');
      assert.deepEqual(errors, []);
      assert.deepEqual(errorsThere, []);
    } finally {
      await context.close();
    }
  });
});
