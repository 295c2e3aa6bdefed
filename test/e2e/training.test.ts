// Training from the editor in headless Chromium against browser mode: a real
// training process on real MNIST samples, live charts and attention panels,
// pause / resume / stop, the graph locked while a run is live, the runs list,
// and inspection after training of a validation sample and of a dropped image.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import type { Page } from 'playwright-core';
import { browserModeSuite, copyTemplates, skipReason, withEditor } from './harness.js';
import { assertDrawn, dropFile, fillTrainingForm, openTemplate, type PageGlobals, selectOutput, text, waitForState } from './training-page.js';
import { encodePng } from '../../engine/data/png.js';

const skip = skipReason();
if (skip) console.log(`# NOTICE: ${skip}`);

const BENCH = 'bench-se-cnn.attn.json';
const CBAM = 'cbam-mnist-small.attn.json';

const numberAbove = ([id, attr, n]: [string, string | null, number]) => {
  const el = (globalThis as unknown as PageGlobals).document.querySelector(`[data-testid="${id}"]`);
  return Number(attr ? el?.getAttribute(attr) : el?.textContent) > n;
};

/** How many points the per-batch chart holds. */
const batchPoints = async (page: Page) => Number(await page.getByTestId('chart-batch').getAttribute('data-points'));

/** A white vertical stroke on black (a "1" of sorts), 64×64 RGB, as PNG bytes. */
function strokeImage(): Buffer {
  const n = 64;
  const data = new Uint8Array(n * n * 3);
  for (let y = 12; y < 52; y++) for (let x = 28; x < 36; x++) data.fill(255, (y * n + x) * 3, (y * n + x + 1) * 3);
  return encodePng({ width: n, height: n, channels: 3, data });
}

/** Node count through the store, and an attempt to add a block (refused while locked). */
const tryEdit = (page: Page) =>
  page.evaluate(() => {
    const ed = (globalThis as unknown as PageGlobals).attnEditor;
    const before = ed.getState().graph.nodes.length;
    ed.getState().addBlock('core.dense', { x: 0, y: 0 });
    return { before, after: ed.getState().graph.nodes.length };
  });

describe('training from the editor (browser mode, headless Chromium)', { skip, timeout: 300_000 }, () => {
  const env = browserModeSuite((workspace) => copyTemplates(workspace, [BENCH, CBAM]));

  test('the benchmark template trains on MNIST: live charts and channel weights, pause, resume, stop, reopen from the runs list', async () => {
    await withEditor(env, async ({ page, errors }) => {
      await openTemplate(page, BENCH);
      await fillTrainingForm(page, { dataset: 'mnist', limit: 512, epochs: 1, batchSize: 8, probeEvery: 1, probeIntervalMs: 0 });
      await page.getByTestId('train-start').click();

      // Charts advance batch by batch.
      await page.waitForFunction(numberAbove, ['chart-batch', 'data-points', 1] as [string, string, number], { timeout: 90_000 });
      const early = await batchPoints(page);
      await page.waitForFunction(numberAbove, ['chart-batch', 'data-points', early] as [string, string, number], { timeout: 60_000 });
      assert.match((await text(page, 'train-backend-info')) ?? '', /Backend \w+/);
      assert.ok(Number(await text(page, 'train-rate')) > 0, 'samples/s is shown');

      // Pause at once (the run is short): the run stands still, the graph stays read-only.
      await page.getByTestId('train-pause').click();
      await waitForState(page, 'paused');
      await page.getByTestId('graph-locked').waitFor();
      const edit = await tryEdit(page);
      assert.equal(edit.after, edit.before, 'adding a block is refused while a run is live');
      await page.getByTestId('train-held').waitFor(); // the batch in flight when pausing has landed
      const pausedAt = await text(page, 'train-step');

      // The SE block's channel weights are in an attention panel, frozen while paused.
      await page.getByTestId('dock-tab-attention').click();
      await selectOutput(page, 'se.weights');
      await page.getByTestId('attention-map-se-weights').waitFor();
      await assertDrawn(page, '[data-testid="attention-panels"]', 4, 'the channel-weight bars are drawn');
      await page.getByTestId('attention-frozen').waitFor();
      const frozenStep = await text(page, 'attention-step-label');
      await page.waitForTimeout(1200);
      assert.equal(await text(page, 'attention-step-label'), frozenStep, 'the attention view is frozen while paused');
      await page.getByTestId('dock-tab-training').click();
      assert.equal(await text(page, 'train-step'), pausedAt, 'no batches while paused');

      // Resume, then stop.
      await page.getByTestId('train-resume').click();
      await waitForState(page, 'running');
      await page.waitForFunction(numberAbove, ['train-step', null, Number(pausedAt)] as [string, string | null, number], { timeout: 60_000 });
      await page.getByTestId('train-stop').click();
      await waitForState(page, 'stopped');
      const runId = (await text(page, 'train-run-id'))!.trim();
      assert.equal((await tryEdit(page)).after, edit.before + 1, 'the graph is editable again after the run');

      // Reopen it from the runs list: state, snapshots read back from disk, drawn again.
      await page.getByTestId('dock-tab-runs').click();
      await page.getByTestId(`run-row-${runId}`).waitFor();
      assert.match((await page.getByTestId(`run-row-${runId}`).textContent()) ?? '', /stopped/);
      await page.getByTestId(`run-open-${runId}`).click();
      // The block added above is unsaved: the run's graph replaces it once that is agreed to.
      await page.getByTestId('run-unsaved-discard').click();
      const snapshots = Number(await text(page, 'run-detail-snapshots'));
      await page.getByTestId('dock-tab-training').click();
      assert.match((await text(page, 'train-state')) ?? '', /stopped/);
      assert.ok((await batchPoints(page)) >= early, 'the reopened run draws its per-batch chart again');
      assert.ok(snapshots >= 2, `${snapshots} attention snapshots stored`);
      await page.getByTestId('dock-tab-attention').click();
      await selectOutput(page, 'se.weights');
      await page.getByTestId('attention-map-se-weights').waitFor();
      await assertDrawn(page, '[data-testid="attention-panels"]', 4, 'the reopened run draws its stored maps');
      // Scrub back to the first snapshot.
      await page.getByTestId('attention-step').focus();
      await page.keyboard.press('Home');
      await page.waitForFunction(
        (id) => /\(1\//.test((globalThis as unknown as PageGlobals).document.querySelector(`[data-testid="${id}"]`)?.textContent ?? ''),
        'attention-step-label',
      );
      assert.deepEqual(errors, []);
    });
  });

  test('a CBAM net shows its spatial map as a heatmap over the digit; after training a validation sample and a dropped image are inspected', async () => {
    await withEditor(env, async ({ page, errors }) => {
      await openTemplate(page, CBAM);
      await fillTrainingForm(page, { limit: 320, epochs: 1, batchSize: 32, probeEvery: 2, probeIntervalMs: 0 });
      await page.getByTestId('dataset-preview-button').click();
      await page.getByTestId('dataset-preview').waitFor({ timeout: 60_000 });
      assert.match((await text(page, 'dataset-preview')) ?? '', /288 training \+ 32 validation samples/);
      await page.getByTestId('train-start').click();
      await waitForState(page, 'done');
      // One epoch: one point on the epoch chart, validation metrics listed.
      assert.equal(await page.getByTestId('chart-epoch').getAttribute('data-points'), '1');
      assert.match((await text(page, 'train-validation')) ?? '', /val_accuracy/);

      await page.getByTestId('dock-tab-attention').click();
      await selectOutput(page, 'cbam.spatialMap');
      const map = page.getByTestId('attention-map-cbam-spatialMap');
      await map.waitFor();
      assert.equal(await map.locator('canvas').getAttribute('data-draw'), 'tiles');
      await assertDrawn(page, '[data-testid="attention-map-cbam-spatialMap"]', 30, 'the spatial heatmap is not blank');

      await page.getByTestId('dock-tab-inspect').click();
      await page.getByTestId('inspect-index').fill('3');
      await page.getByTestId('inspect-run').click();
      await page.getByTestId('inspect-verdict').waitFor({ timeout: 90_000 });
      assert.match((await text(page, 'inspect-verdict')) ?? '', /predicted \d · true \d/);
      assert.equal(await page.locator('[data-testid="inspect-probs"] li').count(), 10);
      await page.getByTestId('inspect-map-cbam-spatialMap').waitFor();
      await page.getByTestId('inspect-map-cbam-channelWeights').waitFor();
      await assertDrawn(page, '[data-testid="inspect-map-cbam-spatialMap"]', 30, 'the inspected spatial map is drawn');

      // An image of one's own, dropped onto the inspect view: RGB at 64×64, made grey and fitted to 28×28.
      await dropFile(page, 'inspect-panel', 'one.png', strokeImage());
      await page.getByTestId('inspect-dropped').waitFor({ timeout: 90_000 });
      assert.match((await text(page, 'inspect-dropped')) ?? '', /one\.png · 64×64 → 28×28×1/);
      assert.match((await text(page, 'inspect-verdict')) ?? '', /^predicted \d$/, 'a dropped image has no true class');
      assert.equal(await page.locator('[data-testid="inspect-probs"] li').count(), 10);
      await assertDrawn(page, '[data-testid="inspect-map-cbam-spatialMap"]', 30, 'the spatial map over the dropped image is drawn');
      // The file button takes the same path; a file that is no image is named in the error.
      await page.getByTestId('inspect-image-file').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a picture') });
      await page.getByTestId('inspect-error').waitFor({ timeout: 30_000 });
      assert.match((await text(page, 'inspect-error')) ?? '', /notes\.txt is not a PNG or JPEG image/);
      assert.deepEqual(errors, []);
    });
  });
});
