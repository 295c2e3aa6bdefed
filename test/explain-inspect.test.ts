// Inspect asks for explanations: through the host and a real inspection
// process, a sample inspected without `explain` carries none (no backward pass
// is spent on it), and with `explain` it carries the class activation maps of
// the class and on the layer asked for.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { HostEvent, Inspection } from '../common/host-api/api.js';
import { InspectionPool } from '../engine/worker/inspect-pool.js';
import { forkTraining, ProcessTrainingDriver } from '../electron/host/training.js';
import { sandbox, tinyMnistGraph, type Sandbox } from './host-fixtures.js';

let s: Sandbox;
let runId: string;
const pool = new InspectionPool({ size: 1 });

before(async () => {
  s = await sandbox('browser', { training: new ProcessTrainingDriver(forkTraining), inspect: (cmd) => pool.inspect(cmd) });
  const done = new Promise<void>((resolve) =>
    s.service.onEvent((e: HostEvent) => void (e.channel === 'training' && e.event.type === 'state' && ['done', 'failed'].includes(e.event.state) && resolve())),
  );
  ({ runId } = (await s.service.dispatch('startTraining', {
    graph: tinyMnistGraph(),
    dataset: { name: 'mnist', limit: 80 },
    config: { epochs: 1, batchSize: 16 },
    backend: 'cpu',
  })) as { runId: string });
  await done;
});

after(async () => {
  pool.dispose();
  await s.service.dispose();
  await s.cleanup();
});

test('explanations are computed only when asked for, for the class and layer asked for', { timeout: 120_000 }, async () => {
  const plain = (await s.service.dispatch('inspectSample', { runId, index: 1 })) as Inspection;
  assert.equal(plain.explanations, undefined);

  const byDefault = (await s.service.dispatch('inspectSample', { runId, index: 1, explain: {} })) as Inspection;
  const cam = byDefault.explanations?.cam;
  assert.ok(cam, byDefault.explanations?.notes.join('; '));
  assert.equal(cam.classIndex, cam.predicted);
  assert.deepEqual(
    cam.layers.map((l) => `${l.nodeId}:${l.port}`),
    ['pool:out', 'conv:out', 'se:out'],
  );
  assert.equal(cam.nodeId, 'se');

  const other = (cam.predicted + 1) % 10;
  const asked = (await s.service.dispatch('inspectSample', { runId, index: 1, explain: { classIndex: other, layer: 'conv' } })) as Inspection;
  assert.deepEqual([asked.explanations?.cam?.classIndex, asked.explanations?.cam?.nodeId], [other, 'conv']);
  assert.notDeepEqual([...asked.explanations!.cam!.maps.hirescam], [...cam.maps.hirescam]);

  await assert.rejects(s.service.dispatch('inspectSample', { runId, index: 1, explain: { classIndex: -1 } }), /classIndex/);
});
