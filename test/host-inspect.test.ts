// What the editor reads back from training through the host: stored attention
// snapshots, dataset previews (with the errors found), and the inspection of a
// validation sample or a dropped image through a run's checkpoint in a training
// process (the forked one, and the desktop app's utility-process entry).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createRequire } from 'node:module';
import { forkWorker, inspectInProcess } from '../engine/worker/client.js';
import { encodePng, type RasterImage } from '../engine/data/png.js';
import {
  imageTooLarge,
  MAX_IMAGE_BYTES,
  type AttentionMap,
  type DatasetPreview,
  type HostEvent,
  type Inspection,
  type RunDetail,
  type RunSnapshot,
  type TrainingEvent,
} from '../common/host-api/api.js';
import { inspectionFor } from '../electron/host/services/inspect.js';
import { forkTraining, ProcessTrainingDriver } from '../electron/host/training.js';
import { sandbox, tinyMnistGraph, withSandbox } from './host-fixtures.js';
import { parentPortStandIn, TRAINING_ENTRY } from './helpers/parent-port.js';

const jpeg = createRequire(import.meta.url)('jpeg-js') as {
  encode(img: { width: number; height: number; data: Uint8Array }, quality: number): { data: Uint8Array };
};

const seWeights = (maps: AttentionMap[]) => maps.find((m) => m.nodeId === 'se' && m.port === 'weights');

/** One short run trained through the host, shared by the tests that read it back. */
async function trainedRun() {
  const s = await sandbox('browser', { training: new ProcessTrainingDriver(forkTraining), inspect: (cmd) => inspectInProcess(cmd) });
  const events: TrainingEvent[] = [];
  s.service.onEvent((e: HostEvent) => void (e.channel === 'training' && events.push(e.event)));
  const { runId } = (await s.service.dispatch('startTraining', {
    graph: tinyMnistGraph(),
    dataset: { name: 'mnist', limit: 80 },
    config: { epochs: 1, batchSize: 16, probe: { enabled: true, samples: 2, everyBatches: 2, minIntervalMs: 0 } },
    backend: 'cpu',
  })) as { runId: string };
  await new Promise<void>((resolve) =>
    s.service.onEvent((e) => void (e.channel === 'training' && e.event.type === 'state' && ['done', 'failed'].includes(e.event.state) && resolve())),
  );
  return { ...s, events, runId, runDir: path.join(s.root, 'runs', runId) };
}

let run: ReturnType<typeof trainedRun> | undefined;
const trained = () => (run ??= trainedRun());
after(async () => {
  if (!run) return;
  const s = await run;
  await s.service.dispose();
  await s.cleanup();
});

test(
  'snapshots read back equal the maps streamed; a validation sample inspected through the final checkpoint matches the final probe',
  { timeout: 120_000 },
  async () => {
    const s = await trained();
    const { events, runId } = s;
    assert.ok(
      events.some((e) => e.type === 'state' && e.state === 'done'),
      JSON.stringify(events.filter((e) => e.type === 'state')),
    );

    const streamed = events.flatMap((e) => (e.type === 'attention' ? [e] : []));
    const detail = (await s.service.dispatch('openRun', { runId })) as RunDetail;
    assert.deepEqual(
      detail.snapshots,
      [...new Set(streamed.map((e) => e.step))].sort((a, b) => a - b),
    );
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
    assert.equal(r.image, undefined);
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
  },
);

/** A validation sample's pixels as an 8-bit image: grey at its own size, or RGB scaled up `k` times. */
function sampleImage(input: Float32Array | Int32Array, k = 1, channels: 1 | 3 = 1): RasterImage {
  const n = 28 * k;
  const data = new Uint8Array(n * n * channels);
  for (let y = 0; y < n; y++)
    for (let x = 0; x < n; x++)
      data.fill(Math.round(input[Math.floor(y / k) * 28 + Math.floor(x / k)] * 255), (y * n + x) * channels, (y * n + x + 1) * channels);
  return { width: n, height: n, channels, data };
}

const image = (name: string, bytes: Uint8Array) => ({ name, base64: Buffer.from(bytes).toString('base64') });
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a, (v, i) => Math.abs(v - b[i])).reduce((m, d) => Math.max(m, d), 0);

test(
  "an image dropped in is fitted to the input as the dataset's images are (channels, resize, [0, 1]) and inspected like a validation sample",
  { timeout: 120_000 },
  async () => {
    const s = await trained();
    const { runId } = s;
    const sample = (await s.service.dispatch('inspectSample', { runId, index: 1 })) as Inspection;
    const same = (r: Inspection, what: string) => {
      assert.equal(r.index, -1);
      assert.deepEqual(r.label, [-1], 'a dropped image has no true class');
      assert.deepEqual(r.input.shape, [28, 28, 1]);
      assert.ok(maxDiff(r.input.data, sample.input.data) <= 0.5 / 255 + 1e-6, `${what}: the input is the sample's to 8 bits`);
      assert.ok(maxDiff(r.outputs[0].probs, sample.outputs[0].probs) < 0.02, `${what}: the probabilities are the sample's`);
      assert.deepEqual(
        r.maps.map((m) => `${m.nodeId}.${m.port}`),
        sample.maps.map((m) => `${m.nodeId}.${m.port}`),
      );
      assert.ok(maxDiff(seWeights(r.maps)!.data, seWeights(sample.maps)!.data) < 0.02, `${what}: the attention maps are the sample's`);
    };

    // The sample itself as a grey PNG: nothing to resize.
    const grey = (await s.service.dispatch('inspectImage', { runId, image: image('digit.png', encodePng(sampleImage(sample.input.data))) })) as Inspection;
    assert.deepEqual(grey.image, { name: 'digit.png', width: 28, height: 28 });
    same(grey, 'grey 28×28 PNG');
    // Twice the size in RGB: made grey and resized back (each output pixel averages four equal ones).
    const rgb = (await s.service.dispatch('inspectImage', {
      runId,
      image: image('digit-rgb.png', encodePng(sampleImage(sample.input.data, 2, 3))),
    })) as Inspection;
    assert.deepEqual(rgb.image, { name: 'digit-rgb.png', width: 56, height: 56 });
    same(rgb, 'RGB 56×56 PNG');
    // JPEG (lossy: the input is close, not equal), through the desktop app's utility-process entry.
    const rgba = sampleImage(sample.input.data, 1, 3);
    const pixels = new Uint8Array(28 * 28 * 4).map((_, i) => (i % 4 === 3 ? 255 : rgba.data[(i >> 2) * 3 + (i % 4)]));
    const jpegBytes = new Uint8Array(jpeg.encode({ width: 28, height: 28, data: pixels }, 95).data);
    const standIn = await parentPortStandIn(s.root);
    const cmd = await inspectionFor(s.runDir, { image: { name: 'digit.jpg', bytes: jpegBytes } });
    const viaEntry = await inspectInProcess(cmd, { spawn: () => forkWorker({ module: TRAINING_ENTRY, execArgv: standIn }) });
    assert.deepEqual(viaEntry.image, { name: 'digit.jpg', width: 28, height: 28 });
    const meanDiff = Array.from(viaEntry.input.data, (v, i) => Math.abs(v - sample.input.data[i])).reduce((a, b) => a + b, 0) / 784;
    assert.ok(meanDiff < 0.03, `JPEG input differs from the sample by ${meanDiff} on average`);
    assert.equal(viaEntry.outputs[0].probs.length, 10);
  },
);

test('a dropped file that is not a usable image is refused with its name and the reason', { timeout: 120_000 }, async () => {
  const s = await trained();
  const { runId } = s;
  const inspect = (name: string, bytes: Uint8Array) => s.service.dispatch('inspectImage', { runId, image: image(name, bytes) });
  await assert.rejects(inspect('notes.txt', new TextEncoder().encode('not a picture')), /^Error: notes\.txt is not a PNG or JPEG image$/);
  await assert.rejects(inspect('empty.png', new Uint8Array(0)), /empty\.png is empty/);
  const png = encodePng(sampleImage(new Float32Array(784)));
  png[png.length - 20] ^= 0xff; // inside the IDAT chunk: its CRC no longer matches
  await assert.rejects(inspect('broken.png', png), /inspection failed: broken\.png: corrupt PNG \(bad CRC in chunk IDAT\)/);
  await assert.rejects(inspect('broken.jpg', Uint8Array.of(0xff, 0xd8, 0xff, 0xe0, 1, 2, 3)), /inspection failed: broken\.jpg: corrupt JPEG/);
  await assert.rejects(
    s.service.dispatch('inspectImage', { runId, image: { name: 'huge.png', base64: 'A'.repeat(Math.ceil(MAX_IMAGE_BYTES / 3) * 4 + 4) } }),
    /bad request for inspectImage: image\.base64: must be at most 16 MiB/,
  );
  await assert.rejects(s.service.dispatch('inspectImage', { runId, image: { name: 'x.png', base64: 'not base64!' } }), /image\.base64: must be base64/);
  // The renderer refuses a file this large before reading it, with the host's words.
  assert.equal(imageTooLarge('photo.png', 20 * 2 ** 20), 'photo.png is 20.0 MiB; images of at most 16 MiB can be inspected');
  assert.equal(imageTooLarge('photo.png', MAX_IMAGE_BYTES), undefined);
  const fine = encodePng(sampleImage(new Float32Array(784)));
  await assert.rejects(s.service.dispatch('inspectImage', { runId: 'no-such-run', image: image('a.png', fine) }), /no run "no-such-run"/);
});

test('dataset previews: the probe samples training uses, shaped for the graph; CSV errors and paths outside the workspace are reported, not thrown', async () => {
  await withSandbox(async (s) => {
    const p = (await s.service.dispatch('previewDataset', { dataset: { name: 'mnist', limit: 50 }, graph: tinyMnistGraph() })) as DatasetPreview;
    assert.ok(p.ok);
    assert.equal(p.trainSamples + p.validationSamples, 50);
    assert.equal(p.probes.length, p.validationSamples);
    assert.deepEqual(p.inputShape, [28, 28, 1]);
    assert.equal(
      p.classCounts.reduce((a, b) => a + b, 0),
      50,
    );
    assert.ok(p.samples[0].x instanceof Float32Array && p.samples[0].x.length === 784);

    await writeFile(path.join(s.workspace, 'bad.csv'), 'a,b,label\n1,2,x\n3,oops,y\n');
    const bad = (await s.service.dispatch('previewDataset', { dataset: { name: 'bad.csv' } })) as DatasetPreview;
    assert.equal(bad.ok, false);
    assert.match(!bad.ok ? bad.error : '', /row 2, column "b": "oops" is not a number/);

    const outside = (await s.service.dispatch('previewDataset', { dataset: { name: '/etc' } })) as DatasetPreview;
    assert.equal(outside.ok, false);
  });
});
