// Training through the host service, as the editor starts it: a real training
// process (forked), real MNIST samples, events with attention maps, the run
// directory and the runs list; pause, resume and stop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HostEvent, RunDetail, RunState, RunSummary, TrainingEvent } from '../common/host-api/api.js';
import { forkTraining, ProcessTrainingDriver } from '../electron/host/training.js';
import { tinyMnistGraph as seNet, withSandbox, type Sandbox } from './host-fixtures.js';

const probeEveryBatch = { enabled: true, samples: 2, everyBatches: 1, minIntervalMs: 0 };

function collect(s: Sandbox) {
  const events: { runId: string; event: TrainingEvent }[] = [];
  s.service.onEvent((e: HostEvent) => {
    if (e.channel === 'training') events.push({ runId: e.runId, event: e.event });
  });
  const waitFor = async (pred: (ev: TrainingEvent) => boolean, what: string, ms = 60_000) => {
    const t0 = Date.now();
    for (;;) {
      const hit = events.find((x) => pred(x.event));
      if (hit) return hit.event;
      if (Date.now() - t0 > ms)
        throw new Error(`no ${what} event in ${ms} ms; got ${JSON.stringify(events.map((x) => x.event).filter((e) => e.type !== 'attention'))}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return { events, waitFor };
}

const isState = (state: RunState) => (e: TrainingEvent) => e.type === 'state' && e.state === state;

test('a run started from the host trains in its own process, streams attention maps and is listed afterwards', { timeout: 120_000 }, async () => {
  await withSandbox({ training: new ProcessTrainingDriver(forkTraining) }, async (s) => {
    const { events, waitFor } = collect(s);
    const { runId } = (await s.service.dispatch('startTraining', {
      graph: seNet(),
      dataset: { name: 'mnist', limit: 80 },
      config: { epochs: 1, batchSize: 16, probe: probeEveryBatch },
      backend: 'cpu',
    })) as { runId: string };
    assert.match(runId, /^\d{8}T\d{6}-SE-probe-net$/);
    await waitFor((e) => e.type === 'state' && ['done', 'failed'].includes(e.state), 'final state');
    const failed = events.find((x) => x.event.type === 'state' && x.event.state === 'failed');
    assert.equal(failed, undefined, JSON.stringify(failed?.event));
    assert.ok(events.every((x) => x.runId === runId));

    const started = events.find((x) => x.event.type === 'started')?.event;
    assert.ok(started?.type === 'started' && started.backend === 'cpu');
    assert.ok(events.some((x) => x.event.type === 'progress'));
    const att = events.find((x) => x.event.type === 'attention')?.event;
    assert.ok(att?.type === 'attention');
    const map = att.maps.find((m) => m.nodeId === 'se' && m.port === 'weights');
    assert.ok(map, 'the SE channel weights are probed');
    assert.ok(map.data instanceof Float32Array);
    assert.deepEqual(map.shape, [2, 4]);
    assert.ok(
      [...map.data].every((v) => v > 0 && v < 1),
      'sigmoid gate values lie in (0, 1)',
    );

    const runs = (await s.service.dispatch('listRuns', {})) as RunSummary[];
    assert.equal(runs.length, 1);
    assert.equal(runs[0].runId, runId);
    assert.equal(runs[0].state, 'done');
    assert.equal(runs[0].backend, 'cpu');
    assert.ok(Number.isFinite(runs[0].finalMetrics.loss), JSON.stringify(runs[0].finalMetrics));
    const detail = (await s.service.dispatch('openRun', { runId })) as RunDetail;
    assert.equal(detail.graph?.name, 'SE probe net');
    assert.equal(detail.metrics.length, 1, 'one epoch, one metrics row');
    assert.ok(detail.snapshots.length >= 1);
    assert.ok(detail.checkpoints.length >= 1);
  });
});

test('a pause asked for while the process starts holds the run before its first batch; stopping it then ends it at step 0', { timeout: 120_000 }, async () => {
  await withSandbox({ training: new ProcessTrainingDriver(forkTraining) }, async (s) => {
    const { events, waitFor } = collect(s);
    const start = { graph: seNet(), dataset: { name: 'mnist', limit: 400 }, config: { epochs: 50, batchSize: 8, probe: { enabled: false } }, backend: 'cpu' };
    const { runId } = (await s.service.dispatch('startTraining', start)) as { runId: string };
    await s.service.dispatch('pauseTraining', { runId });
    await assert.rejects(s.service.dispatch('startTraining', start), /is still training: stop it first/);
    // 'started' comes just before the first batch: the worker is now at the pause.
    await waitFor((e) => e.type === 'started', 'started');
    await waitFor(isState('paused'), 'paused');
    assert.equal(((await s.service.dispatch('listRuns', {})) as RunSummary[])[0].state, 'paused', 'the run starting does not undo the pause');
    // Had the pause not held, batches would have run from 'started' until the stop arrived.
    await s.service.dispatch('stopTraining', { runId });
    await waitFor(isState('stopped'), 'stopped');
    const done = events.find((x) => x.event.type === 'done')?.event;
    assert.ok(done?.type === 'done' && done.reason === 'stopped');
    assert.equal(done.steps, 0, 'no batch was trained');
    assert.deepEqual(
      events.filter((x) => x.event.type === 'progress'),
      [],
    );
    const saved = events.flatMap((x) => (x.event.type === 'checkpoint' ? [[x.event.reason, x.event.step]] : []));
    assert.deepEqual(saved, [['stop', 0]]);
  });
});

test(
  'pause, resume and stop reach the training process mid-run: no batch is lost or repeated; a second run is refused while one trains',
  { timeout: 120_000 },
  async () => {
    await withSandbox({ training: new ProcessTrainingDriver(forkTraining) }, async (s) => {
      const { events, waitFor } = collect(s);
      // A checkpoint after every batch: an event per step (progress events are thinned to ten a second).
      const steps = () => events.flatMap((x) => (x.event.type === 'checkpoint' ? [x.event] : []));
      const start = {
        graph: seNet(),
        dataset: { name: 'mnist', limit: 400 },
        config: { epochs: 50, batchSize: 8, checkpointEvery: 1, probe: { enabled: false } },
        backend: 'cpu',
      };
      const { runId } = (await s.service.dispatch('startTraining', start)) as { runId: string };
      await waitFor((e) => e.type === 'checkpoint', 'checkpoint');
      await assert.rejects(s.service.dispatch('startTraining', start), /is still training: stop it first/);

      await s.service.dispatch('pauseTraining', { runId });
      await waitFor(isState('paused'), 'paused');
      await s.service.dispatch('resumeTraining', { runId });
      await waitFor(isState('running'), 'running');
      const before = Math.max(...steps().map((c) => c.step));
      await waitFor((e) => e.type === 'checkpoint' && e.step > before, 'a batch after resuming');
      await s.service.dispatch('stopTraining', { runId });
      await waitFor(isState('stopped'), 'stopped');

      const interval = steps()
        .filter((c) => c.reason === 'interval')
        .map((c) => c.step);
      assert.deepEqual(
        interval,
        Array.from({ length: interval.length }, (_, i) => i + 1),
        'one checkpoint per step, in order, across the pause',
      );
      const stop = steps().filter((c) => c.reason === 'stop');
      assert.deepEqual(
        stop.map((c) => c.step),
        [interval.at(-1)],
        'the stop lands after the last batch trained',
      );
      const runs = (await s.service.dispatch('listRuns', {})) as RunSummary[];
      assert.equal(runs[0].state, 'stopped');
      await assert.rejects(s.service.dispatch('pauseTraining', { runId }), /is not training/);
    });
  },
);

test('continuing a stopped run with "+1 epoch" trains one epoch past its checkpoint, not past the original total', { timeout: 120_000 }, async () => {
  await withSandbox({ training: new ProcessTrainingDriver(forkTraining) }, async (s) => {
    const { events, waitFor } = collect(s);
    const start = { graph: seNet(), dataset: { name: 'mnist', limit: 48 }, config: { epochs: 10, batchSize: 16, probe: { enabled: false } }, backend: 'cpu' };
    const { runId } = (await s.service.dispatch('startTraining', start)) as { runId: string };
    await waitFor((e) => e.type === 'epoch' && e.epoch === 1, 'second epoch');
    await s.service.dispatch('stopTraining', { runId });
    const stopped = await waitFor((e) => e.type === 'done', 'done');
    assert.ok(stopped.type === 'done' && stopped.reason === 'stopped' && stopped.epochs < 9, JSON.stringify(stopped));
    await waitFor(isState('stopped'), 'stopped');
    events.length = 0;

    await s.service.dispatch('startTraining', { ...start, resumeFrom: { runId, moreEpochs: 1 } });
    const done = await waitFor((e) => e.type === 'done', 'done of the continuation');
    assert.ok(done.type === 'done');
    assert.equal(done.reason, 'completed');
    assert.equal(done.epochs, stopped.epochs + 1, `stopped after ${stopped.epochs} epochs, +1 epoch`);
    const started = events.find((x) => x.event.type === 'started')?.event;
    assert.equal(started?.type === 'started' && started.epochs, stopped.epochs + 1);
  });
});
