// The caption view's record: at each probe a captioning model's probe samples are
// decoded greedily, and each word is stored with its attention over the feature
// grid (attention/step-N/caption.*), as `attn train`'s training process sends it.
// What it records must be the trained model's own greedy caption and attention,
// and Inspect must answer the same record for a validation sample.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { wordMap } from '../engine/schemas/caption.js';
import { prepareData } from '../engine/data/index.js';
import { previewData } from '../engine/data/preview.js';
import { captionRecord } from '../engine/train/caption-record.js';
import { selectBackend } from '../engine/backends/select.js';
import { inspectSample } from '../engine/worker/inspect.js';
import { inspectCommandSchema } from '../engine/worker/protocol.js';
import { RunFolder } from '../engine/runs/index.js';
import { checkCaptionProbes } from './helpers/caption-probes.js';
import { loadTemplate } from './helpers/graphs.js';
import { relativeGap } from './helpers/numeric.js';
import { probeEvents } from './helpers/train-run.js';

const SAMPLES = 3;
const dataset = { name: 'digit-captions', limit: 160 } as const;

test('the probes record each probe sample’s greedy caption with one map per word over the grid (summing to 1), store it in the run folder, and Inspect answers the same', async () => {
  const graph = loadTemplate('sat-digit-captions.attn.json');
  const dir = mkdtempSync(path.join(tmpdir(), 'attn-caption-probe-'));
  const probes = await probeEvents({
    graph,
    dataset,
    config: { epochs: 1, batchSize: 16, probe: { samples: SAMPLES, everyBatches: 3, minIntervalMs: 0 } },
    backend: 'wasm',
    out: { dir },
  });

  const { tf } = await selectBackend({ backend: 'wasm' });
  const { truth, last, compiled, x } = await checkCaptionProbes(tf, graph, dir, probes, SAMPLES);
  try {
    // Inspect answers the same record for one validation sample.
    const r = await inspectSample(inspectCommandSchema.parse({ type: 'inspect', graph, dataset, checkpoint: dir, index: 1, backend: 'wasm' }));
    assert.ok(r.caption, 'Inspect sends the caption');
    assert.deepEqual(r.caption.words, [last.words[1]]);
    assert.deepEqual(r.caption.truth, [truth[1]]);
    assert.ok(relativeGap(r.caption.data, wordMaps(last, 1)) < 1e-4, 'Inspect’s maps are the probe’s');
  } finally {
    x.dispose();
    compiled.model.dispose();
  }

  // A damaged record is refused with its file named.
  const step = probes[0].step;
  const stored = path.join(dir, 'attention', `step-${String(step).padStart(6, '0')}`, 'caption.f32');
  writeFileSync(stored, Buffer.alloc(8));
  await assert.rejects(RunFolder.open(dir).readCaption(step), /the caption at step \d+ is truncated or damaged \(.*caption\.json\)/);
});

/** Sample s's maps, every step. */
const wordMaps = (c: Parameters<typeof wordMap>[0], s: number) => {
  const size = c.steps * c.rows * c.cols;
  return c.data.subarray(s * size, (s + 1) * size);
};

test('a caption stops at <end>, names each word by the data’s classes, and refuses outputs of different lengths', () => {
  const classes = ['<pad>', '<start>', '<end>', 'one', 'two'];
  const steps = 3;
  // Sample 0 writes "two one <end>"; sample 1 never writes <end>.
  const probs = new Float32Array(2 * steps * classes.length);
  [
    [4, 3, 2],
    [3, 3, 4],
  ].forEach((ids, s) => ids.forEach((id, t) => (probs[(s * steps + t) * classes.length + id] = 1)));
  const attention = { data: new Float32Array(2 * steps * 2).fill(0.5), shape: [2, steps, 1, 2] };
  const c = captionRecord({ nodeId: 'd', port: 'attention' }, { data: probs, shape: [2, steps, classes.length] }, attention, classes, [4, 2, -1, 3, 4, 2]);
  assert.deepEqual(c.words, [
    ['two', 'one', '<end>'],
    ['one', 'one', 'two'],
  ]);
  assert.deepEqual(c.truth, [['two'], ['one', 'two']]);
  assert.deepEqual([c.steps, c.rows, c.cols], [steps, 1, 2]);
  assert.throws(
    () => captionRecord({ nodeId: 'd', port: 'attention' }, { data: probs, shape: [2, steps - 1, classes.length] }, attention, classes),
    /d\.attention: a caption needs word probabilities \[B, T, V\] and attention \[B, T, H, W\] of the same B and T/,
  );
});

test('the preview shows the canvases the trainer probes (digit-captions keeps its own split), so the dock draws each caption over its own canvas', async () => {
  const { tf } = await selectBackend({ backend: 'wasm' });
  const data = await prepareData(dataset);
  const preview = await previewData(dataset);
  assert.equal(preview.validationSamples, data.validation.size);
  for (let i = 0; i < SAMPLES; i++) {
    const { x, labels } = data.validation.batch(tf, [i]);
    assert.deepEqual(preview.probes[i].x, await x.data(), `probe canvas ${i}`);
    assert.deepEqual(preview.probes[i].label, [...labels]);
    x.dispose();
  }
});
