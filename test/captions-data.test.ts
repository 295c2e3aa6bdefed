// digit-captions (built from the shipped MNIST digits) and the import of a folder
// of images with a captions CSV.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { captionClasses, captionWords, digitCaptions, DIGIT_CAPTIONS, END_ID, loadCaptionFolder, type Box } from '../engine/data/captions.js';
import { datasetNames, prepareData } from '../engine/data/index.js';
import { IGNORE, type ArrayDataset } from '../engine/data/dataset.js';
import { encodePng } from '../engine/data/png.js';

test('digit-captions: 2-5 digits left to right in their boxes, captioned with their names and <end>, the same for the same seed', async () => {
  const a = await digitCaptions({ size: 200, seed: 5 });
  const b = await digitCaptions({ size: 200, seed: 5 });
  assert.deepEqual([a.train.size, a.validation.size], [180, 20]);
  assert.deepEqual(a.train.labels, b.train.labels);
  assert.deepEqual(a.train.x, b.train.x);
  checkCanvases(a.train, a.boxes!.train);
  assert.ok(datasetNames().includes('digit-captions'));
  const prepared = await prepareData({ name: 'digit-captions', size: 100 });
  assert.deepEqual([prepared.train.size, prepared.validation.size, prepared.classNames.length], [90, 10, 13]);
});

const { height: H, width: W, digit: D, steps } = DIGIT_CAPTIONS;

/** Every canvas: 2-5 digits left to right in their boxes, captioned with their names and <end>. */
function checkCanvases(ds: ArrayDataset, allBoxes: Box[][]): void {
  assert.equal(allBoxes.length, ds.size);
  for (let s = 0; s < ds.size; s++) {
    const labels = ds.labels.subarray(s * steps, (s + 1) * steps);
    const boxes = allBoxes[s];
    const words = captionWords(labels, ds.classNames);
    assert.ok(boxes.length >= 2 && boxes.length <= 5);
    assert.equal(words.length, boxes.length);
    assert.equal(labels[boxes.length], END_ID);
    assert.ok(
      labels.subarray(boxes.length + 1).every((l) => l === IGNORE),
      'padding after <end> takes no part in the loss',
    );
    boxes.forEach(([x0, y0, x1, y1], k) => {
      assert.ok(x0 >= 0 && y0 >= 0 && x1 <= W && y1 <= H);
      if (k > 0) assert.ok(x0 >= boxes[k - 1][2], 'reading order, no overlap');
      // Ink inside the box: the digit is there.
      let ink = 0;
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) ink += ds.x[s * H * W + y * W + x];
      assert.ok(ink > 3, `sample ${s} word ${k}: ink ${ink}`);
    });
  }
}

/** The pixels of every captioned digit of a split, one string each. */
const digitPatches = (ds: ArrayDataset, allBoxes: Box[][]): string[] =>
  allBoxes.flatMap((boxes, s) =>
    boxes.map(([x0, y0]) =>
      Array.from({ length: D }, (_, y) => ds.x.subarray(s * H * W + (y0 + y) * W + x0, s * H * W + (y0 + y) * W + x0 + D).join()).join(';'),
    ),
  );

test('digit-captions with fresh canvases each epoch: new training canvases from the training digits, validation kept', async () => {
  const plain = await digitCaptions({ size: 200, seed: 5 });
  const fresh = await digitCaptions({ size: 200, seed: 5, freshEachEpoch: true });
  // Epoch 0 is the dataset without the option.
  assert.deepEqual([fresh.train.x, fresh.train.labels, fresh.boxes], [plain.train.x, plain.train.labels, plain.boxes]);
  fresh.train.startEpoch!(1);
  const epoch1 = { x: fresh.train.x.slice(), labels: fresh.train.labels.slice(), boxes: structuredClone(fresh.boxes!.train) };
  assert.notDeepEqual(epoch1.labels, plain.train.labels);
  checkCanvases(fresh.train, fresh.boxes!.train);
  assert.deepEqual(
    [fresh.validation.x, fresh.validation.labels, fresh.boxes!.validation],
    [plain.validation.x, plain.validation.labels, plain.boxes!.validation],
  );
  const validationDigits = new Set(digitPatches(fresh.validation, fresh.boxes!.validation));
  const trainDigits = digitPatches(fresh.train, fresh.boxes!.train);
  assert.ok(
    trainDigits.every((p) => !validationDigits.has(p)),
    'no validation digit on a training canvas',
  );
  // Training digits unused in epoch 0 come in: the pool holds more than one epoch's canvases use.
  const seen = new Set(digitPatches(plain.train, plain.boxes!.train));
  assert.ok(trainDigits.filter((p) => !seen.has(p)).length > trainDigits.length / 10);
  // An epoch's canvases depend on the epoch alone (a resumed run sees what an uninterrupted one would).
  fresh.train.startEpoch!(2);
  fresh.train.startEpoch!(1);
  assert.deepEqual([fresh.train.x, fresh.train.labels, fresh.boxes!.train], [epoch1.x, epoch1.labels, epoch1.boxes]);
  fresh.train.startEpoch!(0);
  assert.deepEqual(fresh.train.x, plain.train.x);
  await assert.rejects(prepareData({ name: 'mnist', limit: 100, freshEachEpoch: true }), /freshEachEpoch makes new samples only for digit-captions/);
});

function captionFolder(csv: string, images: string[]): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'attn-captions-'));
  const img = { width: 8, height: 4, channels: 1 as const, data: new Uint8Array(32).fill(200) };
  for (const f of images) writeFileSync(path.join(dir, f), encodePng(img));
  writeFileSync(path.join(dir, 'captions.csv'), csv);
  return path.join(dir, 'captions.csv');
}

const fit = { height: 4, width: 8, channels: 1 as const, steps: 4 };

test('a folder of images with a captions CSV: words become classes after <pad>, <start>, <end>', async () => {
  const csv = captionFolder('image,caption\na.png,A red bus.\nb.png,"a bus, red"\n', ['a.png', 'b.png']);
  const ds = await loadCaptionFolder(csv, fit);
  assert.deepEqual(ds.classNames, ['<pad>', '<start>', '<end>', 'a', 'red', 'bus']);
  assert.deepEqual(Array.from(ds.labels), [3, 4, 5, END_ID, 3, 5, 4, END_ID]);
  assert.deepEqual(await captionClasses(csv), ds.classNames);
});

test('a captions CSV with bad rows is refused with the file and row', async () => {
  const cases: [string, string[], RegExp][] = [
    ['file,text\na.png,hi\n', ['a.png'], /captions\.csv, row 1: the header must name the columns "image" and "caption"/],
    ['image,caption\na.png,hi\nmissing.png,hello\n', ['a.png'], /captions\.csv, row 3: cannot read image missing\.png/],
    ['image,caption\na.png,...\n', ['a.png'], /captions\.csv, row 2: the caption of a\.png has no words/],
    ['image,caption\na.png,one two three four\n', ['a.png'], /row 2: the caption of a\.png has 4 words; the model writes at most 3/],
    ['image,caption\n,hello\n', [], /row 2: no image file named/],
  ];
  for (const [text, images, message] of cases) await assert.rejects(loadCaptionFolder(captionFolder(text, images), fit), message);
  const bad = captionFolder('image,caption\nx.png,hi\n', []);
  writeFileSync(path.join(path.dirname(bad), 'x.png'), 'not an image');
  await assert.rejects(loadCaptionFolder(bad, fit), /row 2: image x\.png cannot be decoded/);
});
