// Attention snapshots of a PyTorch run come from the export's own attention
// tensors: a one-head transformer trained on the reverse task under torch
// attends along the anti-diagonal, as it does under tfjs (train-reverse.test).
import { test } from 'node:test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TrainEventOf } from '../engine/schemas/train-events.js';
import { PytorchRun } from '../engine/pytorch/run.js';
import { assertLearnedReverse, reverseTransformer } from './train-fixtures.js';
import { skipWithoutTorch } from './helpers/torch.js';

const T = 6;
const V = 8;

test('reverse task under PyTorch: attention snapshots lie mostly on the anti-diagonal', async (t) => {
  if (skipWithoutTorch(t, 'PyTorch attention snapshots')) return;
  const graph = reverseTransformer(T, V);
  const dir = mkdtempSync(path.join(tmpdir(), 'attn-pytorch-reverse-'));
  const config = { epochs: 4, batchSize: 32, lr: 0.01, probe: { samples: 4, everyBatches: 1000, minIntervalMs: 0 } };
  let last: TrainEventOf<'attention'> | undefined;
  const run = await PytorchRun.setup(
    { graph, dataset: { name: 'reverse', limit: 1200, seed: 1 }, config, out: { dir }, pytorch: { device: 'cpu' } },
    (e) => e.type === 'attention' && (last = e),
  );
  let done;
  try {
    done = await run.run();
  } finally {
    run.dispose();
  }
  assertLearnedReverse(dir, done.metrics.val_accuracy, last, T);
});
