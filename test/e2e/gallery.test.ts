// The template gallery and composite blocks in headless Chromium against
// browser mode: every template opens from the gallery as an unsaved copy and
// draws with no error badges; two nodes grouped into a composite, opened,
// and saved as a version-2 file.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { browserModeSuite, copyTemplates, countIs, nodeIds, openFile, ROOT, skipReason, withEditor, zoomIs } from './harness.js';
import { fitWhole } from './canvas-page.js';

const skip = skipReason();
if (skip) console.log(`# NOTICE: ${skip}`);

const SHOTS = process.env.ATTN_SCREENSHOTS;
const shot = async (page: Page, name: string) => void (SHOTS && (await page.screenshot({ path: path.join(SHOTS, `${name}.png`) })));

interface TemplateFile {
  name: string;
  nodes: { id: string }[];
}

// Functions run in the page (string predicates are refused by its CSP). This
// file compiles without the DOM's types, so the page's globals are typed here
// as far as these functions use them.
interface PageGlobals {
  document: { querySelectorAll(sel: string): ArrayLike<{ textContent: string | null }> };
}
const counted = (id: string) =>
  /^\d+(\.\d+)?[kM]?$/.test((globalThis as unknown as PageGlobals).document.querySelectorAll(`[data-testid="template-params-${id}"]`)[0]?.textContent ?? '');

describe('template gallery and composites end to end (browser mode, headless Chromium)', { skip, timeout: 240_000 }, () => {
  const env = browserModeSuite(async (workspace) => {
    await copyTemplates(workspace, ['mnist-cnn.attn.json']);
  });

  test('every template opens from the gallery as an unsaved copy, its nodes drawn without error badges', async () => {
    const files = (await readdir(path.join(ROOT, 'templates'))).filter((f) => f.endsWith('.attn.json')).sort();
    assert.ok(files.length >= 5, `${files.length} templates`);
    await withEditor(env, async ({ page, errors }) => {
      for (const [i, file] of files.entries()) {
        const id = file.slice(0, -'.attn.json'.length);
        const template = JSON.parse(await readFile(path.join(ROOT, 'templates', file), 'utf8')) as TemplateFile;
        await page.getByTestId('new-from-template').click();
        await page.getByTestId('gallery').waitFor();
        const card = page.getByTestId(`template-${id}`);
        await card.locator('svg rect').first().waitFor();
        assert.equal(await card.locator('h3').textContent(), template.name);
        if (i === 0) {
          // Every template is listed, each with a preview of its nodes.
          assert.equal(await page.locator('[data-testid^="template-open-"]').count(), files.length);
          // The parameter count comes from the summary's counting worker (a small template: quick).
          await page.waitForFunction(counted, 'mnist-cnn', { timeout: 30_000 });
          // conv 3×3×1→16 (160) + conv 3×3×16→32 (4,640) + dense 1568→64 (100,416) + head 64→10 (650).
          assert.equal(await page.getByTestId('template-params-mnist-cnn').textContent(), '105.9k');
          await shot(page, 'gallery');
        }
        assert.ok((await card.locator('svg rect').count()) >= template.nodes.length, `${id}: a box per node in the preview`);
        await page.getByTestId(`template-open-${id}`).click();
        // The previous copy is unsaved: the in-app prompt asks before it is replaced.
        if (i > 0) await page.getByTestId('confirm-ok').click();
        await page.getByTestId('gallery').waitFor({ state: 'detached' });
        // It opens at its input end (test/e2e/layout.test.ts); fitted whole, every node is drawn.
        await page.waitForFunction(zoomIs, 1.1);
        await page.getByTestId('cmd-view.fit').click();
        await page.waitForFunction(countIs, ['[data-testid^="node-"][data-type]', template.nodes.length] as [string, number]);
        assert.deepEqual(await nodeIds(page), template.nodes.map((n) => n.id).sort(), id);
        assert.equal(await page.locator('[data-testid^="error-badge-"]').count(), 0, `${id}: no error badges`);
        assert.equal(await page.getByTestId('status-errors').textContent(), '✓ valid graph', id);
        // A copy: no file behind it, and unsaved.
        await page.getByTestId('dirty-marker').waitFor();
        assert.equal(await page.getByTestId('doc-title').getAttribute('title'), 'not saved yet');
      }
      assert.deepEqual(errors, []);
    });
  });

  test('group two nodes into a composite, open it, go back, and save a version-2 file', async () => {
    await withEditor(env, async ({ page, errors }) => {
      await openFile(page, 'mnist-cnn.attn.json', 'node-conv2');
      await fitWhole(page);
      await page.getByTestId('node-conv2').locator('.block-node__title').click();
      await page
        .getByTestId('node-pool2')
        .locator('.block-node__title')
        .click({ modifiers: ['Shift'] });
      await page.getByTestId('group-selection').click();
      await page.getByTestId('node-group1_1').waitFor();
      assert.equal(await page.getByTestId('node-conv2').count(), 0);
      // The composite node: its ports from the port nodes inside, its output shape, the model unchanged downstream.
      assert.equal(await page.getByTestId('shape-group1_1-out').textContent(), '[?, 7, 7, 32]');
      assert.equal(await page.getByTestId('shape-flatten-out').textContent(), '[?, 1568]');
      assert.equal(await page.locator('[data-testid^="error-badge-"]').count(), 0);
      await page.getByTestId('palette-item-composite:group1').waitFor();
      await shot(page, 'grouped');

      // Expand: the inside is the canvas, with a breadcrumb back.
      await page.getByTestId('open-composite-group1_1').click();
      await page.getByTestId('breadcrumb').waitFor();
      await page.getByTestId('node-conv2').waitFor();
      // Opened at its input end (too wide to read whole): Fit shows it all.
      await page.getByTestId('cmd-view.fit').click();
      await page.getByTestId('node-out').waitFor();
      assert.deepEqual(await nodeIds(page), ['conv2', 'in', 'out', 'pool2']);
      assert.equal(await page.getByTestId('shape-conv2-out').textContent(), '[?, 14, 14, 32]');
      await page.getByTestId('palette-item-io.compositeInput').waitFor();
      assert.equal(await page.getByTestId('palette-item-io.input').count(), 0, 'no graph Input inside a composite');
      await shot(page, 'inside');
      await page.getByTestId('breadcrumb-0').click();
      await page.getByTestId('node-group1_1').waitFor();
      assert.equal(await page.getByTestId('breadcrumb').count(), 0);

      await page.getByTestId('cmd-file.saveAs').click();
      await page.getByTestId('file-name').fill('grouped.attn.json');
      await page.getByTestId('file-save').click();
      await page.getByTestId('file-dialog-save').waitFor({ state: 'detached' });
      const saved = JSON.parse(await readFile(path.join(env.server.workspace, 'grouped.attn.json'), 'utf8')) as {
        version: number;
        nodes: { id: string; type: string }[];
        composites: { id: string; nodes: { id: string; type: string }[] }[];
      };
      assert.equal(saved.version, 2);
      assert.deepEqual(
        saved.composites.map((c) => [c.id, c.nodes.map((n) => n.type).sort()]),
        [['group1', ['core.conv2d', 'core.pool2d', 'io.compositeInput', 'io.compositeOutput']]],
      );
      assert.equal(saved.nodes.find((n) => n.id === 'group1_1')?.type, 'composite:group1');
      // Undo takes the group back on the page too.
      await page.getByTestId('cmd-edit.undo').click();
      await page.getByTestId('node-conv2').waitFor();
      assert.deepEqual(errors, []);
    });
  });
});
