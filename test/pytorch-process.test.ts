// A PyTorch run driven through the training process as the app and the CLI
// drive it: pause, resume and stop at batch granularity, a kill that loses
// nothing already checkpointed, and the done-when command of issue 13.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TrainingClient } from '../engine/worker/client.js';
import { eventSchema } from '../engine/worker/protocol.js';
import type { TrainEvent, TrainEventOf } from '../engine/schemas/train-events.js';
import { tinyMlp } from './train-fixtures.js';
import { skipWithoutTorch } from './helpers/torch.js';
import { killAtCheckpoint } from './helpers/kill-run.js';
import { attn } from './helpers/cli.js';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'attn-pytorch-process-'));

function collect(client: TrainingClient): TrainEvent[] {
  const events: TrainEvent[] = [];
  client.on('event', (e) => events.push(e));
  return events;
}

test('pytorch over the training process: pause holds between batches, resume goes on, stop ends with a checkpoint', async (t) => {
  if (skipWithoutTorch(t, 'pause and stop of a PyTorch run')) return;
  const dir = tmp();
  const client = TrainingClient.start({
    graph: tinyMlp(),
    dataset: { name: 'mnist', limit: 2000 },
    config: { epochs: 20, batchSize: 10 },
    backend: 'pytorch',
    pytorch: { device: 'cpu' },
    out: { dir },
  });
  const events = collect(client);
  const progressCount = () => events.filter((x) => x.type === 'progress').length;
  let paused: TrainEventOf<'paused'> | undefined;
  let stepWhenPaused = -1;
  let progressWhilePaused = -1;
  client.on('progress', (e) => {
    if (e.step >= 3 && stepWhenPaused < 0) {
      stepWhenPaused = e.step;
      client.pause();
    }
  });
  client.on('paused', (e) => {
    paused = e;
    const atPause = progressCount();
    setTimeout(() => {
      progressWhilePaused = progressCount() - atPause;
      client.resume();
      setTimeout(() => client.stop(), 300);
    }, 600);
  });
  const done = await client.done;
  assert.ok(paused, 'a paused event');
  // The worker runs ahead of the events it has sent, so it holds at a later step than the one
  // the pause answered; from there, no batch runs until resumed.
  assert.ok(paused.step >= stepWhenPaused, `paused at step ${paused.step}, asked at ${stepWhenPaused}`);
  assert.equal(progressWhilePaused, 0, 'no batch while paused');
  assert.equal(done.reason, 'stopped');
  assert.equal(done.backend, 'pytorch');
  assert.ok(done.steps > paused.step, 'resumed');
  const stop = events.find((e): e is TrainEventOf<'checkpoint'> => e.type === 'checkpoint' && e.reason === 'stop');
  assert.ok(stop && stop.step === done.steps, 'a checkpoint at the stop');
  assert.ok(existsSync(path.join(stop.path, 'model.json')) && existsSync(path.join(stop.path, 'model.safetensors')));
  assert.equal(events.at(-1), done);
  assert.ok(events.every((e) => eventSchema.safeParse(e).success));
  // Each progress event carries its latest batch's own loss and accuracy (the per-batch chart):
  // after the first batch that is the running mean, later it is not.
  const progress = events.filter((e): e is TrainEventOf<'progress'> => e.type === 'progress');
  for (const p of progress) {
    assert.ok(Number.isFinite(p.batchLoss) && p.batchLoss! >= 0, `step ${p.step}: batchLoss ${p.batchLoss}`);
    assert.ok(p.batchAccuracy! >= 0 && p.batchAccuracy! <= 1, `step ${p.step}: batchAccuracy ${p.batchAccuracy}`);
  }
  const first = progress.find((p) => p.step === 1);
  assert.ok(first, 'a progress event after the first batch');
  assert.ok(Math.abs(first.batchLoss! - first.loss) < 1e-5, `first batch ${first.batchLoss} vs running mean ${first.loss}`);
  assert.ok(first.batchAccuracy === first.accuracy, `first batch accuracy ${first.batchAccuracy} vs ${first.accuracy}`);
  const later = progress.filter((p) => p.step > 1);
  assert.ok(later.length > 0, 'progress events after the first batch');
  assert.ok(
    later.some((p) => Math.abs(p.batchLoss! - p.loss) > 1e-4),
    `every later batchLoss equals the running mean: ${later.map((p) => `${p.batchLoss} ~ ${p.loss}`).join(', ')}`,
  );
});

test('pytorch: killing the training process is reported as on tfjs, with the last checkpoint intact', async (t) => {
  if (skipWithoutTorch(t, 'killing a PyTorch run')) return;
  const dir = tmp();
  const client = TrainingClient.start({
    graph: tinyMlp(),
    dataset: { name: 'mnist', limit: 1000 },
    config: { epochs: 5, batchSize: 16, checkpointEvery: 5 },
    backend: 'pytorch',
    pytorch: { device: 'cpu' },
    out: { dir },
  });
  const { err } = await killAtCheckpoint(client, (e) => e.step >= 10);
  assert.match(err.message, /^the training process was killed \(SIGKILL\) during epoch 1, batch \d+\/57; the last checkpoint, .*step-\d{6}, is intact$/);
  assert.ok(existsSync(path.join(err.lastCheckpoint!, 'weights.bin')));
});

test('done when (issue 13): attn train bench-se-cnn --backend pytorch on MNIST, 1 and 2 ranks, passes 0.9', async (t) => {
  if (skipWithoutTorch(t, 'the issue 13 done-when command')) return;
  const template = fileURLToPath(new URL('../../templates/bench-se-cnn.attn.json', import.meta.url));
  for (const nproc of ['1', '2']) {
    const r = await attn(
      'train',
      template,
      '--backend',
      'pytorch',
      '--dataset',
      'mnist',
      '--epochs',
      '1',
      '--limit',
      '4096',
      '--json',
      '--nproc',
      nproc,
      '--out',
      path.join(tmp(), 'run'),
    );
    assert.equal(r.code, 0, r.stderr);
    const done = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    assert.equal(done.type, 'done');
    assert.equal(done.backend, 'pytorch');
    assert.equal(done.device, 'cpu');
    assert.equal(done.ranks, Number(nproc));
    assert.ok(done.metrics.val_accuracy > 0.9, `${nproc} rank(s): val_accuracy ${done.metrics.val_accuracy}`);
  }
});
