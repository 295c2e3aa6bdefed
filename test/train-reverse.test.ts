// The synthetic reverse task trains a one-head transformer whose attention maps
// put most of their weight on the anti-diagonal: the known right answer.
import { test } from 'node:test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { prepareData } from '../engine/data/index.js';
import { Trainer } from '../engine/train/trainer.js';
import { RunFolder } from '../engine/runs/index.js';
import { inputHint } from '../engine/train/setup.js';
import type { TrainEventOf } from '../engine/schemas/train-events.js';
import { assertLearnedReverse, reverseTransformer } from './train-fixtures.js';
import { tfReady } from './helpers/tf.js';

const T = 6;
const V = 8;

test('reverse task: a transformer learns it and its attention snapshots lie mostly on the anti-diagonal', async () => {
  const tf = await tfReady;
  const graph = reverseTransformer(T, V);
  const data = await prepareData({ name: 'reverse', limit: 1200, seed: 1 }, inputHint(graph));
  const dir = mkdtempSync(path.join(tmpdir(), 'attn-reverse-'));
  const config = { epochs: 4, batchSize: 32, lr: 0.01, probe: { samples: 4, everyBatches: 1000, minIntervalMs: 0 } };
  let last: TrainEventOf<'attention'> | undefined;
  const trainer = new Trainer({
    tf,
    graph,
    data,
    config,
    runDir: await RunFolder.create({ dir, name: 'reverse', graph, config }),
    onEvent: (e) => e.type === 'attention' && (last = e),
  });
  const done = await trainer.run();
  trainer.dispose();
  assertLearnedReverse(dir, done.metrics.val_accuracy, last, T);
});
