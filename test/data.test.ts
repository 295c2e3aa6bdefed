// Datasets on real data: the built-in MNIST and Fashion-MNIST packages, the
// synthetic tasks, image folders (PNG) and CSV, splits and normalisation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import { loadBuiltin, scanNumbers } from '../engine/data/builtin.js';
import { IGNORE, splitDataset, standardize, channelStats } from '../engine/data/dataset.js';
import { idealAttention, recallPairs, syntheticDataset } from '../engine/data/synthetic.js';
import { decodePng, encodePng } from '../engine/data/png.js';
import { loadImageFolder } from '../engine/data/image-folder.js';
import { loadCsv } from '../engine/data/csv.js';
import { prepareData } from '../engine/data/index.js';
import { tfReady } from './helpers/tf.js';

const require = createRequire(import.meta.url);
const tmp = () => mkdtempSync(path.join(tmpdir(), 'attn-data-'));

test('scanNumbers reads the MNIST package file exactly as JSON.parse does', () => {
  const file = require.resolve('mnist/src/digits/3.json');
  const text = readFileSync(file);
  const expected = (JSON.parse(text.toString('utf8')) as { data: number[] }).data;
  const out = new Float32Array(expected.length);
  assert.equal(scanNumbers(text, out), expected.length);
  for (let i = 0; i < expected.length; i++) if (out[i] !== Math.fround(expected[i])) assert.fail(`value ${i}: ${out[i]} vs ${expected[i]}`);
});

test('mnist: 28×28×1 digits in [0, 1], ten classes, a balanced seeded subset with --limit', async () => {
  const ds = await loadBuiltin('mnist', { limit: 500, seed: 1 });
  assert.equal(ds.size, 500);
  assert.deepEqual(ds.inputShape, [28, 28, 1]);
  assert.equal(ds.classNames.length, 10);
  const counts = new Array(10).fill(0);
  for (let i = 0; i < ds.size; i++) counts[ds.labels[ds.row(i)]]++;
  assert.ok(
    counts.every((c) => c >= 40 && c <= 50),
    `class counts ${counts}`,
  );
  let lo = Infinity,
    hi = -Infinity;
  for (const v of ds.x) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  assert.equal(lo, 0);
  assert.ok(hi > 0.99 && hi <= 1);
  const again = await loadBuiltin('mnist', { limit: 500, seed: 1 });
  assert.deepEqual(
    Array.from({ length: 20 }, (_, i) => again.row(i)),
    Array.from({ length: 20 }, (_, i) => ds.row(i)),
  );
  // A digit has ink: on average well over 50 of its 784 pixels are bright.
  const tf = await tfReady;
  const b = ds.batch(tf, [0, 1, 2, 3]);
  const bright = (await b.x.greater(0.5).sum().data())[0];
  b.x.dispose();
  assert.ok(bright / 4 > 50, `bright pixels per digit: ${bright / 4}`);
});

test('fashion-mnist: 0..255 in the package, [0, 1] here, named classes', async () => {
  const ds = await loadBuiltin('fashion-mnist', { limit: 200 });
  assert.equal(ds.size, 200);
  assert.equal(ds.classNames[9], 'Ankle boot');
  let hi = 0;
  for (const v of ds.x) hi = Math.max(hi, v);
  assert.ok(hi > 0.9 && hi <= 1, `max ${hi}`);
  await assert.rejects(loadBuiltin('cifar'), /unknown dataset "cifar"/);
});

test('synthetic copy, reverse and sort: targets are right and idealAttention says where they come from', () => {
  for (const task of ['copy', 'reverse', 'sort'] as const) {
    const ds = syntheticDataset({ task, length: 9, vocab: 7, size: 50, seed: 3 });
    assert.deepEqual(ds.inputShape, [9]);
    assert.deepEqual(ds.labelShape, [9]);
    assert.equal(ds.inputDtype, 'int32');
    for (let s = 0; s < 50; s++) {
      const x = ds.x.subarray(s * 9, s * 9 + 9);
      const y = ds.labels.subarray(s * 9, s * 9 + 9);
      assert.ok(x.every((v) => v >= 0 && v < 7));
      const want = task === 'copy' ? [...x] : task === 'reverse' ? [...x].reverse() : [...x].sort((a, b) => a - b);
      assert.deepEqual([...y], want, `${task} sample ${s}`);
      const src = idealAttention(task, x);
      src.forEach((p, t) => assert.equal(x[p], y[t], `${task}: position ${t} attends to ${p}`));
    }
  }
  const rev = idealAttention('reverse', new Int32Array(5));
  assert.deepEqual([...rev], [4, 3, 2, 1, 0]);
  assert.deepEqual(syntheticDataset({ task: 'sort', size: 4, seed: 9 }).x, syntheticDataset({ task: 'sort', size: 4, seed: 9 }).x);
  assert.notDeepEqual(syntheticDataset({ task: 'sort', size: 4, seed: 9 }).x, syntheticDataset({ task: 'sort', size: 4, seed: 10 }).x);
});

test('synthetic recall: each query is answered with the value stored under its key; other positions are ignored', () => {
  const T = 16,
    V = 20;
  const ds = syntheticDataset({ task: 'recall', length: T, vocab: V, size: 40, seed: 5 });
  const pairs = recallPairs(T);
  for (let s = 0; s < 40; s++) {
    const x = ds.x.subarray(s * T, (s + 1) * T);
    const y = ds.labels.subarray(s * T, (s + 1) * T);
    const keys = Array.from({ length: pairs }, (_, i) => x[2 * i]);
    assert.equal(new Set(keys).size, pairs, 'keys are distinct');
    assert.ok(keys.every((k) => k < V / 2));
    for (let t = 0; t < 2 * pairs; t++) assert.equal(y[t], IGNORE);
    const src = idealAttention('recall', x);
    for (let t = 2 * pairs; t < T; t++) {
      const i = keys.indexOf(x[t]);
      assert.ok(i >= 0, 'a query asks for a stored key');
      assert.equal(y[t], x[2 * i + 1]);
      assert.equal(src[t], 2 * i + 1);
      assert.ok(y[t] >= V / 2);
    }
  }
  assert.throws(() => syntheticDataset({ task: 'recall', length: 30, vocab: 8 }), /needs length ≥ 3 and vocab ≥ 20/);
});

test('split is seeded and disjoint; standardisation uses training statistics', async () => {
  const ds = await loadBuiltin('mnist', { limit: 300 });
  const a = splitDataset(ds, 0.2, 7);
  const b = splitDataset(ds, 0.2, 7);
  assert.equal(a.validation.size, 60);
  assert.equal(a.train.size, 240);
  const rows = (d: typeof ds) => Array.from({ length: d.size }, (_, i) => d.row(i));
  assert.deepEqual(rows(a.train), rows(b.train));
  const all = new Set([...rows(a.train), ...rows(a.validation)]);
  assert.equal(all.size, 300);
  assert.notDeepEqual(rows(splitDataset(ds, 0.2, 8).validation), rows(a.validation));
  const s = standardize(a.train, a.validation);
  const st = channelStats(s.train);
  assert.ok(Math.abs(st.mean[0]) < 1e-4 && Math.abs(st.std[0] - 1) < 1e-3, JSON.stringify(st));
  assert.ok(s.stats.mean[0] > 0.05, 'raw MNIST mean is the mean ink');
});

/** Writes a PNG with the given per-row filter types (0..4), applying the forward filters. */
function filteredPng(width: number, height: number, channels: 1 | 3, pixels: Uint8Array, filters: number[]): Buffer {
  const stride = width * channels;
  const raw = Buffer.alloc(height * (stride + 1));
  for (let y = 0; y < height; y++) {
    const f = filters[y % filters.length];
    raw[y * (stride + 1)] = f;
    for (let i = 0; i < stride; i++) {
      const cur = pixels[y * stride + i];
      const a = i >= channels ? pixels[y * stride + i - channels] : 0;
      const b = y > 0 ? pixels[(y - 1) * stride + i] : 0;
      const c = y > 0 && i >= channels ? pixels[(y - 1) * stride + i - channels] : 0;
      const pa = Math.abs(b - c),
        pb = Math.abs(a - c),
        pc = Math.abs(a + b - 2 * c);
      const pred = [0, a, b, (a + b) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? b : c][f];
      raw[y * (stride + 1) + 1 + i] = (cur - pred) & 255;
    }
  }
  const plain = encodePng({ width, height, channels, data: pixels });
  // Swap the IDAT of an unfiltered encoding for the filtered one, with its CRC.
  const ihdr = plain.subarray(8, 33);
  const idat = deflateSync(raw);
  const chunk = Buffer.alloc(12 + idat.length);
  chunk.writeUInt32BE(idat.length, 0);
  chunk.write('IDAT', 4, 'latin1');
  idat.copy(chunk, 8);
  const { crc32 } = require('node:zlib') as typeof import('node:zlib');
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + idat.length)), 8 + idat.length);
  return Buffer.concat([plain.subarray(0, 8), ihdr, chunk, plain.subarray(plain.length - 12)]);
}

test('PNG: encode/decode round trip, and all five row filters decode', () => {
  const w = 7,
    h = 5;
  const rgb = Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 37 + (i >> 3) * 11) & 255);
  const back = decodePng(encodePng({ width: w, height: h, channels: 3, data: rgb }));
  assert.deepEqual([back.width, back.height, back.channels], [w, h, 3]);
  assert.deepEqual(back.data, rgb);
  const filtered = decodePng(filteredPng(w, h, 3, rgb, [0, 1, 2, 3, 4]));
  assert.deepEqual(filtered.data, rgb);
  const grey = Uint8Array.from({ length: w * h }, (_, i) => (i * 53) & 255);
  assert.deepEqual(decodePng(filteredPng(w, h, 1, grey, [4, 3, 2, 1])).data, grey);
  const bad = encodePng({ width: w, height: h, channels: 3, data: rgb });
  bad[40] ^= 0xff;
  assert.throws(() => decodePng(bad), /corrupt PNG \(bad CRC/);
});

test('image folder: classes from sub-folders, resized, grey or RGB; corrupt images and empty classes are named', async () => {
  const dir = tmp();
  for (const [cls, value] of [
    ['cat', 200],
    ['dog', 40],
  ] as const) {
    mkdirSync(path.join(dir, cls));
    for (let k = 0; k < 3; k++) {
      const data = new Uint8Array(8 * 6 * 3).fill(value);
      data[0] = 0; // one dark corner pixel (red channel)
      writeFileSync(path.join(dir, cls, `${k}.png`), encodePng({ width: 8, height: 6, channels: 3, data }));
    }
  }
  writeFileSync(path.join(dir, 'cat', 'notes.txt'), 'not an image');
  const grey = await loadImageFolder(dir, { height: 3, width: 4, channels: 1 });
  assert.deepEqual(grey.classNames, ['cat', 'dog']);
  assert.deepEqual([...grey.labels], [0, 0, 0, 1, 1, 1]);
  assert.deepEqual(grey.inputShape, [3, 4, 1]);
  // A 2× downscale averages 2×2 blocks: the far pixel is the plain class value.
  assert.ok(Math.abs(grey.x[11] - 200 / 255) < 1e-5);
  assert.ok(Math.abs(grey.x[12 * 3 + 11] - 40 / 255) < 1e-5);
  assert.ok(grey.x[0] < 200 / 255, 'the dark corner pulls the first pixel down');
  const rgb = await loadImageFolder(dir, { height: 6, width: 8, channels: 3 });
  assert.equal(rgb.x[0], 0);
  assert.ok(Math.abs(rgb.x[1] - 200 / 255) < 1e-6);

  const broken = path.join(dir, 'dog', '1.png');
  writeFileSync(broken, readFileSync(broken).subarray(0, 30));
  await assert.rejects(
    loadImageFolder(dir, { height: 3, width: 4, channels: 1 }),
    (e: Error) => e.message.startsWith(`${broken}: `) && /truncated|corrupt/.test(e.message),
  );

  const dir2 = tmp();
  mkdirSync(path.join(dir2, 'a'));
  mkdirSync(path.join(dir2, 'b'));
  writeFileSync(path.join(dir2, 'a', 'x.png'), encodePng({ width: 2, height: 2, channels: 1, data: new Uint8Array(4) }));
  await assert.rejects(
    loadImageFolder(dir2, { height: 2, width: 2, channels: 1 }),
    (e: Error) => e.message.includes(path.join(dir2, 'b')) && /class "b" has no PNG or JPEG images/.test(e.message),
  );
});

test('CSV: numeric features and a label column; ragged rows and non-numbers name file, line and column', async () => {
  const dir = tmp();
  const good = path.join(dir, 'iris.csv');
  writeFileSync(good, 'sepal,petal,"species, common"\r\n1.5,2,setosa\n3,4.25,"virginica"\n\n-1,0,setosa\n');
  const ds = await loadCsv(good);
  assert.deepEqual(ds.inputShape, [2]);
  assert.deepEqual(ds.classNames, ['setosa', 'virginica']);
  assert.deepEqual([...ds.x], [1.5, 2, 3, 4.25, -1, 0]);
  assert.deepEqual([...ds.labels], [0, 1, 0]);
  const numeric = path.join(dir, 'numeric.csv');
  writeFileSync(numeric, 'grade,x,y\n10,1,2\n2,3,4\n10,5,6\n');
  const byName = await loadCsv(numeric, { label: 'grade' });
  assert.deepEqual(byName.classNames, ['2', '10'], 'numeric labels sort as numbers');
  assert.deepEqual([...byName.x], [1, 2, 3, 4, 5, 6]);
  assert.deepEqual([...byName.labels], [1, 0, 1]);

  const ragged = path.join(dir, 'ragged.csv');
  writeFileSync(ragged, 'a,b,label\n1,2,x\n3,y\n5,6,z\n');
  await assert.rejects(loadCsv(ragged), { message: `${ragged}:3: row 2 has 2 fields, the header has 3` });
  const nan = path.join(dir, 'nan.csv');
  writeFileSync(nan, 'a,b,label\n1,2,x\n3,oops,y\n');
  await assert.rejects(loadCsv(nan), { message: `${nan}:3: row 2, column "b": "oops" is not a number` });
});

test('prepareData: CSV is standardised, synthetic tasks take the graph input length and vocabulary', async () => {
  const dir = tmp();
  const file = path.join(dir, 't.csv');
  writeFileSync(file, 'a,b,label\n' + Array.from({ length: 40 }, (_, i) => `${i},${100 + 3 * i},${i % 2}`).join('\n'));
  const p = await prepareData({ name: file, validationSplit: 0.25, seed: 1 });
  assert.equal(p.train.size, 30);
  assert.equal(p.validation.size, 10);
  assert.ok(p.normalization && Math.abs(channelStats(p.train).mean[1]) < 1e-4);
  const s = await prepareData({ name: 'reverse', limit: 64 }, { shape: [12], vocab: 9 });
  assert.deepEqual(s.train.inputShape, [12]);
  assert.equal(s.classNames.length, 9);
  assert.equal(s.train.size + s.validation.size, 64);
  await assert.rejects(prepareData({ name: 'nope' }), /unknown dataset "nope"/);
});
