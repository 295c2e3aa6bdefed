// Comments inside an opened composite (browser mode, headless Chromium, real
// mouse and keys): made from the canvas menu on the composite's inside, moved
// by its title, saved inside the composite's definition, and back at the same
// place after a reload; an older file without them opens as before.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import type { GraphFile } from '../../engine/graph/types.js';
import { browserModeSuite, nodeIds, openFile, ROOT, skipReason, withEditor } from './harness.js';

const skip = skipReason();
if (skip) console.log(`# NOTICE: ${skip}`);

/** A version-2 file from before comments inside composites. */
const FILE = 'residual.attn.json';

async function box(page: Page, testId: string) {
  const b = await page.getByTestId(testId).boundingBox();
  assert.ok(b, `${testId} is on screen`);
  return b;
}

/** Opens the file and, by a double-click on its instance, the inside of composite "down". */
async function openInside(page: Page): Promise<void> {
  await openFile(page, FILE, 'node-d');
  await page.getByTestId('node-d').dblclick();
  await page.getByTestId('breadcrumb').waitFor();
  await page.getByTestId('node-conv').waitFor();
}

describe('comments inside a composite (browser mode, headless Chromium)', { skip, timeout: 120_000 }, () => {
  const env = browserModeSuite(async (workspace) => {
    await copyFile(path.join(ROOT, 'test/fixtures/composites', FILE), path.join(workspace, FILE));
  });

  test('a comment made and moved inside a composite is saved in its definition and comes back after a reload', async () => {
    let moved: { x: number; y: number } | undefined;
    await withEditor(env, async ({ page, errors }) => {
      await openInside(page);
      assert.deepEqual(await nodeIds(page), ['conv', 'in', 'out']);
      assert.equal(await page.locator('[data-testid^="comment-comment"]').count(), 0, 'the old file has no comments');

      const canvas = await box(page, 'canvas');
      await page.mouse.click(canvas.x + canvas.width * 0.3, canvas.y + canvas.height * 0.7, { button: 'right' });
      await page.getByTestId('menu-add-comment').click();
      const frame = await box(page, 'comment-comment1');

      // Renamed by a double-click on its title and typing, moved by its title.
      await page.getByTestId('comment-title-comment1').dblclick();
      await page.keyboard.press('Control+a');
      await page.keyboard.type('strided conv');
      await page.keyboard.press('Enter');
      const title = await box(page, 'comment-title-comment1');
      await page.mouse.move(title.x + 8, title.y + title.height / 2);
      await page.mouse.down();
      await page.mouse.move(title.x + 8 + 60, title.y + title.height / 2 + 40, { steps: 6 });
      await page.mouse.up();
      moved = await box(page, 'comment-comment1');
      assert.deepEqual([Math.round(moved.x - frame.x), Math.round(moved.y - frame.y)], [60, 40], 'the comment followed the mouse');

      // Not drawn on the graph itself.
      await page.getByTestId('breadcrumb-0').click();
      await page.getByTestId('node-st').waitFor();
      assert.equal(await page.getByTestId('comment-comment1').count(), 0, "the top level does not show the composite's comment");

      await page.getByTestId('cmd-file.save').click();
      await page.getByTestId('dirty-marker').waitFor({ state: 'detached' });
      assert.deepEqual(errors, []);
    });

    const saved = JSON.parse(await readFile(path.join(env.server.workspace, FILE), 'utf8')) as GraphFile;
    assert.equal(saved.comments, undefined, 'nothing was added on the graph itself');
    const comments = saved.composites!.find((c) => c.id === 'down')!.comments;
    assert.equal(comments?.length, 1);
    assert.equal(comments[0].text, 'strided conv');

    // A fresh page (a reload): the comment is inside the composite, where it was moved to.
    await withEditor(env, async ({ page, errors }) => {
      await openInside(page);
      await page.getByTestId('comment-comment1').waitFor();
      assert.equal(await page.getByTestId('comment-title-comment1').textContent(), 'strided conv');
      const again = await box(page, 'comment-comment1');
      // The inside opens at the same framing, so the comment is where it was left.
      assert.ok(Math.abs(again.x - moved!.x) < 2 && Math.abs(again.y - moved!.y) < 2, `at ${again.x},${again.y}, was ${moved!.x},${moved!.y}`);
      assert.deepEqual(errors, []);
    });
  });
});
