// A frame carries its nodes (browser mode, headless Chromium, real mouse): a
// node dragged into a comment frame moves with it when the frame's title is
// dragged, nodes outside stay, and one undo puts frame and node back together.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { browserModeSuite, copyTemplates, openFile, skipReason, withEditor } from './harness.js';
import { fitWhole } from './canvas-page.js';

const skip = skipReason();
if (skip) console.log(`# NOTICE: ${skip}`);

const TEMPLATE = 'mnist-cnn.attn.json';

async function box(page: Page, testId: string) {
  const b = await page.getByTestId(testId).boundingBox();
  assert.ok(b, `${testId} is on screen`);
  return b;
}

/** A left-button drag with the mouse, in small steps as a hand moves. */
async function dragBy(page: Page, from: { x: number; y: number }, dx: number, dy: number): Promise<void> {
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  await page.mouse.move(from.x + dx, from.y + dy, { steps: 8 });
  await page.mouse.up();
}

describe('comment frames carry their nodes (browser mode, headless Chromium)', { skip, timeout: 120_000 }, () => {
  const env = browserModeSuite((workspace) => copyTemplates(workspace, [TEMPLATE]));

  test('dragging a frame moves the node inside it, not the others; one undo restores both', async () => {
    await withEditor(env, async ({ page, errors }) => {
      await openFile(page, TEMPLATE, 'node-conv1');
      await fitWhole(page); // the whole graph in view, as the gestures below assume

      // A comment on the empty canvas below the nodes, from the canvas menu.
      const canvas = await box(page, 'canvas');
      await page.mouse.click(canvas.x + canvas.width * 0.3, canvas.y + canvas.height * 0.6, { button: 'right' });
      await page.getByTestId('menu-add-comment').click();
      // Made large enough for a node at the fitted zoom, by its corner.
      const corner = await box(page, 'comment-resize-comment1');
      await dragBy(page, { x: corner.x + corner.width / 2, y: corner.y + corner.height / 2 }, 300, 200);
      const frame = await box(page, 'comment-comment1');

      // conv1 dragged by its body into the middle of the frame.
      const node = await box(page, 'node-conv1');
      await dragBy(
        page,
        { x: node.x + node.width / 2, y: node.y + node.height / 2 },
        frame.x + frame.width / 2 - (node.x + node.width / 2),
        frame.y + frame.height / 2 - (node.y + node.height / 2),
      );
      const inside = await box(page, 'node-conv1');
      assert.ok(
        inside.x >= frame.x && inside.y >= frame.y && inside.x + inside.width <= frame.x + frame.width && inside.y + inside.height <= frame.y + frame.height,
        'conv1 lies inside the frame',
      );
      const outside = await box(page, 'node-pool1');

      // The frame's title dragged: the frame and conv1 move alike, pool1 stays.
      const title = await box(page, 'comment-title-comment1');
      await dragBy(page, { x: title.x + 8, y: title.y + title.height / 2 }, 90, 60);
      const frameAfter = await box(page, 'comment-comment1');
      const nodeAfter = await box(page, 'node-conv1');
      const moved = (a: { x: number; y: number }, b: { x: number; y: number }) => [Math.round(b.x - a.x), Math.round(b.y - a.y)];
      assert.deepEqual(moved(frame, frameAfter), [90, 60], 'the frame moved with the mouse');
      assert.deepEqual(moved(inside, nodeAfter), [90, 60], 'the node inside moved with its frame');
      assert.deepEqual(moved(outside, await box(page, 'node-pool1')), [0, 0], 'a node outside stayed');

      // One gesture, one undo step: frame and node go back together.
      await page.keyboard.press('Control+z');
      await page.waitForFunction(
        ([x, y]) => {
          const el = (
            globalThis as unknown as { document: { querySelector(s: string): { getBoundingClientRect(): { x: number; y: number } } | null } }
          ).document.querySelector('[data-testid="node-conv1"]');
          const r = el?.getBoundingClientRect();
          return !!r && Math.abs(r.x - x) < 1.5 && Math.abs(r.y - y) < 1.5;
        },
        [inside.x, inside.y] as [number, number],
      );
      assert.deepEqual(moved(frame, await box(page, 'comment-comment1')), [0, 0], 'the frame is back too');
      assert.deepEqual(errors, []);
    });
  });
});
