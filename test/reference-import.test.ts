// Weights in and predictions out: export then import is the identity, the import
// report names missing, unexpected and mismatched arrays (strict refuses,
// --partial loads what fits), and `attn predict` runs the run folder it writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileGraph } from '../engine/compile/compile.js';
import { exportPytorch } from '../engine/export/pytorch.js';
import { encodeSafetensors, type NamedArray } from '../engine/export/safetensors.js';
import { torchStateDict } from '../engine/export/torch-weights.js';
import { importWeights, WeightsImportError } from '../engine/weights/import.js';
import { readNpy, writeNpy } from '../engine/weights/npy.js';
import { attn } from './helpers/cli.js';
import { randomizeWeights } from './helpers/exports.js';
import { loadTemplate, templatesDir } from './helpers/graphs.js';
import { tfReady } from './helpers/tf.js';

const TEMPLATE = 'se-resnet20-mnist';

test('PyTorch export then import is the identity on every weight', async () => {
  const tf = await tfReady;
  const graph = loadTemplate(`${TEMPLATE}.attn.json`);
  const source = compileGraph(tf, graph, { seed: 1 });
  randomizeWeights(tf, source.model, 7);
  const arrays = torchStateDict(source.model, exportPytorch(graph));
  const target = compileGraph(tf, graph, { seed: 2 });
  const report = importWeights(tf, graph, target, arrays);
  assert.equal(report.loaded.length, arrays.length);
  assert.deepEqual([report.missing, report.unexpected, report.mismatched], [[], [], []]);
  source.model.weights.forEach((w, i) => assert.deepEqual(target.model.weights[i].read().dataSync(), w.read().dataSync(), w.originalName));
  source.model.dispose();
  target.model.dispose();
});

/** Our export's CBAM names as the CBAM authors' DataParallel checkpoint has them: ChannelGate.mlp.1|3, SpatialGate.spatial.conv|bn, "module." first, the spatial conv's pooled inputs stacked [max; mean]. */
function asCbamAuthors(a: NamedArray): NamedArray {
  const name = `module.${a.name
    .replace(/\.cbam\.channel\.fc1\./, '.cbam.ChannelGate.mlp.1.')
    .replace(/\.cbam\.channel\.fc2\./, '.cbam.ChannelGate.mlp.3.')
    .replace(/\.cbam\.spatial\./, '.cbam.SpatialGate.spatial.')}`;
  if (!name.endsWith('SpatialGate.spatial.conv.weight')) return { ...a, name };
  const half = a.data.length / 2;
  return { ...a, name, data: Float32Array.from([...a.data.subarray(half), ...a.data.subarray(0, half)]) };
}

test("the CBAM authors' names from a DataParallel checkpoint import to the same weights (spatial conv's inputs swapped)", async () => {
  const tf = await tfReady;
  const graph = loadTemplate('cbam-resnet20-mnist.attn.json');
  const source = compileGraph(tf, graph, { seed: 1 });
  randomizeWeights(tf, source.model, 7);
  const arrays = torchStateDict(source.model, exportPytorch(graph));
  const authors = arrays.map(asCbamAuthors);
  assert.ok(authors.some((a) => a.name === 'module.stage1.first.cbam.SpatialGate.spatial.conv.weight'));
  const target = compileGraph(tf, graph, { seed: 2 });
  const report = importWeights(tf, graph, target, authors);
  assert.match(report.source, /CBAM authors' CBAM.*"module\." dropped/);
  assert.equal(report.loaded.length, arrays.length);
  source.model.weights.forEach((w, i) => assert.deepEqual(target.model.weights[i].read().dataSync(), w.read().dataSync(), w.originalName));
  source.model.dispose();
  target.model.dispose();
});

test('strict import refuses naming missing, unexpected and mismatched arrays; --partial loads the rest', async () => {
  const tf = await tfReady;
  const graph = loadTemplate(`${TEMPLATE}.attn.json`);
  const source = compileGraph(tf, graph, { seed: 1 });
  randomizeWeights(tf, source.model, 3);
  const arrays = torchStateDict(source.model, exportPytorch(graph));
  const dropped = arrays[0].name;
  const bent = arrays[1];
  const edited = [
    ...arrays.slice(2),
    { ...bent, shape: [...bent.shape, 1, 2], data: new Float32Array(bent.data.length * 2) },
    { name: 'extra.weight', shape: [2], data: new Float32Array(2) },
  ];
  const target = compileGraph(tf, graph, { seed: 2 });
  const before = target.model.weights.map((w) => w.read().dataSync());
  assert.throws(
    () => importWeights(tf, graph, target, edited),
    (err: unknown) =>
      err instanceof WeightsImportError &&
      err.report.missing.includes(dropped) &&
      err.report.unexpected.includes('extra.weight') &&
      err.report.mismatched[0].name === bent.name,
  );
  target.model.weights.forEach((w, i) => assert.deepEqual(w.read().dataSync(), before[i], `strict refusal changed ${w.originalName}`));

  const dir = mkdtempSync(join(tmpdir(), 'attn-import-'));
  writeFileSync(join(dir, 'w.safetensors'), encodeSafetensors(edited));
  const file = join(templatesDir, `${TEMPLATE}.attn.json`);
  const strict = await attn('weights', 'import', file, join(dir, 'w.safetensors'), '--out', join(dir, 'run'));
  assert.equal(strict.code, 1);
  assert.match(strict.stderr, new RegExp(`missing from the file.*${dropped.replace(/\./g, '\\.')}`));
  assert.match(strict.stderr, /in the file but not in the graph: extra\.weight/);
  assert.match(strict.stderr, /--partial/);
  const partial = await attn('weights', 'import', file, join(dir, 'w.safetensors'), '--out', join(dir, 'run'), '--partial', '--json');
  assert.equal(partial.code, 0, partial.stderr);
  const report = JSON.parse(partial.stdout) as { loaded: string[]; missing: string[]; unexpected: string[]; mismatched: { name: string }[] };
  assert.equal(report.loaded.length, arrays.length - 2);
  assert.deepEqual(report.missing, [dropped]);
  assert.deepEqual(report.unexpected, ['extra.weight']);
  assert.deepEqual(
    report.mismatched.map((m) => m.name),
    [bent.name],
  );
  source.model.dispose();
  target.model.dispose();
});

test('attn predict runs the imported run folder and equals the compiled model with those weights', async () => {
  const tf = await tfReady;
  const graph = loadTemplate(`${TEMPLATE}.attn.json`);
  const source = compileGraph(tf, graph, { seed: 1 });
  randomizeWeights(tf, source.model, 5);
  const dir = mkdtempSync(join(tmpdir(), 'attn-predict-'));
  writeFileSync(join(dir, 'w.safetensors'), encodeSafetensors(torchStateDict(source.model, exportPytorch(graph))));
  const file = join(templatesDir, `${TEMPLATE}.attn.json`);
  assert.equal((await attn('weights', 'import', file, join(dir, 'w.safetensors'), '--out', join(dir, 'run'))).code, 0);
  const x = tf.randomNormal([3, 28, 28, 1], 0, 1, 'float32', 9);
  writeFileSync(join(dir, 'x.npy'), writeNpy({ shape: x.shape, data: Float32Array.from(x.dataSync()) }));
  const r = await attn('predict', file, '--weights', join(dir, 'run'), '--input', join(dir, 'x.npy'), '--out', join(dir, 'y.npy'), '--json');
  assert.equal(r.code, 0, r.stderr);
  const printed = JSON.parse(r.stdout) as { shape: number[]; data: number[] };
  const written = readNpy(readFileSync(join(dir, 'y.npy')), 'y.npy');
  const want = (source.model.predict(x) as ReturnType<typeof tf.zeros>).dataSync();
  assert.deepEqual(printed.shape, [3, 10]);
  assert.deepEqual(written.shape, [3, 10]);
  want.forEach((v, i) => {
    assert.ok(Math.abs(written.data[i] - v) < 1e-6, `output ${i}: ${written.data[i]} vs ${v}`);
    assert.ok(Math.abs(printed.data[i] - v) < 1e-6);
  });
  const wrong = await attn('predict', file, '--weights', join(dir, 'run'), '--input', join(dir, 'y.npy'));
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /y\.npy is \[3, 10\]; the graph's input is \[batch, 28, 28, 1\]/);
  source.model.dispose();
});
