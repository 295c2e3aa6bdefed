// The dock detached into a second window (browser mode, headless Chromium): a
// click on Detach opens it, the running run's chart keeps updating there, the
// main window's dock is gone, and closing the window (or Attach) brings it back.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { browserModeSuite, copyTemplates, skipReason, withEditor } from './harness.js';
import { fillTrainingForm, openTemplate, type PageGlobals } from './training-page.js';

const skip = skipReason();
if (skip) console.log(`# NOTICE: ${skip}`);

const BENCH = 'bench-se-cnn.attn.json';

// The page's globals as far as these checks use them (this file compiles without the DOM's types).
interface Box {
  clientWidth: number;
  querySelector(sel: string): { getBoundingClientRect(): { width: number } } | null;
}
interface DockDom {
  document: { body: unknown; querySelector(sel: string): Box | null };
  getComputedStyle(el: unknown): { backgroundColor: string };
}

const batchPoints = async (page: Page) => Number(await page.getByTestId('chart-batch').getAttribute('data-points'));
const pointsAbove = (n: number) =>
  Number((globalThis as unknown as PageGlobals).document.querySelector('[data-testid="chart-batch"]')?.getAttribute('data-points')) > n;

describe('detachable dock (browser mode, headless Chromium)', { skip, timeout: 240_000 }, () => {
  const env = browserModeSuite((workspace) => copyTemplates(workspace, [BENCH]));

  test('Detach opens the dock in a second window that follows the live run; closing it brings the dock back', async () => {
    await withEditor(env, async ({ context, page, errors }) => {
      await openTemplate(page, BENCH);
      await fillTrainingForm(page, { dataset: 'mnist', limit: 4096, epochs: 4, batchSize: 8 });
      await page.getByTestId('train-start').click();
      await page.waitForFunction(pointsAbove, 1, { timeout: 90_000 });

      const [second] = await Promise.all([context.waitForEvent('page'), page.getByTestId('dock-detach').click()]);
      second.setDefaultTimeout(15_000);
      // Nothing in its address: the token stays in the main window's.
      assert.equal(second.url(), 'about:blank');
      assert.equal(await page.getByTestId('training-dock').count(), 0, "the main window's dock is gone");
      await page.getByTestId('dock-detached').waitFor();

      // The running run's chart, drawn at the window's width and still growing.
      await second.getByTestId('chart-batch').waitFor();
      const before = await batchPoints(second);
      await second.waitForFunction(pointsAbove, before, { timeout: 60_000 });
      const size = await second.evaluate(() => {
        const d = (globalThis as unknown as DockDom).document;
        const box = d.querySelector('[data-testid="chart-batch"] .chart__plot')!;
        return { box: box.clientWidth, canvas: box.querySelector('canvas')!.getBoundingClientRect().width };
      });
      // Laid out by the window's own stylesheet, after the chart was made: the plot followed its box.
      assert.ok(Math.abs(size.canvas - size.box) < 8, `the plot follows its box: ${JSON.stringify(size)}`);
      // Styled as the main window: the app's stylesheet reached it.
      const bg = await second.evaluate(() => {
        const g = globalThis as unknown as DockDom;
        return g.getComputedStyle(g.document.body).backgroundColor;
      });
      assert.notEqual(bg, 'rgba(0, 0, 0, 0)', 'the dock window has the app background');

      // Closing the window puts the dock back under the canvas, still on the run.
      await second.close();
      await page.getByTestId('training-dock').waitFor();
      assert.equal(await page.getByTestId('dock-detached').count(), 0);
      await page.waitForFunction(pointsAbove, 1);

      // Detached again, Attach in the dock's window closes it and attaches the dock.
      const [third] = await Promise.all([context.waitForEvent('page'), page.getByTestId('dock-detach').click()]);
      await third.getByTestId('dock-attach').click();
      await page.getByTestId('training-dock').waitFor();
      assert.ok(third.isClosed() || (await third.waitForEvent('close', { timeout: 5_000 }).then(() => true)));

      await page.getByTestId('train-stop').click();
      assert.deepEqual(errors, []);
    });
  });
});
