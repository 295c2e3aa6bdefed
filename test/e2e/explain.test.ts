// Explanations in Inspect, in headless Chromium against browser mode: after a
// short real training run, none until "Explain" is ticked; then a Grad-CAM
// overlay (and its HiResCAM sibling) with a colour bar for the CBAM CNN, for
// the predicted class or one chosen, on a layer picked from the list or
// clicked on the canvas; and the attention rollout and the layer × head grid
// for the tiny ViT.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import type { Page } from 'playwright-core';
import { browserModeSuite, copyTemplates, skipReason, withEditor } from './harness.js';
import { assertDrawn, fillTrainingForm, openTemplate, type PageGlobals, text, waitForState } from './training-page.js';

const skip = skipReason();
if (skip) console.log(`# NOTICE: ${skip}`);

const CBAM = 'cbam-mnist-small.attn.json';
const VIT = 'vit-tiny-mnist.attn.json';

/** Opens a template, trains it for one short epoch on MNIST, inspects validation sample 3, then asks for its explanations. */
async function trainAndInspect(page: Page, template: string): Promise<void> {
  await openTemplate(page, template);
  await fillTrainingForm(page, { dataset: 'mnist', limit: 320, epochs: 1, batchSize: 32 });
  await page.getByTestId('train-start').click();
  await waitForState(page, 'done', 180_000);
  await page.getByTestId('dock-tab-inspect').click();
  await page.getByTestId('inspect-index').fill('3');
  await page.getByTestId('inspect-run').click();
  await page.getByTestId('inspect-verdict').waitFor({ timeout: 90_000 });
  assert.equal(await page.getByTestId('inspect-explain-cam').count(), 0, 'no explanation is computed unless asked for');
  await page.getByTestId('inspect-explain-toggle').check();
  await page.getByTestId('inspect-explain-cam').waitFor({ timeout: 90_000 });
}

/** Waits until the CAM's caption says what it explains. */
async function camExplains(page: Page, what: RegExp): Promise<void> {
  await page.waitForFunction(
    ([id, source]) => new RegExp(source).test((globalThis as unknown as PageGlobals).document.querySelector(`[data-testid="${id}"]`)?.textContent ?? ''),
    ['inspect-explain-cam-what', what.source] as const,
    { timeout: 60_000 },
  );
}

describe('explanations in Inspect (browser mode, headless Chromium)', { skip, timeout: 600_000 }, () => {
  const env = browserModeSuite((workspace) => copyTemplates(workspace, [CBAM, VIT]));

  test('the CBAM CNN shows a Grad-CAM overlay with a colour bar; the method, the class and the layer (list or canvas click) can be changed', async () => {
    await withEditor(env, async ({ page, errors }) => {
      await trainAndInspect(page, CBAM);
      const cam = page.getByTestId('inspect-explain-cam');
      await cam.waitFor();
      assert.match((await cam.locator('figcaption').textContent()) ?? '', /of class \d \(predicted\) on cbam\.out/);
      assert.equal(await page.getByTestId('inspect-explain-method').inputValue(), 'gradcam');
      await page.getByTestId('inspect-explain-cam-colour-bar').waitFor();
      await assertDrawn(page, '[data-testid="inspect-explain-cam"]', 30, 'the input shows under the map');
      await page.getByTestId('inspect-explain-method').selectOption('hirescam');
      await assertDrawn(page, '[data-testid="inspect-explain-cam"]', 30, 'the HiResCAM overlay is drawn');
      // No self-attention in this net: the rollout is missing, and the note says why.
      assert.equal(await page.getByTestId('inspect-explain-rollout').count(), 0);
      assert.match((await text(page, 'inspect-explain-notes')) ?? '', /no self-attention layers for rollout/);

      // Another class than the predicted one, then another layer from the list, then one clicked on the canvas.
      const predicted = /of class (\d) \(predicted\)/.exec((await text(page, 'inspect-explain-cam-what')) ?? '');
      assert.ok(predicted, 'the predicted class is explained by default');
      const other = String((Number(predicted[1]) + 1) % 10);
      await page.getByTestId('inspect-explain-class').selectOption(other);
      await camExplains(page, new RegExp(`^of class ${other} on cbam\\.out$`));
      await page.getByTestId('inspect-explain-layer').selectOption('pool2:out');
      await camExplains(page, new RegExp(`^of class ${other} on pool2\\.out$`));
      await page.getByTestId('node-conv1').click();
      await camExplains(page, new RegExp(`^of class ${other} on conv1\\.out$`));
      assert.equal(await page.getByTestId('inspect-explain-layer').inputValue(), 'conv1:out');
      await assertDrawn(page, '[data-testid="inspect-explain-cam"]', 30, "the chosen layer's map is drawn");
      assert.deepEqual(errors, []);
    });
  });

  test('the tiny ViT shows its attention rollout over the patch grid and its layer × head grid', async () => {
    await withEditor(env, async ({ page, errors }) => {
      await trainAndInspect(page, VIT);
      const rollout = page.getByTestId('inspect-explain-rollout');
      await rollout.waitFor();
      assert.match((await rollout.locator('figcaption').textContent()) ?? '', /Attention rollout through encoders#1\/layer → encoders#2\/layer/);
      await page.getByTestId('inspect-explain-rollout-colour-bar').waitFor();
      await assertDrawn(page, '[data-testid="inspect-explain-rollout"]', 30, 'the rollout is drawn over the digit');
      // Grad-CAM goes through the tokens entering the last encoder layer.
      assert.match((await page.getByTestId('inspect-explain-cam').locator('figcaption').textContent()) ?? '', /on encoders#1\/layer\.out/);

      // The layer × head grid: 2 encoder layers × 2 heads, each a 17 × 17 matrix; one zoomed.
      await page.getByTestId('inspect-head-grid').waitFor();
      assert.equal(await page.locator('[data-testid^="inspect-head-"][data-testid$="-0"], [data-testid^="inspect-head-"][data-testid$="-1"]').count(), 4);
      assert.match((await page.getByTestId('inspect-head-grid').textContent()) ?? '', /head 0head 1layer 1.*layer 2/);
      await assertDrawn(page, '[data-testid="inspect-head-1-1"]', 10, 'a head is drawn');
      await page.getByTestId('inspect-head-1-1').click();
      await page.getByTestId('inspect-head-zoom').waitFor();
      assert.match((await text(page, 'inspect-head-zoom')) ?? '', /encoders#2\/layer\.attention · head 1|head 1/);
      assert.deepEqual(errors, []);
    });
  });
});
