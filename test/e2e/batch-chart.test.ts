// The per-batch chart draws each batch's own loss and accuracy as the training
// process sent them, not the epoch's running mean (browser mode, headless Chromium).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { RunFolder } from '../../engine/runs/run-folder.js';
import { browserModeSuite, copyTemplates, skipReason, withEditor } from './harness.js';
import { fillTrainingForm, openTemplate, waitForState } from './training-page.js';

const skip = skipReason();
if (skip) console.log(`# NOTICE: ${skip}`);

const BENCH = 'bench-se-cnn.attn.json';

describe('per-batch chart (browser mode, headless Chromium)', { skip, timeout: 240_000 }, () => {
  const env = browserModeSuite((workspace) => copyTemplates(workspace, [BENCH]));

  test("the per-batch chart's points are the batches' own values the process sent, not running means", async () => {
    await withEditor(env, async ({ page, errors }) => {
      await openTemplate(page, BENCH);
      await fillTrainingForm(page, { dataset: 'mnist', limit: 320, epochs: 1, batchSize: 8 });
      await page.getByTestId('train-start').click();

      // The chart's newest point (step loss accuracy), read as the run goes.
      const seen = new Map<number, [number, number]>();
      const chart = page.getByTestId('chart-batch');
      const deadline = Date.now() + 120_000;
      while ((await page.getByTestId('train-state').textContent()) !== 'done' && Date.now() < deadline) {
        const parts = (await chart.getAttribute('data-last'))?.split(' ') ?? [];
        // Empty until the first point arrives.
        if (parts.length === 3 && parts.every((p) => p !== '')) seen.set(Number(parts[0]), [Number(parts[1]), Number(parts[2])]);
        await page.waitForTimeout(40);
      }
      await waitForState(page, 'done', 1_000);
      const title = (await chart.locator('.chart__title').textContent())!;
      assert.ok(title.startsWith('Per batch') && !title.includes('mean so far'), title);

      // What the process sent, as the run folder recorded it.
      const runsDir = path.join(env.server.workspace, '..', 'state', 'runs');
      const [runDir] = await readdir(runsDir);
      const rows = new Map((await RunFolder.open(path.join(runsDir, runDir)).batches()).map((r) => [r.step, r]));
      assert.ok(seen.size >= 3, `${seen.size} points seen while training`);
      let apartFromMean = 0;
      for (const [step, [loss, accuracy]] of seen) {
        const row = rows.get(step)!;
        assert.ok(row, `step ${step} was streamed`);
        assert.equal(loss, row.batchLoss, `step ${step}: the batch's own loss`);
        assert.equal(accuracy, row.batchAccuracy, `step ${step}: the batch's own accuracy`);
        if (Math.abs(row.batchLoss! - row.loss) > 1e-6) apartFromMean++;
      }
      // Single batches of 8 scatter around the epoch's mean: most points are not it.
      assert.ok(apartFromMean >= seen.size / 2, `${apartFromMean} of ${seen.size} points differ from the running mean`);
      // Not a smoothed curve: the per-batch losses go up as well as down.
      const losses = [...rows.values()].sort((a, b) => a.step - b.step).map((r) => r.batchLoss!);
      assert.ok(
        losses.some((v, i) => i > 0 && v > losses[i - 1]),
        'some batch has a higher loss than the one before',
      );
      assert.deepEqual(errors, []);
    });
  });
});
