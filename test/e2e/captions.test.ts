// The caption view, in headless Chromium against browser mode: a short real run
// of Show, Attend and Tell on digit-captions shows, in the Attention tab, the
// words the decoder wrote for a probe canvas in a row, each with its attention
// map over the canvas; hovering a word shows its map alone, the step slider
// scrubs it, reopening the run from the Runs tab reads it back from the run
// folder (and the decoder's attention in a generic panel is labelled by the same
// words), and Inspect shows the same view for a validation sample and for a
// dropped image. With ATTN_SCREENSHOTS=DIR the run is longer (so that the words
// are right) and the README's pictures are saved there.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { browserModeSuite, copyTemplates, skipReason, withEditor } from './harness.js';
import { assertDrawn, dropFile, fillTrainingForm, openTemplate, text, waitForState } from './training-page.js';
import { DIGIT_CAPTION_CLASSES } from '../../engine/data/captions.js';
import { encodePng } from '../../engine/data/png.js';

const skip = skipReason();
if (skip) console.log(`# NOTICE: ${skip}`);

const SAT = 'sat-digit-captions.attn.json';
const SHOTS = process.env.ATTN_SCREENSHOTS;

/** The words a caption figure shows, as its row of word buttons holds them. */
async function captionWords(page: Page, testId: string): Promise<string[]> {
  const row = page.getByTestId(`${testId}-words`);
  await row.waitFor({ timeout: 30_000 });
  const words = ((await row.getAttribute('data-words')) ?? '').split(' ').filter(Boolean);
  assert.ok(words.length >= 1, `${testId}: a caption of at least one word`);
  for (const w of words) assert.ok(DIGIT_CAPTION_CLASSES.includes(w), `${testId}: "${w}" is a word of the data`);
  assert.equal(await page.locator(`[data-testid^="${testId}-word-"]`).count(), words.length, `${testId}: a button per word`);
  return words;
}

/** A 16×96 canvas with two bright bars, as a PNG a person might drop. */
function canvasPng(): Buffer {
  const [h, w] = [16, 96];
  const data = new Uint8Array(h * w);
  for (let y = 2; y < 14; y++) for (const x of [20, 21, 60, 61]) data[y * w + x] = 255;
  return Buffer.from(encodePng({ width: w, height: h, channels: 1, data }));
}

/** With ATTN_SCREENSHOTS=DIR, the element `testId` as DIR/`file` (the README's pictures). */
async function screenshot(page: Page, testId: string, file: string): Promise<void> {
  if (!SHOTS) return;
  await mkdir(SHOTS, { recursive: true });
  await page.getByTestId(testId).screenshot({ path: path.join(SHOTS, file) });
}

describe('the caption view (browser mode, headless Chromium)', { skip, timeout: SHOTS ? 1_800_000 : 300_000 }, () => {
  const env = browserModeSuite((workspace) => copyTemplates(workspace, [SAT]));

  test('words in a row with a map each: live in the Attention tab, scrubbed, reopened from the Runs tab, and in Inspect for a sample and a dropped image', async () => {
    await withEditor(env, async ({ page, errors }) => {
      await openTemplate(page, SAT);
      await fillTrainingForm(page, {
        dataset: 'digit-captions',
        ...(SHOTS ? { limit: 3000, epochs: 3, batchSize: 32 } : { limit: 160, epochs: 1, batchSize: 16 }),
        probeEvery: 3,
        probeIntervalMs: 0,
      });
      await page.getByTestId('train-start').click();
      await waitForState(page, 'done', SHOTS ? 1_500_000 : 120_000);
      const runId = (await text(page, 'train-run-id'))!.trim();

      await page.getByTestId('dock-tab-attention').click();
      const figure = '[data-testid="attention-caption"]';
      await page.getByTestId('attention-caption').waitFor({ timeout: 30_000 });
      const words = await captionWords(page, 'attention-caption');
      assert.match((await text(page, 'attention-caption-truth')) ?? '', /^true: [a-z ]+ [✓✗]$/, 'the probe canvas’s true caption');
      await page.getByTestId('attention-caption-colour-bar').waitFor();
      await assertDrawn(page, figure, 30, 'the words’ maps are drawn over the canvas');

      // Hovering a word shows its map alone; leaving the row shows them all again.
      await page.getByTestId(`attention-caption-word-${words.length - 1}`).hover();
      assert.equal(await page.getByTestId('attention-caption').getAttribute('data-shown'), String(words.length - 1));
      await assertDrawn(page, figure, 30, 'one word’s map is drawn');
      await page.getByTestId('attention-step').hover();
      assert.equal(await page.getByTestId('attention-caption').getAttribute('data-shown'), 'all');
      if (SHOTS) {
        await page.getByTitle('Close panel').first().click();
        await screenshot(page, 'attention-panels', 'caption-view.png');
      }

      // The step slider goes back to the first probe: the panel shows that step's caption.
      await page.getByTestId('attention-step').focus();
      await page.keyboard.press('Home');
      assert.match((await text(page, 'attention-step-label')) ?? '', /^\d+ \(1\/\d+\)$/);
      const first = await captionWords(page, 'attention-caption');
      await assertDrawn(page, figure, 30, 'the first probe’s maps are drawn');

      // Reopened from the Runs tab, it is read back from the run folder (at the step the slider holds).
      await page.getByTestId('dock-tab-runs').click();
      await page.getByTestId(`run-open-${runId}`).click();
      await page.getByTestId('dock-tab-attention').click();
      await page.getByTestId('attention-step-label').waitFor();
      assert.match((await text(page, 'attention-step-label')) ?? '', /^\d+ \(1\/\d+\)$/);
      assert.deepEqual(await captionWords(page, 'attention-caption'), first, 'the first probe’s caption, read back');
      await assertDrawn(page, figure, 30, 'the reopened run draws its caption');

      // The decoder's attention picked as a generic panel: its tiles are labelled by the same caption's words.
      await page.getByTestId('attention-add-panel').click();
      await page.locator('[data-testid^="attention-source-"]').last().selectOption('decoder.attention');
      const tiles = page.getByTestId('attention-map-decoder-attention').getByTestId('attention-canvas');
      await tiles.waitFor();
      const labels = ((await tiles.getAttribute('data-labels')) ?? '').split('|');
      first.forEach((w, t) => assert.match(labels[t], new RegExp(`^${t + 1} ${w}( \\(true [a-z<>]+\\))?$`), `tile ${t} of ${labels.join(' | ')}`));

      // Inspect: a validation sample, then a dropped image.
      await page.getByTestId('dock-tab-inspect').click();
      await page.getByTestId('inspect-run').click();
      await page.getByTestId('inspect-caption').waitFor({ timeout: 60_000 });
      const inspected = await captionWords(page, 'inspect-caption');
      assert.match((await text(page, 'inspect-verdict')) ?? '', /^caption [a-z ]*$/);
      assert.match((await text(page, 'inspect-caption-truth')) ?? '', /^true: [a-z ]+ [✓✗]$/);
      await assertDrawn(page, '[data-testid="inspect-caption"]', 30, 'Inspect draws each word’s map');
      assert.ok(inspected.length <= 6);
      assert.equal(
        await page.getByTestId('inspect-map-decoder-attention').count(),
        0,
        'the caption figure draws the decoder’s attention; no generic panel repeats it',
      );
      await screenshot(page, 'inspect-panel', 'caption-inspect.png');

      await dropFile(page, 'inspect-panel', 'two-bars.png', canvasPng());
      await page.getByTestId('inspect-dropped').waitFor({ timeout: 60_000 });
      await captionWords(page, 'inspect-caption');
      assert.equal(await page.getByTestId('inspect-caption-truth').count(), 0, 'a dropped image has no true caption');
      await assertDrawn(page, '[data-testid="inspect-caption"]', 30, 'the dropped image’s maps are drawn');
      assert.deepEqual(errors, []);
    });
  });
});
