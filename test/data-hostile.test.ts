// Datasets from a hostile or careless user: descriptions that ask for gigabytes,
// files that are not files (a FIFO named x.png would block a read forever),
// prototype keys taken for built-in names, and CSV cells that only look numeric.
// Each is refused with a message naming the dataset or the file, and row.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DATASET_LIMITS, datasetSpecSchema, prepareData } from '../engine/data/index.js';
import { encodePng } from '../engine/data/png.js';
import { listImageFolder, loadImageFolder } from '../engine/data/image-folder.js';
import { splitIndices } from '../engine/data/dataset.js';
import { deriveSeed } from '../engine/data/random.js';
import { loadCsv } from '../engine/data/csv.js';
import { readRegularFile } from '../engine/data/files.js';
import { previewData } from '../engine/data/preview.js';
import type { DatasetPreview } from '../common/host-api/api.js';
import { sandbox } from './host-fixtures.js';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'attn-hostile-'));
const png = () => encodePng({ width: 2, height: 2, channels: 1, data: new Uint8Array([0, 80, 160, 240]) });
const mkfifo = (p: string) => execFileSync('mkfifo', [p]);

test('synthetic datasets have documented maxima: size 5e7 and vocab 1e8 are refused before anything is built', async () => {
  for (const [field, value] of [
    ['size', 5e7],
    ['vocab', 1e8],
    ['length', 1e6],
    ['limit', 1e12],
  ] as const) {
    const r = datasetSpecSchema.safeParse({ name: 'copy', [field]: value });
    assert.equal(r.success, false, `${field}: ${value}`);
  }
  assert.ok(datasetSpecSchema.safeParse({ name: 'copy', size: DATASET_LIMITS.maxSize, vocab: DATASET_LIMITS.maxVocab }).success);
  // Each within its own maximum, together too many tokens.
  await assert.rejects(
    prepareData({ name: 'copy', size: 1_000_000, length: 4096 }),
    /dataset copy: 1000000 sequences of length 4096 .* over the limit of 16777216; ask for at most 4096 sequences/,
  );
  // The length and vocabulary a graph's input asks for are held to the same maxima.
  await assert.rejects(
    prepareData({ name: 'reverse', size: 8 }, { shape: [1e6], vocab: 16 }),
    /dataset reverse: sequence length 1000000 is over the limit of 4096/,
  );
  await assert.rejects(
    prepareData({ name: 'reverse', size: 8 }, { shape: [8], vocab: 1e8 }),
    /dataset reverse: vocabulary 100000000 is over the limit of 65536/,
  );

  const s = await sandbox('browser');
  try {
    const before = process.memoryUsage().rss;
    const p = (await s.service.dispatch('previewDataset', { dataset: { name: 'copy', size: 5e7, length: 16 } })) as DatasetPreview;
    assert.equal(p.ok, false);
    assert.match(!p.ok ? p.error : '', /size: .*1000000/);
    const v = (await s.service.dispatch('previewDataset', { dataset: { name: 'copy', vocab: 1e8, size: 4 } })) as DatasetPreview;
    assert.equal(v.ok, false);
    assert.match(!v.ok ? v.error : '', /vocab: .*65536/);
    assert.ok(process.memoryUsage().rss - before < 200 * 2 ** 20, 'nothing large was built');
  } finally {
    await s.cleanup();
  }
});

test('"constructor" and other prototype keys are not built-in datasets', async () => {
  for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty'])
    await assert.rejects(prepareData({ name }), (e: Error) => e.message.startsWith(`unknown dataset "${name}"`), name);
});

test('an image folder reads regular files only: a FIFO and a folder named x.png are skipped, a symlinked image is read', { timeout: 20_000 }, async () => {
  const dir = tmp();
  for (const cls of ['a', 'b']) {
    mkdirSync(path.join(dir, cls));
    writeFileSync(path.join(dir, cls, '1.png'), png());
  }
  mkfifo(path.join(dir, 'a', 'x.png'));
  mkdirSync(path.join(dir, 'b', 'folder.png'));
  execFileSync('ln', ['-s', path.join(dir, 'a', '1.png'), path.join(dir, 'b', '2.png')]);
  const ds = await loadImageFolder(dir, { height: 2, width: 2, channels: 1 });
  assert.deepEqual([...ds.labels], [0, 1, 1], 'one image in a (the FIFO skipped), two in b (the folder skipped, the symlink read)');

  // Five previews at once (libuv has four pool threads): none hangs, and the file listing still answers.
  const s = await sandbox('browser');
  try {
    const images = path.join(s.workspace, 'images');
    for (const cls of ['a', 'b']) {
      mkdirSync(path.join(images, cls), { recursive: true });
      writeFileSync(path.join(images, cls, '1.png'), png());
      mkfifo(path.join(images, cls, 'x.png'));
    }
    const previews = (await Promise.all(
      Array.from({ length: 5 }, () => s.service.dispatch('previewDataset', { dataset: { name: 'images', validationSplit: 0 } })),
    )) as DatasetPreview[];
    for (const p of previews) assert.equal(p.ok && p.trainSamples, 2);
    assert.ok(await s.service.dispatch('listFiles', {}));
  } finally {
    await s.cleanup();
  }
});

test('a dataset file that is not a regular file is refused with its name, never opened for a blocking read', { timeout: 20_000 }, async () => {
  const dir = tmp();
  const fifo = path.join(dir, 'data.csv');
  mkfifo(fifo);
  await assert.rejects(readRegularFile(fifo), { message: `${fifo} is not a regular file (a FIFO); only regular files are read` });
  await assert.rejects(loadCsv(fifo), /data\.csv is not a regular file \(a FIFO\)/);
  await assert.rejects(prepareData({ name: fifo }), /data\.csv is neither a folder nor a regular file/);
  const folder = path.join(dir, 'folder.csv');
  mkdirSync(folder);
  await assert.rejects(loadCsv(folder), /folder\.csv is not a regular file \(a folder\)/);
  await assert.rejects(readRegularFile('/dev/zero'), /\/dev\/zero is not a regular file \(a device\)/);
  const big = path.join(dir, 'big.csv');
  writeFileSync(big, 'a,label\n1,x\n2,y\n');
  await assert.rejects(readRegularFile(big, 8), /big\.csv is 0\.00 MiB; dataset files of at most 0\.00 MiB are read/);
});

test('CSV: an empty label and numbers in other notations (0x10, 0b1, Infinity) are refused with file, line, row and column', async () => {
  const dir = tmp();
  const write = (name: string, text: string) => {
    const file = path.join(dir, name);
    writeFileSync(file, text);
    return file;
  };
  const empty = write('empty-label.csv', 'a,label\n1,x\n2, \n3,y\n');
  await assert.rejects(loadCsv(empty), { message: `${empty}:3: row 2, label column "label" is empty` });
  for (const cell of ['0x10', '0b1', '0o7', 'Infinity', '1_000', '1e', '.', '-']) {
    const file = write('n.csv', `a,label\n1,x\n${cell},y\n`);
    await assert.rejects(loadCsv(file), { message: `${file}:3: row 2, column "a": "${cell}" is not a number` }, cell);
  }
  const good = write('good.csv', 'a,b,label\n+1.5,-.5,2\n1e3, 2E-1 ,10\n7.,0,2\n');
  const ds = await loadCsv(good);
  assert.deepEqual([...ds.x], [1.5, -0.5, 1000, Math.fround(0.2), 7, 0]);
  assert.deepEqual(ds.classNames, ['2', '10']);
  // Labels that only look numeric in another notation are names, sorted as text.
  const hex = await loadCsv(write('hex.csv', 'a,label\n1,0x10\n2,9\n'));
  assert.deepEqual(hex.classNames, ['0x10', '9']);
});

test('corrupt datasets of every kind name the file', async () => {
  const dir = tmp();
  const quote = path.join(dir, 'quote.csv');
  writeFileSync(quote, 'a,label\n1,"x\n');
  await assert.rejects(loadCsv(quote), (e: Error) => e.message.startsWith(`${quote}:`) && /unterminated quoted field/.test(e.message));
  const images = path.join(dir, 'images');
  for (const cls of ['a', 'b']) mkdirSync(path.join(images, cls), { recursive: true });
  writeFileSync(path.join(images, 'a', '1.png'), png());
  const bad = path.join(images, 'b', '1.png');
  writeFileSync(bad, png().subarray(0, 20));
  await assert.rejects(loadImageFolder(images, { height: 2, width: 2, channels: 1 }), (e: Error) => e.message.startsWith(`${bad}: `));
  const jpg = path.join(images, 'b', '1.png');
  writeFileSync(jpg, Uint8Array.of(0xff, 0xd8, 0xff, 0xe0, 1, 2, 3));
  await assert.rejects(loadImageFolder(images, { height: 2, width: 2, channels: 1 }), (e: Error) => e.message.startsWith(`${jpg}: corrupt JPEG`));
});

test(
  'a preview builds what it shows: the same samples as training sees, without building a million sequences or reading every image',
  { timeout: 60_000 },
  async () => {
    const same = async (spec: Parameters<typeof prepareData>[0], hint?: Parameters<typeof prepareData>[1]) => {
      const p = await previewData(spec, hint);
      const d = await prepareData(spec, hint);
      assert.equal(p.trainSamples, d.train.size);
      assert.equal(p.validationSamples, d.validation.size);
      const at = (ds: typeof d.train, i: number) => {
        const per = ds.inputShape.reduce((a, b) => a * b, 1);
        return [...ds.x.subarray(ds.row(i) * per, (ds.row(i) + 1) * per)];
      };
      p.samples.forEach((s, i) => assert.deepEqual([...s.x], at(d.train, i), `training sample ${i}`));
      p.probes.forEach((s, i) => assert.deepEqual([...s.x], at(d.validation, i), `probe ${i}`));
      assert.equal(p.probes.length, Math.min(64, d.validation.size));
      return p;
    };
    await same({ name: 'sort', size: 500, seed: 4 }, { shape: [10], vocab: 12 });
    await same({ name: 'recall', size: 300, validationSplit: 0.3 }, { shape: [9], vocab: 16 });

    const dir = tmp();
    for (const [c, cls] of ['a', 'b', 'c'].entries()) {
      mkdirSync(path.join(dir, cls));
      for (let k = 0; k < 12; k++)
        writeFileSync(path.join(dir, cls, `${k}.png`), encodePng({ width: 2, height: 2, channels: 1, data: new Uint8Array(4).fill(20 * c + k) }));
    }
    const images = await same({ name: dir, limit: 30, validationSplit: 0.2, seed: 2 }, { shape: [2, 2, 1] });
    assert.equal(
      images.classCounts.reduce((a, b) => a + b, 0),
      30,
    );
    // An image the preview does not show is not read; training, which reads them all, names it.
    const spec = { name: dir, validationSplit: 0.1, seed: 5 };
    const listing = await listImageFolder(dir);
    const split = splitIndices(dir, listing.files.length, spec.validationSplit, deriveSeed(spec.seed, 'split'));
    const shown = new Set([...split.train.subarray(0, 8), ...split.validation.subarray(0, 64)]);
    const unshown = listing.files.find((_, i) => !shown.has(i))!;
    writeFileSync(unshown, 'not a png');
    const p = await previewData(spec, { shape: [2, 2, 1] });
    assert.equal(p.trainSamples + p.validationSamples, 36);
    assert.deepEqual(p.classCounts, [12, 12, 12]);
    await assert.rejects(prepareData(spec, { shape: [2, 2, 1] }), { message: `${unshown}: not a PNG or JPEG image` });

    // The largest synthetic dataset the limits allow: shown in a moment, in little memory.
    const before = process.memoryUsage().rss;
    const t = performance.now();
    const big = await previewData({ name: 'sort', size: DATASET_LIMITS.maxSize, length: 16, vocab: 50 });
    assert.ok(performance.now() - t < 3000, `${performance.now() - t} ms`);
    assert.ok(process.memoryUsage().rss - before < 64 * 2 ** 20, `rss grew by ${(process.memoryUsage().rss - before) / 2 ** 20} MiB`);
    assert.equal(big.trainSamples + big.validationSamples, 1_000_000);
    assert.equal(big.samples.length, 8);
    assert.equal(big.probes.length, 64);
    for (const s of big.probes)
      assert.deepEqual(
        s.label,
        [...s.x].sort((a, b) => a - b),
        'a sorted copy of its input',
      );
  },
);
