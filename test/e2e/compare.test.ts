// Comparing runs in the Runs tab, in headless Chromium against browser mode:
// two real runs (the second with a wider hidden layer and another learning
// rate) are ticked and compared; both curves are drawn, and the graph diff and
// the settings diff name what changed.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { trainRun } from '../helpers/train-run.js';
import { Sweep } from '../../engine/sweep/index.js';
import { tinyMlp } from '../train-fixtures.js';
import { browserModeSuite, skipReason, textIncludes, withEditor } from './harness.js';

const skip = skipReason();
if (skip) console.log(`# NOTICE: ${skip}`);

describe('compare runs end to end (browser mode, headless Chromium)', { skip, timeout: 240_000 }, () => {
  const env = browserModeSuite(async (workspace) => {
    const runs = path.join(workspace, '..', 'state', 'runs');
    const wide = tinyMlp();
    wide.nodes.find((n) => n.id === 'hidden')!.params.units = 32;
    await trainRun(path.join(runs, 'run-narrow'), tinyMlp(), { lr: 0.01 });
    await trainRun(path.join(runs, 'run-wide'), wide, { lr: 0.003 });
    const sweep = await Sweep.open({
      graph: tinyMlp(),
      graphFile: 'tiny-mlp',
      params: ['hidden.units=4,32'],
      strategy: 'grid',
      seed: 1,
      metric: 'val_accuracy',
      goal: 'max',
      earlyStop: 'none',
      dataset: 'mnist',
      limit: 200,
      backend: 'cpu',
      train: { epochs: 1, batchSize: 20, lr: 0.01 },
      parallel: 2,
      dir: path.join(runs, 'sweeps', 'units-sweep'),
    });
    await sweep.run();
  });

  test('tick two runs, Compare: both curves, the settings diff and the graph diff', async () => {
    await withEditor(env, async ({ page, errors }) => {
      await page.getByTestId('dock-tab-runs').click();
      await page.getByTestId('run-pick-run-narrow').check();
      assert.equal(await page.getByTestId('runs-compare').isDisabled(), true, 'one run is not a comparison');
      await page.getByTestId('run-pick-run-wide').check();
      await page.getByTestId('runs-compare').click();
      await page.getByTestId('compare-view').waitFor();
      await page.getByTestId('compare-chart').locator('canvas').first().waitFor();
      // Both runs are series of the chart, each with its two epochs.
      assert.equal(await page.getByTestId('compare-series-run-narrow').getAttribute('data-points'), '2');
      assert.equal(await page.getByTestId('compare-series-run-wide').getAttribute('data-points'), '2');
      await page.waitForFunction(textIncludes, ['compare-graph-diff', '~ hidden.units: 16 → 32'] as const);
      await page.waitForFunction(textIncludes, ['compare-settings', 'lr'] as const);
      assert.match((await page.getByTestId('compare-metrics').textContent()) ?? '', /tiny-mlp[\s\S]*tiny-mlp/);
      // Per batch, by wall time: still both runs, with more points.
      await page.getByTestId('compare-per').selectOption('batch');
      await page.getByTestId('compare-by').selectOption('time');
      const batches = Number(await page.getByTestId('compare-series-run-wide').getAttribute('data-points'));
      assert.ok(batches > 2, `${batches} batch points`);
      assert.ok(Number(await page.getByTestId('compare-series-run-narrow').getAttribute('data-points')) > 2);
      assert.deepEqual(errors, []);
    });
  });

  test('Sweeps: the trials sorted by the metric, the best starred and drawn in the parallel coordinates; its graph opens in one click', async () => {
    await withEditor(env, async ({ page, errors }) => {
      await page.getByTestId('dock-tab-runs').click();
      await page.getByTestId('runs-sweeps').click();
      await page.getByTestId('sweep-units-sweep').click();
      await page.getByTestId('sweep-table').waitFor();
      const rows = page.getByTestId('sweep-table').locator('tbody tr');
      assert.equal(await rows.count(), 2);
      const best = ((await rows.first().getAttribute('data-testid')) ?? '').replace('sweep-trial-', '');
      assert.match((await rows.first().textContent()) ?? '', /★/, 'sorted best first, and starred');
      assert.equal(await page.getByTestId(`sweep-line-${best}`).getAttribute('stroke-width'), '2.5', 'the best line stands out');
      assert.equal(await page.getByTestId('sweep-parallel').locator('polyline').count(), 2);
      // Sorted by a parameter's column: largest first, then round the other way.
      await page.getByTestId('sweep-sort-hidden.units').click();
      assert.deepEqual(await rows.evaluateAll((trs) => trs.map((tr) => (tr as unknown as { dataset: { testid: string } }).dataset.testid)), [
        'sweep-trial-trial-002',
        'sweep-trial-trial-001',
      ]);
      await page.getByTestId('sweep-sort-hidden.units').click();
      assert.deepEqual(await rows.evaluateAll((trs) => trs.map((tr) => (tr as unknown as { dataset: { testid: string } }).dataset.testid)), [
        'sweep-trial-trial-001',
        'sweep-trial-trial-002',
      ]);
      await page.getByTestId(`sweep-open-${best}`).click();
      const units = best === 'trial-001' ? 4 : 32;
      await page.getByTestId('node-hidden').waitFor();
      await page.waitForFunction(textIncludes, ['node-hidden', String(units)] as const);
      assert.deepEqual(errors, []);
    });
  });
});
