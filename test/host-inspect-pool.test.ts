// Inspection reuses a small pool of training processes: concurrent calls queue
// for them (8 calls, at most `size` processes started), each keeps its model
// between calls and reloads the weights when the checkpoint changes, and a
// process that dies is replaced by the next call.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { forkWorker, inspectInProcess, type WorkerProcess } from '../engine/worker/client.js';
import { InspectionPool } from '../engine/worker/inspect-pool.js';
import type { DatasetPreview, HostEvent, Inspection } from '../common/host-api/api.js';
import { inspectionFor } from '../electron/host/services/inspect.js';
import { forkTraining, ProcessTrainingDriver } from '../electron/host/training.js';
import { sandbox, tinyMnistGraph, type Sandbox } from './host-fixtures.js';

/** A pool of two whose processes are counted as they start. */
function countedPool() {
  const spawned: WorkerProcess[] = [];
  const pool = new InspectionPool({
    size: 2,
    spawn: () => {
      const w = forkWorker();
      spawned.push(w);
      return w;
    },
  });
  return { pool, spawned };
}

let s: Sandbox;
let runId: string;
let runDir: string;
let counted: ReturnType<typeof countedPool>;

before(async () => {
  counted = countedPool();
  s = await sandbox('browser', { training: new ProcessTrainingDriver(forkTraining), inspect: (cmd) => counted.pool.inspect(cmd) });
  const done = new Promise<void>((resolve) =>
    s.service.onEvent((e: HostEvent) => void (e.channel === 'training' && e.event.type === 'state' && ['done', 'failed'].includes(e.event.state) && resolve())),
  );
  ({ runId } = (await s.service.dispatch('startTraining', {
    graph: tinyMnistGraph(),
    dataset: { name: 'mnist', limit: 80 },
    config: { epochs: 2, batchSize: 16, keepCheckpoints: 5 },
    backend: 'cpu',
  })) as { runId: string });
  await done;
  runDir = path.join(s.root, 'runs', runId);
});

after(async () => {
  counted.pool.dispose();
  await s.service.dispose();
  await s.cleanup();
});

test("8 concurrent inspections start at most the pool's 2 processes and each answers its own sample", { timeout: 180_000 }, async () => {
  const { dataset } = await inspectionFor(runDir, { index: 0 });
  const preview = (await s.service.dispatch('previewDataset', { dataset, graph: tinyMnistGraph() })) as DatasetPreview;
  assert.ok(preview.ok && preview.validationSamples === 8);

  const results = (await Promise.all(Array.from({ length: 8 }, (_, index) => s.service.dispatch('inspectSample', { runId, index })))) as Inspection[];
  assert.equal(counted.spawned.length, 2, 'two processes for eight calls');
  for (const [i, r] of results.entries()) {
    assert.equal(r.index, i);
    assert.deepEqual([...r.input.data], [...preview.probes[i].x], `sample ${i}: the input is validation sample ${i}`);
    assert.deepEqual(r.label, preview.probes[i].label);
    assert.ok(Math.abs(r.outputs[0].probs.reduce((a, b) => a + b, 0) - 1) < 1e-5);
  }
  // The same answer as a process started for one call alone.
  const alone = await inspectInProcess(await inspectionFor(runDir, { index: 5 }));
  assert.deepEqual([...results[5].outputs[0].probs], [...alone.outputs[0].probs]);

  // A failed call is an answer: the process stays and takes the next one.
  await assert.rejects(s.service.dispatch('inspectSample', { runId, index: 8 }), /inspection failed: sample 8 does not exist/);
  await s.service.dispatch('inspectSample', { runId, index: 0 });
  assert.equal(counted.spawned.length, 2);
  assert.equal(counted.pool.processes, 2);
});

test('a checkpoint change reloads the weights in the same process', { timeout: 180_000 }, async () => {
  const checkpoints = (await readdir(path.join(runDir, 'checkpoints'))).filter((f) => f.startsWith('step-')).sort();
  assert.ok(checkpoints.length >= 2, `checkpoints: ${checkpoints}`);
  const [first, last] = [checkpoints[0], checkpoints.at(-1)!];
  const pool = new InspectionPool({ size: 1 });
  try {
    const via = async (checkpoint: string) => pool.inspect(await inspectionFor(runDir, { index: 3, checkpoint }));
    const a = await via(first);
    const b = await via(last);
    const a2 = await via(first);
    assert.equal(pool.processes, 1);
    assert.equal(path.basename(a.checkpoint), first);
    assert.equal(path.basename(b.checkpoint), last);
    assert.notDeepEqual([...a.outputs[0].probs], [...b.outputs[0].probs], 'another checkpoint, other weights');
    assert.deepEqual([...a2.outputs[0].probs], [...a.outputs[0].probs]);
    const fresh = await inspectInProcess(await inspectionFor(runDir, { index: 3, checkpoint: last }));
    assert.deepEqual([...b.outputs[0].probs], [...fresh.outputs[0].probs], 'as a fresh process loads it');
  } finally {
    pool.dispose();
  }
});

test('a killed inspection process is replaced by the next call', { timeout: 180_000 }, async () => {
  const { pool, spawned } = countedPool();
  try {
    const cmd = await inspectionFor(runDir, { index: 2 });
    const before = await pool.inspect(cmd);
    assert.equal(spawned.length, 1);
    const victim = spawned[0];
    const gone = new Promise<string>((resolve) => victim.onEnd(resolve));
    process.kill(victim.pid!, 'SIGKILL');
    assert.match(await gone, /killed \(SIGKILL\)/);
    assert.equal(pool.processes, 0);
    const again = await pool.inspect(cmd);
    assert.equal(spawned.length, 2, 'a new process');
    assert.deepEqual([...again.outputs[0].probs], [...before.outputs[0].probs]);

    // Killed in the middle of a call: that call fails with a clear message, the next one is answered.
    const pending = pool.inspect(cmd);
    process.kill(spawned[1].pid!, 'SIGKILL');
    await assert.rejects(pending, /the inspection process was killed \(SIGKILL\) before answering/);
    assert.equal((await pool.inspect(cmd)).index, 2);
    assert.equal(spawned.length, 3);
  } finally {
    pool.dispose();
  }
});
