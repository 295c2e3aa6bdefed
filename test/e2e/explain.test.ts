// Explanations in Inspect, in headless Chromium against browser mode: after a
// short real training run, a Grad-CAM overlay (and its HiResCAM sibling) with
// a colour bar for the CBAM CNN, and the attention rollout for the tiny ViT.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { browserModeSuite, openEditor, ROOT, skipReason } from './harness.js';
import { drawnColours, openTemplate, setField, text, waitForState } from './training-page.js';

const skip = skipReason();
if (skip) console.log(`# NOTICE: ${skip}`);

const CBAM = 'cbam-mnist-small.attn.json';
const VIT = 'vit-tiny-mnist.attn.json';

/** Trains the open template for one short epoch on MNIST and inspects validation sample 3. */
async function trainAndInspect(page: Page): Promise<void> {
  await page.getByTestId('dock-tab-training').click();
  await page.getByTestId('train-dataset').selectOption('mnist');
  await setField(page, 'limit', 320);
  await setField(page, 'epochs', 1);
  await setField(page, 'batchSize', 32);
  await page.getByTestId('train-start').click();
  await waitForState(page, 'done', 180_000);
  await page.getByTestId('dock-tab-inspect').click();
  await page.getByTestId('inspect-index').fill('3');
  await page.getByTestId('inspect-run').click();
  await page.getByTestId('inspect-verdict').waitFor({ timeout: 90_000 });
}

describe('explanations in Inspect (browser mode, headless Chromium)', { skip, timeout: 600_000 }, () => {
  const env = browserModeSuite(async (workspace) => {
    for (const t of [CBAM, VIT]) await copyFile(path.join(ROOT, 'templates', t), path.join(workspace, t));
  });

  test('the CBAM CNN shows a Grad-CAM overlay with a colour bar; the method can be changed', async () => {
    const { context, page, errors } = await openEditor(env.browser, env.server.url);
    try {
      await openTemplate(page, CBAM);
      await trainAndInspect(page);
      const cam = page.getByTestId('inspect-explain-cam');
      await cam.waitFor();
      assert.match((await cam.locator('figcaption').textContent()) ?? '', /of class \d on pool2\.out/);
      assert.equal(await page.getByTestId('inspect-explain-method').inputValue(), 'gradcam');
      await page.getByTestId('inspect-explain-cam-colour-bar').waitFor();
      assert.ok((await drawnColours(page, '[data-testid="inspect-explain-cam"]')) > 30, 'the input shows under the map');
      await page.getByTestId('inspect-explain-method').selectOption('hirescam');
      assert.ok((await drawnColours(page, '[data-testid="inspect-explain-cam"]')) > 30, 'the HiResCAM overlay is drawn');
      // No self-attention in this net: the rollout is missing, and the note says why.
      assert.equal(await page.getByTestId('inspect-explain-rollout').count(), 0);
      assert.match((await text(page, 'inspect-explain-notes')) ?? '', /no self-attention layers for rollout/);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('the tiny ViT shows its attention rollout over the patch grid', async () => {
    const { context, page, errors } = await openEditor(env.browser, env.server.url);
    try {
      await openTemplate(page, VIT);
      await trainAndInspect(page);
      const rollout = page.getByTestId('inspect-explain-rollout');
      await rollout.waitFor();
      assert.match((await rollout.locator('figcaption').textContent()) ?? '', /Attention rollout through encoders#1\/layer → encoders#2\/layer/);
      await page.getByTestId('inspect-explain-rollout-colour-bar').waitFor();
      assert.ok((await drawnColours(page, '[data-testid="inspect-explain-rollout"]')) > 30, 'the rollout is drawn over the digit');
      // Grad-CAM goes through the tokens entering the last encoder layer.
      assert.match((await page.getByTestId('inspect-explain-cam').locator('figcaption').textContent()) ?? '', /on encoders#1\/layer\.out/);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});
