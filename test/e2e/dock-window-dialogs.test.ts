// The detached dock's window is a place to work from (browser mode, headless
// Chromium, a real second window, real keys and clicks): Ctrl+C/X/V there copy,
// cut and paste the graph's selection; its Export… button and Ctrl+E open the
// Export dialog there (naming the pasted, unwired node); its New from template… opens the gallery there, and a
// template chosen there replaces the graph after asking there. Its buttons'
// characters all exist in the fonts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { browserModeSuite, copyTemplates, openEditor, openFile, skipReason, textIncludes } from './harness.js';
import { missingGlyphs } from './page-checks.js';

const skip = skipReason();
if (skip) console.log(`# NOTICE: ${skip}`);

const TEMPLATE = 'mlp.attn.json';

const count = (page: Page, testId: string) => page.getByTestId(testId).count();
/** The status bar counts the graph's nodes (the canvas draws only those in view). */
const nodesAre = (page: Page, n: number) => page.waitForFunction(textIncludes, ['statusbar', `${n} nodes ·`] as const);

describe("the detached dock's window: clipboard keys, Export and the gallery (browser mode, headless Chromium)", { skip, timeout: 150_000 }, () => {
  const env = browserModeSuite((workspace) => copyTemplates(workspace, [TEMPLATE]));

  test('Ctrl+C/X/V, Export… and Ctrl+E, and New from template… all act from the dock window', async () => {
    const { context, page, errors } = await openEditor(env.browser, env.server.url);
    try {
      await openFile(page, TEMPLATE, 'node-flatten');
      await nodesAre(page, 7);
      await page.getByTestId('node-flatten').locator('.block-node__title').click();
      await page.waitForFunction(textIncludes, ['statusbar', '1 selected'] as const);

      const [dock] = await Promise.all([context.waitForEvent('page'), page.getByTestId('dock-detach').click()]);
      dock.setDefaultTimeout(15_000);
      const errorsThere: string[] = [];
      dock.on('pageerror', (e) => errorsThere.push(e.message));
      await dock.getByTestId('dock-tab-runs').click();
      await dock.getByTestId('runs-panel').click();

      // The clipboard keys, pressed in the dock's window, act on the graph's selection.
      await dock.keyboard.press('Control+c');
      await dock.keyboard.press('Control+v');
      await nodesAre(page, 8);
      await dock.keyboard.press('Control+x'); // the pasted copy, selected
      await nodesAre(page, 7);
      await dock.keyboard.press('Control+v');
      await nodesAre(page, 8);

      // Export… opens the dialog in the dock's window; Escape there closes it; so does Ctrl+E.
      await dock.getByTestId('dock-export').click();
      // The pasted copy is not wired in: the export names it instead of giving code.
      await dock.getByTestId('export-diagnostics').waitFor({ timeout: 60_000 });
      assert.match((await dock.getByTestId('export-diagnostics').textContent()) ?? '', /"flatten_1".*not connected/);
      assert.equal(await count(page, 'export-dialog'), 0, 'not behind, in the main window');
      await dock.keyboard.press('Escape');
      await dock.getByTestId('export-dialog').waitFor({ state: 'detached' });
      await dock.getByTestId('runs-panel').click();
      await dock.keyboard.press('Control+e');
      await dock.getByTestId('export-dialog').waitFor();
      assert.equal(await count(page, 'export-dialog'), 0);
      await dock.getByTestId('export-close').click();

      // The gallery opens there too; the unsaved graph is replaced once the question, asked there, is answered.
      await dock.getByTestId('dock-new-from-template').click();
      await dock.getByTestId('gallery').waitFor();
      assert.equal(await count(page, 'gallery'), 0);
      await dock.getByTestId('template-open-mnist-cnn').click();
      await dock.getByTestId('confirm-dialog').waitFor();
      await dock.getByTestId('confirm-ok').click();
      await dock.getByTestId('gallery').waitFor({ state: 'detached' });
      await nodesAre(page, 10);
      await page.getByTestId('node-conv1').waitFor();

      assert.deepEqual(await missingGlyphs(dock, 'button'), []);
      assert.deepEqual(await missingGlyphs(page, 'button'), []);
      assert.deepEqual(errors, []);
      assert.deepEqual(errorsThere, []);
    } finally {
      await context.close();
    }
  });
});
