// Fine-tuning on the tfjs trainer: frozen nodes keep their weights (their
// BatchNorm statistics too), a learning-rate multiplier of 0 is freezing and one
// of ½ halves an SGD step, a new head takes the dataset's class count while the
// rest starts from a pretrained run, and mistyped node names are refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { IMAGENET_STATS, prepareData, type PreparedData } from '../engine/data/index.js';
import { encodePng } from '../engine/data/png.js';
import { Trainer } from '../engine/train/trainer.js';
import { setupRun } from '../engine/train/setup.js';
import type { TrainConfigInput } from '../engine/schemas/train-config.js';
import type { GraphFile } from '../engine/graph/types.js';
import { tfReady } from './helpers/tf.js';
import { same } from './helpers/checkpoints.js';
import { bnCnn } from './train-fixtures.js';

const quiet = { probe: { enabled: false }, epochs: 1, batchSize: 32 } as const;

/** Every weight of the model by its name, as numbers. */
async function weightsOf(trainer: Trainer): Promise<Map<string, Float32Array>> {
  return new Map(await Promise.all(trainer.model.weights.map(async (w) => [w.originalName, (await w.read().data()) as Float32Array] as const)));
}

async function trainOnce(
  data: PreparedData,
  config: TrainConfigInput,
  graph = bnCnn(),
): Promise<{ before: Map<string, Float32Array>; after: Map<string, Float32Array>; trainer: Trainer }> {
  const tf = await tfReady;
  const trainer = new Trainer({ tf, graph, data, config: { ...quiet, ...config } });
  const before = await weightsOf(trainer);
  await trainer.run();
  const after = await weightsOf(trainer);
  trainer.dispose();
  return { before, after, trainer };
}

const byNode = (m: Map<string, Float32Array>, node: string) => [...m].filter(([k]) => k.startsWith(`${node}/`));

test('frozen nodes keep every weight, BatchNorm statistics included; the others train', async () => {
  const data = await prepareData({ name: 'mnist', limit: 160 });
  const { before, after, trainer } = await trainOnce(data, { freeze: ['conv', 'bn'] });
  for (const node of ['conv', 'bn']) {
    const ws = byNode(after, node);
    assert.ok(ws.length >= (node === 'bn' ? 4 : 2), `${node} has its weights`);
    for (const [name, v] of ws) assert.ok(same(v, before.get(name)!), `${name} changed while frozen`);
  }
  for (const node of ['hidden', 'head']) for (const [name, v] of byNode(after, node)) assert.ok(!same(v, before.get(name)!), `${name} did not train`);
  assert.equal(trainer.fineTuning.batchNormInInference, 1);
  assert.equal(trainer.fineTuning.frozen.params, 4 * 9 + 4 + 4 * 4);
});

test("frozenBatchNorm 'train' keeps the affine weights but lets the statistics move", async () => {
  const data = await prepareData({ name: 'mnist', limit: 96 });
  const { before, after } = await trainOnce(data, { freeze: ['bn'], frozenBatchNorm: 'train' });
  const moved = byNode(after, 'bn')
    .filter(([name, v]) => !same(v, before.get(name)!))
    .map(([name]) => name.split('/')[1])
    .sort();
  assert.deepEqual(moved, ['moving_mean', 'moving_variance']);
});

test('a learning-rate multiplier of 0 is freezing, bit for bit', async () => {
  const data = await prepareData({ name: 'mnist', limit: 160 });
  const frozen = await trainOnce(data, { freeze: ['conv', 'bn'] });
  const zero = await trainOnce(data, { lrMultipliers: { conv: 0, bn: 0 } });
  assert.equal(zero.after.size, frozen.after.size);
  for (const [name, v] of frozen.after) assert.ok(same(v, zero.after.get(name)!), `${name} differs between freeze and lr multiplier 0`);
});

test('a learning-rate multiplier of ½ halves the SGD step of its node only', async () => {
  const data = await prepareData({ name: 'mnist', limit: 32 });
  const sgd = { optimizer: 'sgd', momentum: 0, lr: 0.05 } as const;
  const full = await trainOnce(data, sgd);
  const half = await trainOnce(data, { ...sgd, lrMultipliers: { hidden: 0.5 } });
  for (const [name, v0] of full.before) {
    const d1 = full.after.get(name)!.map((v, i) => v - v0[i]);
    const dh = half.after.get(name)!.map((v, i) => v - v0[i]);
    const ratio = name.startsWith('hidden/') ? 0.5 : 1;
    if (name.startsWith('hidden/') || name.startsWith('head/'))
      d1.forEach((d, i) => assert.ok(Math.abs(dh[i] - ratio * d) <= 1e-6 + 1e-4 * Math.abs(d), `${name}[${i}]: step ${dh[i]}, want ${ratio} × ${d}`));
  }
});

test('a new head: the dataset class count, fresh weights, the backbone from a pretrained run', async () => {
  const tf = await tfReady;
  const dir = mkdtempSync(path.join(tmpdir(), 'attn-finetune-'));
  // The "pretrained" run: 10 classes of MNIST.
  const pre = await setupRun({ graph: bnCnn(), dataset: { name: 'mnist', limit: 64 }, config: quiet, out: { dir: path.join(dir, 'pre') } });
  await pre.run();
  const pretrained = await weightsOf(pre);
  pre.dispose();
  // A 3-class task: a CSV of 784 pixels and a label.
  const rows = Array.from({ length: 60 }, (_, i) => [...Array.from({ length: 784 }, (_, j) => ((i * 7 + j) % 13) / 13), i % 3].join(','));
  const csv = path.join(dir, 'three.csv');
  writeFileSync(csv, [[...Array.from({ length: 784 }, (_, j) => `p${j}`), 'label'].join(','), ...rows].join('\n'));
  const data = await prepareData({ name: csv });
  assert.equal(data.classNames.length, 3);
  // The CSV gives [784]: the graph takes it flat.
  const flatGraph = bnCnn();
  const reshape = { id: 'shape', type: 'core.reshape', params: { shape: [28, 28, 1] }, position: { x: 0, y: 0 } };
  const graph: GraphFile = {
    ...flatGraph,
    nodes: [...flatGraph.nodes.map((n) => (n.id === 'in' ? { ...n, params: { kind: 'vector', features: 784 } } : n)), reshape],
    edges: [
      { from: { node: 'in', port: 'out' }, to: { node: 'shape', port: 'in' } },
      ...flatGraph.edges.map((e) => (e.from.node === 'in' ? { ...e, from: { node: 'shape', port: 'out' } } : e)),
    ],
  };
  const trainer = new Trainer({
    tf,
    graph,
    data,
    config: { ...quiet, epochs: 1, head: {}, initWeights: path.join(dir, 'pre'), freeze: ['conv', 'bn', 'hidden'] },
  });
  assert.equal(trainer.graph.nodes.find((n) => n.id === 'head')!.params.classes, 3);
  assert.deepEqual(trainer.compiled.outputs[0].shape, [null, 3]);
  await trainer.loadStartingWeights();
  const started = await weightsOf(trainer);
  for (const [name, v] of started) if (!name.startsWith('head/')) assert.ok(same(v, pretrained.get(name)!), `${name} is not the pretrained weight`);
  assert.deepEqual(started.get('head/kernel')?.length, 16 * 3);
  await trainer.run();
  const after = await weightsOf(trainer);
  for (const node of ['conv', 'bn', 'hidden']) for (const [name, v] of byNode(after, node)) assert.ok(same(v, pretrained.get(name)!), `${name} moved`);
  assert.ok(!same(after.get('head/kernel')!, started.get('head/kernel')!), 'the new head trained');
  trainer.dispose();
});

test('names that match no node are refused, naming the setting and the nodes there are', async () => {
  const tf = await tfReady;
  const data = await prepareData({ name: 'mnist', limit: 32 });
  assert.throws(
    () => new Trainer({ tf, graph: bnCnn(), data, config: { ...quiet, freeze: ['backbone'] } }),
    /freeze: "backbone" names no node of the graph \(node ids: .*conv.*\)/,
  );
  assert.throws(() => new Trainer({ tf, graph: bnCnn(), data, config: { ...quiet, lrMultipliers: { convv: 0.1 } } }), /lrMultipliers: "convv" names no node/);
  assert.throws(() => new Trainer({ tf, graph: bnCnn(), data, config: { ...quiet, head: { node: 'conv' } } }), /head: node "conv" is a core.conv2d/);
});

test("normalize 'imagenet': an image folder centre-cropped (224 of 256) and normalised with ImageNet's mean and std", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'attn-imagenet-'));
  // 64 × 48 images: a 2-pixel red frame around a single colour, which the crop keeps and the plain resize does not.
  const colours = { a: [10, 200, 30], b: [250, 128, 0] };
  for (const [name, rgb] of Object.entries(colours)) {
    mkdirSync(path.join(dir, name));
    const data = new Uint8Array(64 * 48 * 3);
    for (let y = 0; y < 48; y++) for (let x = 0; x < 64; x++) data.set(x < 2 || y < 2 || x >= 62 || y >= 46 ? [255, 0, 0] : rgb, (y * 64 + x) * 3);
    for (const i of [0, 1]) writeFileSync(path.join(dir, name, `${i}.png`), encodePng({ width: 64, height: 48, channels: 3, data }));
  }
  const hint = { shape: [16, 16, 3] };
  const pre = await prepareData({ name: dir, normalize: 'imagenet', validationSplit: 0 }, hint);
  assert.deepEqual(pre.normalization, IMAGENET_STATS);
  const { x, labels } = { x: pre.train.x, labels: pre.train.labels };
  for (let i = 0; i < pre.train.size; i++) {
    const rgb = Object.values(colours)[labels[pre.train.row(i)]];
    const px = x.subarray(pre.train.row(i) * 768, (pre.train.row(i) + 1) * 768);
    px.forEach((v, j) =>
      assert.ok(Math.abs(v - (rgb[j % 3] / 255 - IMAGENET_STATS.mean[j % 3]) / IMAGENET_STATS.std[j % 3]) < 1e-5, `image ${i} value ${j}: ${v}`),
    );
  }
  const plain = await prepareData({ name: dir, normalize: 'none', validationSplit: 0 }, hint);
  assert.ok(plain.train.x[0] > 0.5 && plain.train.x[1] < 0.5, 'without the preset the corner shows the red frame');
  await assert.rejects(
    prepareData({ name: 'mnist', limit: 10, normalize: 'imagenet' }),
    /normalize 'imagenet' is for RGB images, and it gives float32 \[28, 28, 1\]/,
  );
});
