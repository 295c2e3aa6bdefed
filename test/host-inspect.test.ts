// What the editor reads back from training through the host: stored attention
// snapshots, dataset previews (with the errors found), and the inspection of a
// validation sample through a run's checkpoint in a training process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { inspectInProcess } from '../engine/worker/client.js';
import type { AttentionMap, DatasetPreview, HostEvent, Inspection, RunDetail, RunSnapshot, TrainingEvent } from '../electron/host/api.js';
import { forkTraining, ProcessTrainingDriver } from '../electron/host/training.js';
import { sandbox, tinyMnistGraph } from './host-fixtures.js';

const seWeights = (maps: AttentionMap[]) => maps.find((m) => m.nodeId === 'se' && m.port === 'weights');

test('snapshots read back equal the maps streamed; a validation sample inspected through the final checkpoint matches the final probe', { timeout: 120_000 }, async () => {
  const s = await sandbox('browser', { training: new ProcessTrainingDriver(forkTraining), inspect: (cmd) => inspectInProcess(cmd) });
  const events: TrainingEvent[] = [];
  s.service.onEvent((e: HostEvent) => void (e.channel === 'training' && events.push(e.event)));
  try {
    const { runId } = (await s.service.dispatch('startTraining', {
      graph: tinyMnistGraph(),
      dataset: { name: 'mnist', limit: 80 },
      config: { epochs: 1, batchSize: 16, probe: { enabled: true, samples: 2, everyBatches: 2, minIntervalMs: 0 } },
      backend: 'cpu',
    })) as { runId: string };
    for (const t0 = Date.now(); !events.some((e) => e.type === 'state' && (e.state === 'done' || e.state === 'failed')); ) {
      if (Date.now() - t0 > 90_000) throw new Error('the run did not end');
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(events.some((e) => e.type === 'state' && e.state === 'done'), JSON.stringify(events.filter((e) => e.type === 'state')));

    const streamed = events.flatMap((e) => (e.type === 'attention' ? [e] : []));
    const detail = (await s.service.dispatch('openRun', { runId })) as RunDetail;
    assert.deepEqual(detail.snapshots, [...new Set(streamed.map((e) => e.step))].sort((a, b) => a - b));
    // The batches as streamed: the host logs what the training process sent (the last batch always).
    const progress = events.flatMap((e) => (e.type === 'progress' ? [e] : []));
    assert.deepEqual(
      detail.batches.map((b) => [b.step, b.loss]),
      progress.map((p) => [p.step, p.loss]),
    );
    assert.equal(detail.batches.at(-1)?.step, 5, '72 training samples in batches of 16');
    for (const e of streamed) {
      const snap = (await s.service.dispatch('readSnapshot', { runId, step: e.step })) as RunSnapshot;
      const stored = seWeights(snap.maps)!;
      assert.deepEqual(stored.shape, [2, 4]);
      assert.deepEqual([...stored.data], [...seWeights(e.maps)!.data], `snapshot at step ${e.step}`);
    }
    await assert.rejects(s.service.dispatch('readSnapshot', { runId, step: 99_999 }), /no attention snapshot at step 99999/);

    // The final probe ran on validation samples 0 and 1 with the weights of the last checkpoint.
    const last = seWeights(streamed.at(-1)!.maps)!;
    const r = (await s.service.dispatch('inspectSample', { runId, index: 1 })) as Inspection;
    assert.equal(r.index, 1);
    assert.equal(r.validationSamples, 8);
    assert.equal(r.backend, 'cpu');
    assert.deepEqual(r.input.shape, [28, 28, 1]);
    assert.ok(r.label[0] >= 0 && r.label[0] < 10);
    const probs = r.outputs[0].probs;
    assert.equal(probs.length, 10);
    assert.ok(Math.abs(probs.reduce((a, b) => a + b, 0) - 1) < 1e-5, 'softmax probabilities sum to 1');
    const inspected = seWeights(r.maps)!;
    assert.deepEqual(inspected.shape, [1, 4]);
    for (let c = 0; c < 4; c++) assert.ok(Math.abs(inspected.data[c] - last.data[4 + c]) < 1e-5, `channel ${c}: ${inspected.data[c]} vs ${last.data[4 + c]}`);

    await assert.rejects(s.service.dispatch('inspectSample', { runId, index: 8 }), /sample 8 does not exist: the validation split has 8 samples/);
    await assert.rejects(s.service.dispatch('inspectSample', { runId: 'no-such-run', index: 0 }), /no run "no-such-run"/);
  } finally {
    await s.service.dispose();
    await s.cleanup();
  }
});

test('dataset previews: the probe samples training uses, shaped for the graph; CSV errors and paths outside the workspace are reported, not thrown', async () => {
  const s = await sandbox('browser');
  try {
    const p = (await s.service.dispatch('previewDataset', { dataset: { name: 'mnist', limit: 50 }, graph: tinyMnistGraph() })) as DatasetPreview;
    assert.ok(p.ok);
    assert.equal(p.trainSamples + p.validationSamples, 50);
    assert.equal(p.probes.length, p.validationSamples);
    assert.deepEqual(p.inputShape, [28, 28, 1]);
    assert.equal(p.classCounts.reduce((a, b) => a + b, 0), 50);
    assert.ok(p.samples[0].x instanceof Float32Array && p.samples[0].x.length === 784);

    await writeFile(path.join(s.workspace, 'bad.csv'), 'a,b,label\n1,2,x\n3,oops,y\n');
    const bad = (await s.service.dispatch('previewDataset', { dataset: { name: 'bad.csv' } })) as DatasetPreview;
    assert.equal(bad.ok, false);
    assert.match(!bad.ok ? bad.error : '', /row 2, column "b": "oops" is not a number/);

    const outside = (await s.service.dispatch('previewDataset', { dataset: { name: '/etc' } })) as DatasetPreview;
    assert.equal(outside.ok, false);
  } finally {
    await s.cleanup();
  }
});
