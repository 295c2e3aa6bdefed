// Sweeps and comparisons through the host API, as the app's Runs tab and
// Training panel ask for them: a sweep of the SE net's reduction started by
// the host runs real training processes into <runs>/sweeps/<id>/, is listed
// and opened with its ranking, its trials compare, and a trial's graph opens
// with the swept value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { GraphLoad, RunComparison, SweepDetail, SweepSummary } from '../common/host-api/api.js';
import { forkTraining, ProcessTrainingDriver } from '../electron/host/training.js';
import { sandbox, tinyMnistGraph as seNet } from './host-fixtures.js';

test('host: startSweep runs the trials; listSweeps, openSweep, compareRuns and sweepTrialGraph read them', { timeout: 300_000 }, async () => {
  const s = await sandbox('browser', { training: new ProcessTrainingDriver(forkTraining) });
  try {
    await assert.rejects(
      s.service.dispatch('startSweep', { graph: seNet(), params: ['se.factor=2,4'], dataset: 'mnist' }),
      /--param 'se.factor=2,4': node "se" \(attention.squeezeExcitation\) has no parameter "factor"/,
    );
    const { sweepId } = (await s.service.dispatch('startSweep', {
      graph: seNet(),
      params: ['se.reduction=1,4', 'lr=0.01'],
      dataset: 'mnist',
      limit: 200,
      epochs: 1,
      batchSize: 20,
      parallel: 2,
      backend: 'cpu',
    })) as { sweepId: string };
    let detail: SweepDetail;
    for (let waited = 0; ; waited += 250) {
      assert.ok(waited < 240_000, 'the sweep did not end');
      detail = (await s.service.dispatch('openSweep', { sweepId })) as SweepDetail;
      if (detail.state !== 'running') break;
      await sleep(250);
    }
    assert.equal(detail.state, 'done', JSON.stringify(detail.trials));
    assert.deepEqual(
      detail.trials.map((t) => [t.values['se.reduction'], t.status]),
      [
        [1, 'done'],
        [4, 'done'],
      ],
    );
    const [first, second] = detail.trials.map((t) => t.metric!);
    assert.equal(detail.best, first >= second ? 'trial-001' : 'trial-002');
    assert.equal(detail.ranking[0], detail.best);
    const list = (await s.service.dispatch('listSweeps', {})) as SweepSummary[];
    assert.deepEqual(
      list.map((w) => [w.sweepId, w.finished, w.total, w.best]),
      [[sweepId, 2, 2, detail.best]],
    );

    const c = (await s.service.dispatch('compareRuns', { runIds: [`sweeps/${sweepId}/trial-001`, `sweeps/${sweepId}/trial-002`] })) as RunComparison;
    assert.deepEqual(c.graphDiffs[0].diff.changed, [{ id: 'se', params: [{ param: 'reduction', before: 1, after: 4 }] }]);
    assert.deepEqual(c.settingsDiff, [], 'the same settings for both trials');
    await assert.rejects(s.service.dispatch('compareRuns', { runIds: ['../etc', 'x'] }), /"\.\.\/etc" is not a run id/);

    const load = (await s.service.dispatch('sweepTrialGraph', { sweepId, trialId: 'trial-002' })) as GraphLoad;
    assert.equal(load.path, null, 'opens as a new, unsaved graph');
    assert.equal(load.graph!.nodes.find((n) => n.id === 'se')!.params.reduction, 4);
  } finally {
    await s.service.dispose();
    await s.cleanup();
  }
});
