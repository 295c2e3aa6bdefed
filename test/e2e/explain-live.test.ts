// The explanation panel in the Attention dock, in headless Chromium against
// browser mode: while a short real run trains, the probes' attention rollout
// (tiny ViT) or Grad-CAM (a CNN with no attention block) arrives at the probe
// rate and is drawn over the probe sample, with the dock's colour map, opacity
// and a colour bar; the step slider scrubs it, and reopening the run from the
// Runs tab reads it back from the run folder.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { browserModeSuite, copyTemplates, skipReason, withEditor } from './harness.js';
import { assertDrawn, fillTrainingForm, openTemplate, text, waitForState } from './training-page.js';

const skip = skipReason();
if (skip) console.log(`# NOTICE: ${skip}`);

const VIT = 'vit-tiny-mnist.attn.json';
const CNN = 'mnist-cnn.attn.json';

/** Trains the open template on a little MNIST with a probe every 2 batches, and waits for the end. */
async function trainBriefly(page: Page): Promise<void> {
  await fillTrainingForm(page, { dataset: 'mnist', limit: 128, epochs: 1, batchSize: 16, probeEvery: 2, probeIntervalMs: 0 });
  await page.getByTestId('train-start').click();
  await waitForState(page, 'done', 240_000);
}

// Page functions (serialised one by one, so each spells out the page's globals).
interface CanvasDom {
  document: { querySelector(s: string): { toDataURL(): string } | null };
}
/** A fingerprint of what the canvas inside `scope` shows. */
const pixels = (page: Page, scope: string) =>
  page.evaluate((sel) => (globalThis as unknown as CanvasDom).document.querySelector(sel)?.toDataURL() ?? '', `${scope} canvas`);
/** The canvas inside `scope` no longer shows the fingerprint `was`. */
const redrawn = ([scope, was]: readonly [string, string]) =>
  (globalThis as unknown as CanvasDom).document.querySelector(`${scope} canvas`)?.toDataURL() !== was;

describe('the explanation panel in the Attention dock (browser mode, headless Chromium)', { skip, timeout: 600_000 }, () => {
  const env = browserModeSuite((workspace) => copyTemplates(workspace, [VIT, CNN]));

  test("the tiny ViT's rollout panel: drawn over the sample, colour map and opacity apply, the slider scrubs it, and it comes back from the Runs tab", async () => {
    await withEditor(env, async ({ page, errors }) => {
      await openTemplate(page, VIT);
      await trainBriefly(page);
      const runId = (await text(page, 'train-run-id'))!.trim();
      await page.getByTestId('dock-tab-attention').click();
      const figure = '[data-testid="attention-explanation"]';
      const panel = page.getByTestId('attention-explanation');
      await panel.waitFor({ timeout: 30_000 });
      assert.match((await panel.locator('figcaption').textContent()) ?? '', /Attention rollout through encoders#1\/layer → encoders#2\/layer · probe sample 0/);
      await page.getByTestId('attention-explanation-colour-bar').waitFor();
      await assertDrawn(page, figure, 30, 'the rollout is drawn over the digit');

      // The dock's controls apply to it.
      const before = await pixels(page, figure);
      await page.getByTestId('attention-colormap').selectOption('gray');
      await page.waitForFunction(redrawn, [figure, before] as const, { timeout: 10_000 });
      const gray = await pixels(page, figure);
      const slider = (await page.getByTestId('attention-opacity').boundingBox())!;
      await page.mouse.click(slider.x + 2, slider.y + slider.height / 2);
      await page.waitForFunction(redrawn, [figure, gray] as const, { timeout: 10_000 });
      assert.ok(Number(await page.getByTestId('attention-opacity').inputValue()) < 0.1, 'the opacity slider was moved to its low end');

      // The step slider goes back to the first probe: the panel shows that step's rollout.
      const lastRange = await page.getByTestId('attention-explanation-colour-bar').getAttribute('data-range');
      await page.getByTestId('attention-step').focus();
      await page.keyboard.press('Home');
      await page.getByTestId('attention-follow').waitFor();
      assert.match((await text(page, 'attention-step-label')) ?? '', /^\d+ \(1\/\d+\)$/);
      await page.waitForFunction(
        ([id, was]) =>
          (globalThis as unknown as { document: { querySelector(s: string): { getAttribute(n: string): string | null } | null } }).document
            .querySelector(`[data-testid="${id}"]`)
            ?.getAttribute('data-range') !== was,
        ['attention-explanation-colour-bar', lastRange] as const,
        { timeout: 10_000 },
      );

      // Reopened from the Runs tab, it is read back from the run folder.
      await page.getByTestId('dock-tab-runs').click();
      await page.getByTestId(`run-open-${runId}`).click();
      await page.getByTestId('dock-tab-attention').click();
      await panel.waitFor({ timeout: 30_000 });
      await assertDrawn(page, figure, 30, 'the reopened run draws its rollout');
      assert.deepEqual(errors, []);
    });
  });

  test('a CNN without attention blocks gets a Grad-CAM panel of its predicted class (HiResCAM where Grad-CAM leaves it empty)', async () => {
    await withEditor(env, async ({ page, errors }) => {
      await openTemplate(page, CNN);
      await trainBriefly(page);
      await page.getByTestId('dock-tab-attention').click();
      const panel = page.getByTestId('attention-explanation');
      await panel.waitFor({ timeout: 30_000 });
      assert.match((await panel.locator('figcaption').textContent()) ?? '', /(Grad-CAM|HiResCAM) of class \d \(predicted\) on conv2\.out.* · probe sample 0/);
      await page.getByTestId('attention-explanation-colour-bar').waitFor();
      await assertDrawn(page, '[data-testid="attention-explanation"]', 30, 'Grad-CAM is drawn over the digit');
      assert.deepEqual(errors, []);
    });
  });
});
