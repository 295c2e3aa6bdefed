// Inspect on a dropped image, for a run whose image folder used the ImageNet
// preset: the image gets the folder's centre crop, resize and mean/std, so that
// the same picture dropped in and read from the folder is one input tensor.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encodePng } from '../engine/data/png.js';
import { decodeImage, imageInput } from '../engine/data/image-folder.js';
import { IMAGENET_STATS } from '../engine/data/index.js';
import { inspectCommandSchema } from '../engine/worker/protocol.js';
import { inspectSample } from '../engine/worker/inspect.js';
import { setupRun } from '../engine/train/setup.js';
import type { DatasetSpec } from '../engine/data/index.js';
import { graphOf } from './train-fixtures.js';

/** 40 × 30 RGB: a red frame two pixels wide around a gradient, so that a crop and a plain resize differ. */
function picture(): Buffer {
  const data = new Uint8Array(40 * 30 * 3);
  for (let y = 0; y < 30; y++)
    for (let x = 0; x < 40; x++) data.set(x < 2 || y < 2 || x >= 38 || y >= 28 ? [255, 0, 0] : [x * 6, y * 8, 255 - x * 6], (y * 40 + x) * 3);
  return encodePng({ width: 40, height: 30, channels: 3, data });
}

test('a dropped image and the same image in an ImageNet-preset image folder are one input tensor', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'attn-inspect-imagenet-'));
  const folder = path.join(dir, 'images');
  const png = picture();
  for (const cls of ['a', 'b']) {
    mkdirSync(path.join(folder, cls), { recursive: true });
    for (const i of [0, 1]) writeFileSync(path.join(folder, cls, `${i}.png`), png);
  }
  const graph = graphOf(
    'tiny-rgb',
    [
      ['in', 'io.input', { kind: 'image', height: 12, width: 12, channels: 3 }],
      ['flat', 'core.flatten'],
      ['head', 'core.classificationHead', { classes: 2 }],
      ['out', 'io.output'],
    ],
    [
      ['in.out', 'flat.in'],
      ['flat.out', 'head.in'],
      ['head.probs', 'out.in'],
    ],
  );
  const dataset: DatasetSpec = { name: folder, normalize: 'imagenet', validationSplit: 0.5 };
  const runDir = path.join(dir, 'run');
  const run = await setupRun({ graph, dataset, backend: 'cpu', config: { epochs: 1, batchSize: 2, probe: { enabled: false } }, out: { dir: runDir } });
  await run.run();
  run.dispose();

  const inspect = (extra: { index?: number; image?: { name: string; bytes: Uint8Array } }) =>
    inspectSample(inspectCommandSchema.parse({ type: 'inspect', graph, dataset, checkpoint: runDir, backend: 'cpu', ...extra }));
  const fromFolder = await inspect({ index: 0 });
  const dropped = await inspect({ image: { name: 'dropped.png', bytes: new Uint8Array(png) } });
  assert.deepEqual(dropped.input.shape, [12, 12, 3]);
  assert.deepEqual(Array.from(dropped.input.data), Array.from(fromFolder.input.data));
  // Without the crop (what Inspect did before) the red frame shows in the corner and the tensors differ.
  const uncropped = imageInput(decodeImage(png), [12, 12, 3], IMAGENET_STATS);
  assert.ok(uncropped[0] > fromFolder.input.data[0] + 1, 'the uncropped corner is red');
});
