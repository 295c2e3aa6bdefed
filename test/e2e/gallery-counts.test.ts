// The gallery card's parameter counts (browser mode, headless Chromium): the
// number agrees with the trainable count the template's text quotes, and both
// counts are labelled, trainable and all weights (BatchNorm's statistics too).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { browserModeSuite, openEditor, ROOT, skipReason } from './harness.js';

const skip = skipReason();
if (skip) console.log(`# NOTICE: ${skip}`);

interface PageGlobals {
  document: { querySelector(sel: string): { textContent: string | null } | null };
}
/** The card's trainable count has arrived from the counting worker. */
const counted = (id: string) =>
  /^\d+(\.\d+)?[kM]?$/.test((globalThis as unknown as PageGlobals).document.querySelector(`[data-testid="template-params-${id}"]`)?.textContent ?? '');

const ID = 'resnet50';

describe('gallery parameter counts (browser mode, headless Chromium)', { skip, timeout: 180_000 }, () => {
  const env = browserModeSuite();

  test("ResNet-50's card shows the text's 25,557,032 trainable parameters, and all weights labelled apart", async () => {
    const template = JSON.parse(await readFile(path.join(ROOT, 'templates', `${ID}.attn.json`), 'utf8')) as { description: string };
    const quoted = /([\d,]+) trainable/.exec(template.description)![1];
    const { context, page, errors } = await openEditor(env.browser, env.server.url);
    try {
      await page.getByTestId('new-from-template').click();
      await page.getByTestId('gallery').waitFor();
      await page.waitForFunction(counted, ID, { timeout: 120_000 });
      const card = page.getByTestId(`template-${ID}`);
      assert.ok((await card.locator('.gallery__desc').textContent())!.includes(`${quoted} trainable`));
      const trainable = page.getByTestId(`template-params-${ID}`);
      assert.equal(await trainable.getAttribute('title'), `${quoted} trainable parameters`);
      assert.equal(await trainable.textContent(), '25.56M');
      const dd = (await trainable.locator('xpath=..').textContent())!;
      assert.match(dd, /^25\.56M trainable · 25\.61M all weights$/);
      // All weights: the trainable ones and BatchNorm's moving means and variances (2 × 26,560 channels).
      const all = await page.getByTestId(`template-weights-${ID}`).getAttribute('title');
      assert.equal(all, `${(25_557_032 + 2 * 26_560).toLocaleString('en-US')} weights in all, BatchNorm's moving statistics included`);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});
