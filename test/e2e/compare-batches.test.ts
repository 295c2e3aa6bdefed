// Compare's per-batch curves draw each batch's own loss and accuracy, as the
// run recorded them, not the epoch's running mean; a run recorded before
// per-batch values were streamed still draws its means, and says so (browser
// mode, headless Chromium, real clicks).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { RunFolder } from '../../engine/runs/run-folder.js';
import type { BatchRow } from '../../engine/runs/types.js';
import { trainRun } from '../helpers/train-run.js';
import { tinyMlp } from '../train-fixtures.js';
import { browserModeSuite, skipReason, withEditor } from './harness.js';

const skip = skipReason();
if (skip) console.log(`# NOTICE: ${skip}`);

const NEW = 'run-batches';
/** The same run as an older build wrote it: its batch rows without the batches' own values. */
const OLD = 'run-means-only';

describe("Compare's per-batch curves (browser mode, headless Chromium)", { skip, timeout: 180_000 }, () => {
  let last: BatchRow;
  const env = browserModeSuite(async (workspace) => {
    const runs = path.join(workspace, '..', 'state', 'runs');
    await trainRun(path.join(runs, NEW), tinyMlp(), { lr: 0.01, epochs: 1, limit: 200, batchSize: 10 });
    await cp(path.join(runs, NEW), path.join(runs, OLD), { recursive: true });
    const file = path.join(runs, OLD, 'batches.jsonl');
    const lines = (await readFile(file, 'utf8')).trim().split('\n');
    const stripped = lines.map((l) => {
      const { batchLoss: _loss, batchAccuracy: _accuracy, ...row } = JSON.parse(l) as BatchRow;
      return JSON.stringify(row);
    });
    await writeFile(file, `${stripped.join('\n')}\n`);
    last = (await RunFolder.open(path.join(runs, NEW)).batches()).at(-1)!;
  });

  test("per batch: the batches' own loss and accuracy, not the running mean; an old run's means are labelled", async () => {
    // The check can tell the two apart only where they differ.
    assert.ok(last.batchLoss !== undefined && last.batchAccuracy !== undefined, 'the run recorded the batches’ own values');
    assert.notEqual(last.batchLoss, last.loss);
    assert.notEqual(last.batchAccuracy, last.accuracy);

    await withEditor(env, async ({ page, errors }) => {
      await page.getByTestId('dock-tab-runs').click();
      await page.getByTestId(`run-pick-${NEW}`).check();
      await page.getByTestId(`run-pick-${OLD}`).check();
      await page.getByTestId('runs-compare').click();
      await page.getByTestId('compare-chart').locator('canvas').first().waitFor();
      await page.getByTestId('compare-per').selectOption('batch');

      /** The chart's last column: the step, then each run's value there (in the order ticked). */
      const lastColumn = async (metric: string) => {
        await page.getByTestId('compare-metric').selectOption(metric);
        // The title: the metric, then the legend's run ids.
        await page
          .getByTestId('compare-chart')
          .locator('.chart__title', { hasText: new RegExp(`^${metric}run-`) })
          .waitFor();
        const runs = await page
          .getByTestId('compare-legend')
          .locator('[data-testid^="compare-series-"]')
          .evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')));
        const [step, ...values] = (await page.getByTestId('compare-chart').getAttribute('data-last'))!.split(' ').map(Number);
        return { step, byRun: Object.fromEntries(runs.map((id, i) => [id!.slice('compare-series-'.length), values[i]])) };
      };

      const loss = await lastColumn('loss');
      assert.equal(loss.step, last.step);
      assert.equal(loss.byRun[NEW], last.batchLoss, "the batch's own loss");
      assert.equal(loss.byRun[OLD], last.loss, 'the old run can only show its running mean');
      const accuracy = await lastColumn('accuracy');
      assert.equal(accuracy.byRun[NEW], last.batchAccuracy, "the batch's own accuracy");
      assert.equal(accuracy.byRun[OLD], last.accuracy);

      assert.equal(await page.getByTestId(`compare-means-${NEW}`).count(), 0);
      assert.match((await page.getByTestId(`compare-means-${OLD}`).textContent()) ?? '', /mean so far/);
      assert.deepEqual(errors, []);
    });
  });
});
