// The training process: a forked Node process driven over a zod-checked
// protocol. A killed process loses nothing already checkpointed, the parent
// says so, and the run continues from there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TrainingClient } from '../engine/worker/client.js';
import { commandSchema, eventSchema } from '../engine/worker/protocol.js';
import { folderHandler } from '../engine/train/checkpoint.js';
import type { TrainEvent, TrainEventOf } from '../engine/schemas/train-events.js';
import { graphOf, tinyMlp } from './train-fixtures.js';
import { tfReady } from './helpers/tf.js';
import { killAtCheckpoint } from './helpers/kill-run.js';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'attn-worker-'));

function collect(client: TrainingClient): TrainEvent[] {
  const events: TrainEvent[] = [];
  client.on('event', (e) => events.push(e));
  return events;
}

test('killing the training process mid-epoch keeps its checkpoints, the parent reports it, and the run resumes', async () => {
  const dir = tmp();
  const start = {
    graph: tinyMlp(),
    dataset: { name: 'mnist', limit: 1000 },
    config: { epochs: 2, batchSize: 16, checkpointEvery: 5 },
    backend: 'cpu',
    out: { dir },
  } as const;
  const client = TrainingClient.start(start);
  const events = collect(client);
  // Killed as soon as a mid-epoch checkpoint from step 10 on is reported (progress events are
  // throttled, so the kill is keyed to the checkpoint itself, not to a step count).
  const { killedAfter, err } = await killAtCheckpoint(client, (e) => e.reason === 'interval' && e.step >= 10);
  assert.ok(killedAfter, 'killed after a checkpoint');
  // The last checkpoint the parent heard of (one more may have been reported before the kill landed).
  const last = [...events].reverse().find((x): x is TrainEventOf<'checkpoint'> => x.type === 'checkpoint')!;
  assert.ok(last.step >= killedAfter.step && last.step < 57, `a mid-epoch checkpoint (step ${last.step})`);
  assert.match(err.message, /^the training process was killed \(SIGKILL\) during epoch 1, batch \d+\/57; the last checkpoint, .*step-\d{6}, is intact$/);
  assert.ok(err.message.includes(path.basename(last.path)), err.message);
  assert.equal(err.lastCheckpoint, last.path);

  // The checkpoint is a standard tfjs model...
  const tf = await tfReady;
  const model = await tf.loadLayersModel(folderHandler(tf, last.path));
  const y = model.predict(tf.zeros([2, 28, 28, 1])) as ReturnType<typeof tf.zeros>;
  assert.deepEqual(y.shape, [2, 10]);
  tf.dispose([y]);
  model.dispose();
  const meta = JSON.parse(readFileSync(path.join(last.path, 'trainer.json'), 'utf8'));
  assert.deepEqual([meta.state.epoch, meta.state.batch, meta.state.step], [0, last.step, last.step]);

  // ...and the run continues from it in the same run folder.
  const again = TrainingClient.start({ ...start, out: undefined, resumeFrom: dir });
  const resumedEvents = collect(again);
  const done = await again.done;
  assert.equal(done.reason, 'completed');
  assert.equal(done.steps, 2 * 57);
  assert.equal(done.runDir, dir);
  const started = resumedEvents[0] as TrainEventOf<'started'>;
  assert.equal(started.resumedFrom, last.path);
  assert.ok(done.metrics.val_accuracy > 0.5, `val_accuracy ${done.metrics.val_accuracy}`);
});

test('over IPC: pause, resume and probe commands work, attention maps arrive as Float32Arrays, done comes last', async () => {
  const graph = graphOf(
    'se',
    [
      ['in', 'io.input', { kind: 'image', height: 28, width: 28, channels: 1 }],
      ['conv', 'core.conv2d', { filters: 4, kernel: 3, stride: 2, activation: 'relu' }],
      ['se', 'attention.squeezeExcitation', { reduction: 2 }],
      ['flat', 'core.flatten'],
      ['head', 'core.classificationHead', { classes: 10 }],
      ['out', 'io.output'],
    ],
    [
      ['in.out', 'conv.in'],
      ['conv.out', 'se.in'],
      ['se.out', 'flat.in'],
      ['flat.out', 'head.in'],
      ['head.probs', 'out.in'],
    ],
  );
  const client = TrainingClient.start({
    graph,
    dataset: { name: 'mnist', limit: 1000 },
    config: { epochs: 1, batchSize: 20, probe: { everyBatches: 1000, minIntervalMs: 1e9 } },
    backend: 'cpu',
    out: null,
  });
  const events = collect(client);
  const progressCount = () => events.filter((x) => x.type === 'progress').length;
  let atPause = -1;
  let whilePaused = -1;
  client.on('progress', (e) => {
    // Progress events are throttled: pause on the first one from step 2 on.
    if (e.step >= 2 && atPause < 0) {
      client.pause();
      atPause = progressCount();
      // Asserted after the run: a throw in here would leave the worker paused for good.
      setTimeout(() => {
        whilePaused = progressCount();
        client.probe();
        client.resume();
      }, 400);
    }
  });
  const done = await client.done;
  // At most one batch was already under way when the pause arrived.
  assert.ok(atPause > 0 && whilePaused - atPause <= 1, `progress while paused: ${whilePaused - atPause}`);
  assert.equal(events.at(-1), done);
  assert.equal(done.backend, 'cpu');
  assert.ok(done.samplesPerSec > 0);
  const maps = events.filter((e): e is TrainEventOf<'attention'> => e.type === 'attention');
  // After the first batch, on request (the rate limit would allow no other), and at the end.
  assert.deepEqual(
    maps.map((e) => e.step === 1 || e.step === done.steps),
    [true, false, true],
  );
  const m = maps[0].maps[0];
  assert.deepEqual([m.nodeId, m.port, m.kind, m.shape], ['se', 'weights', 'channel', [4, 4]]);
  assert.ok(m.data instanceof Float32Array);
  assert.ok(m.data.every((v) => v > 0 && v < 1));
  assert.ok(events.every((e) => eventSchema.safeParse(e).success));
});

test('bad runs and bad commands fail with a message, not a hang', async () => {
  const client = TrainingClient.start({ graph: tinyMlp(), dataset: { name: 'no-such-dataset' }, backend: 'cpu', out: null });
  await assert.rejects(client.done, /^TrainingError: training failed: unknown dataset "no-such-dataset"/);
  assert.equal(commandSchema.safeParse({ type: 'start', graph: tinyMlp(), dataset: { name: 'mnist' }, config: { epochs: 0 } }).success, false);
  assert.equal(commandSchema.safeParse({ type: 'jump' }).success, false);
});
