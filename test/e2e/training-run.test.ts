// One current run in the dock, driven with the mouse and keyboard: a run
// stopped early and continued "+1 epoch" ends one epoch later; the run detail
// survives switching tabs; another graph puts the stopped run away, and its
// form shows the sequence task's real length and vocabulary; a new run moves
// the step slider to its newest snapshot; reopening the old run (after the
// unsaved-changes prompt) brings back its graph; the dock's size is dragged
// and remembered.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import type { Page } from 'playwright-core';
import { browserModeSuite, copyTemplates, openFile, skipReason, withEditor } from './harness.js';
import { fitWhole } from './canvas-page.js';
import { fillTrainingForm, type PageGlobals, text, waitForState } from './training-page.js';

const skip = skipReason();
if (skip) console.log(`# NOTICE: ${skip}`);

const IMAGE = 'bench-se-cnn.attn.json';
const SEQUENCE = 'transformer-encoder-seq.attn.json';

const points = async (page: Page, id: string) => Number(await page.getByTestId(id).getAttribute('data-points'));
const pointsAtLeast = ([id, n]: [string, number]) =>
  Number((globalThis as unknown as PageGlobals).document.querySelector(`[data-testid="${id}"]`)?.getAttribute('data-points')) >= n;

describe('one current run in the dock (browser mode, headless Chromium)', { skip, timeout: 300_000 }, () => {
  const env = browserModeSuite((workspace) => copyTemplates(workspace, [IMAGE, SEQUENCE]));

  test('continue +1 epoch, detail across tabs, another graph puts the run away, slider follows the new run, reopening switches the graph', async () => {
    await withEditor(env, async ({ page, errors }) => {
      // An image run of 10 epochs, stopped after its second.
      await openFile(page, IMAGE, 'node-image');
      await fillTrainingForm(page, { dataset: 'mnist', limit: 80, epochs: 10, batchSize: 16, probeEvery: 1, probeIntervalMs: 0 });
      await page.getByTestId('train-start').click();
      await page.waitForFunction(pointsAtLeast, ['chart-epoch', 2] as [string, number], { timeout: 90_000 });
      await page.getByTestId('train-stop').click();
      await waitForState(page, 'stopped');
      const runId = (await text(page, 'train-run-id'))!.trim();
      const stoppedAt = await points(page, 'chart-epoch');
      assert.ok(stoppedAt < 10, `stopped after ${stoppedAt} epochs`);
      // Each batch's own values now (test/e2e/batch-chart.test.ts), so no "mean so far" in its title.
      assert.doesNotMatch((await page.getByTestId('chart-batch').textContent()) ?? '', /mean so far/, 'the per-batch chart says what it draws');

      // Pin the step slider to the first snapshot (keyboard), for later.
      await page.getByTestId('dock-tab-attention').click();
      await page.getByTestId('attention-step').focus();
      await page.keyboard.press('Home');
      await page.getByTestId('attention-follow').waitFor();

      // The run detail stays open across tabs; its name is not clipped at the start.
      await page.getByTestId('dock-tab-runs').click();
      await page.getByTestId(`run-open-${runId}`).click();
      await page.getByTestId('run-continue').waitFor();
      await page.getByTestId('dock-tab-training').click();
      await page.getByTestId('dock-tab-runs').click();
      await page.getByTestId('run-continue').waitFor({ timeout: 2000 });
      const list = (await page.locator('.runs-list').boundingBox())!;
      const name = (await page.getByTestId(`run-name-${runId}`).boundingBox())!;
      assert.ok(name.x >= list.x, `the name column starts inside the list (${name.x} ≥ ${list.x})`);

      // "+1 epoch" from the latest checkpoint: one epoch past the stop, not past the original 10.
      await page.getByTestId('run-extra-epochs').click({ clickCount: 3 });
      await page.keyboard.type('1');
      await page.getByTestId('run-continue').click();
      await page.getByTestId('dock-tab-training').click();
      await waitForState(page, 'done');
      assert.equal(await points(page, 'chart-epoch'), stoppedAt + 1, `stopped after ${stoppedAt} epochs, continued by one`);

      // Another graph: the finished run is put away; the form shows the sequence task's real sizes.
      await openFile(page, SEQUENCE, 'node-tokens');
      assert.equal(await text(page, 'train-state'), 'idle', 'the new graph does not show the old run');
      assert.equal(await page.getByTestId('train-dataset').inputValue(), 'reverse');
      assert.equal(await page.getByTestId('train-seqLength').inputValue(), '10');
      assert.equal(await page.getByTestId('train-vocab').inputValue(), '10');

      // A sequence run: the slider follows it, its samples are token sequences (no digit thumbnails).
      await fillTrainingForm(page, { size: 256, epochs: 1, batchSize: 32, probeEvery: 1, probeIntervalMs: 0 });
      await page.getByTestId('train-start').click();
      await waitForState(page, 'done');
      await page.getByTestId('dock-tab-attention').click();
      await page.getByTestId('probe-sample-0').waitFor();
      assert.equal(await page.getByTestId('attention-follow').count(), 0, 'the slider follows the new run (no "Latest" to press)');
      const label = (await text(page, 'attention-step-label')) ?? '';
      const [, at, of] = /\((\d+)\/(\d+)\)/.exec(label) ?? [];
      assert.ok(at && at === of, `the newest snapshot is shown: ${label}`);
      assert.equal(await page.locator('[data-testid="probe-sample-0"] canvas').count(), 0, 'no image thumbnails for token samples');

      // An unsaved edit, then the old run: the prompt asks, discarding shows that run's graph.
      await page.getByTestId('node-embed').click();
      await page.keyboard.press('Delete');
      await page.waitForFunction(() => (globalThis as unknown as PageGlobals).document.querySelector('[data-testid="node-embed"]') === null);
      await page.getByTestId('dock-tab-runs').click();
      await page.getByTestId(`run-open-${runId}`).click();
      await page.getByTestId('run-unsaved-prompt').waitFor();
      await page.getByTestId('run-unsaved-discard').click();
      await page.getByTestId('node-image').waitFor();
      await fitWhole(page); // it opens at its input end
      await page.getByTestId('node-se').waitFor();
      assert.equal(await page.getByTestId('node-embed').count(), 0);
      await page.getByTestId('dock-tab-training').click();
      assert.equal(await text(page, 'train-state'), 'done');
      assert.equal(await page.getByTestId('train-dataset').inputValue(), 'mnist', 'the form shows the run’s dataset');
      assert.equal(await page.getByTestId('train-batchSize').inputValue(), '16');

      // The dock is dragged taller by its handle, and opens at that size after a reload.
      const dock = page.getByTestId('training-dock');
      const before = (await dock.boundingBox())!.height;
      const grip = (await page.getByTestId('dock-resize').boundingBox())!;
      const [gx, gy] = [grip.x + grip.width / 2, grip.y + grip.height / 2];
      await page.mouse.move(gx, gy);
      await page.mouse.down();
      await page.mouse.move(gx, gy - 60, { steps: 4 });
      await page.mouse.move(gx, gy - 120, { steps: 4 });
      await page.mouse.up();
      const after = (await dock.boundingBox())!.height;
      assert.ok(Math.abs(after - before - 120) <= 2, `dragged 120 px up: ${before} → ${after}`);
      await page.reload();
      await page.getByTestId('dock-tab-training').click();
      assert.ok(Math.abs((await dock.boundingBox())!.height - after) <= 2, 'the size is remembered');
      assert.deepEqual(errors, []);
    });
  });
});
