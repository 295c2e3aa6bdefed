// The BatchNorm block trains as PyTorch's BatchNorm does: the batch is normalised
// with its biased variance, and the moving variance takes in the unbiased one,
// n/(n − 1) times that (n the values per channel), where tfjs's own layer takes in
// the biased one. Checked on a batch with n = 6, where the two differ by 20 %.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { unbiasedBatchNormLayer } from '../engine/blocks/batch-norm-layer.js';
import { compileGraph } from '../engine/compile/compile.js';
import { chain, graph } from './helpers/graphs.js';
import { tfReady } from './helpers/tf.js';
import type { Tensor } from '../engine/blocks/contract.js';

const BATCH = [2, 3, 4]; // 2 sequences of 3 steps, 4 features: 6 values per channel
const values = Array.from({ length: 24 }, (_, i) => Math.sin(1.7 * i) * (1 + (i % 4)) + (i % 4));

/** Per channel (last axis): the mean and the biased and unbiased variances, in double precision. */
function statistics(data: number[], channels: number) {
  const byChannel = Array.from({ length: channels }, (_, c) => data.filter((_, i) => i % channels === c));
  return byChannel.map((v) => {
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    const squares = v.reduce((a, b) => a + (b - mean) ** 2, 0);
    return { mean, biased: squares / v.length, unbiased: squares / (v.length - 1) };
  });
}

const close = (actual: ArrayLike<number>, expected: number[], tolerance: number, what: string) =>
  expected.forEach((e, i) => assert.ok(Math.abs(actual[i] - e) <= tolerance, `${what}[${i}]: ${actual[i]}, expected ${e}`));

test('a training step of the BatchNorm layer takes the unbiased batch variance into its moving variance, as PyTorch does', async () => {
  const tf = await tfReady;
  const momentum = 0.9;
  const layer = new (unbiasedBatchNormLayer(tf))({ momentum, epsilon: 1e-5, name: 'bn' });
  const x = tf.tensor3d(values, BATCH as [number, number, number]);
  const y = layer.apply(x, { training: true }) as ReturnType<typeof tf.tensor>;
  const stats = statistics(values, 4);
  const byName = new Map(layer.getWeights().map((w, i) => [layer.weights[i].originalName.split('/').pop(), w.dataSync()]));
  close(
    byName.get('moving_mean')!,
    stats.map((s) => (1 - momentum) * s.mean),
    1e-6,
    'moving_mean',
  );
  close(
    byName.get('moving_variance')!,
    stats.map((s) => momentum + (1 - momentum) * s.unbiased),
    1e-6,
    'moving_variance',
  );
  // The batch itself is normalised with the biased variance, as in PyTorch and tfjs.
  close(
    y.dataSync(),
    values.map((v, i) => (v - stats[i % 4].mean) / Math.sqrt(stats[i % 4].biased + 1e-5)),
    1e-5,
    'output',
  );
  tf.dispose([x, y]);
  layer.dispose();
});

test("the layer's output and gradients in training are tfjs's own BatchNormalization's, and it still reads as one", async () => {
  const tf = await tfReady;
  const ours = new (unbiasedBatchNormLayer(tf))({ momentum: 0.9, epsilon: 1e-3, name: 'ours' });
  const theirs = tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-3, name: 'theirs' });
  const x = tf.tensor3d(values, BATCH as [number, number, number]);
  const grads = (layer: typeof theirs) => {
    layer.apply(x, { training: false }); // builds the weights
    layer.setWeights([tf.tensor1d([1.5, 0.5, 2, 1]), tf.tensor1d([0.1, -0.2, 0.3, 0]), tf.zeros([4]), tf.ones([4])]);
    const weighting = tf.tensor3d(
      values.map((v) => Math.cos(v)),
      BATCH as [number, number, number],
    );
    const loss = (input: Tensor) => tf.sum(tf.mul(layer.apply(input, { training: true }) as Tensor, weighting));
    const { value, grads } = tf.variableGrads(
      () => loss(x) as ReturnType<typeof tf.scalar>,
      layer.trainableWeights.map((w) => w.read() as never),
    );
    const dx = tf.grad(loss)(x);
    return { value: value.dataSync()[0], dx: [...dx.dataSync()], weights: Object.values(grads).map((g) => [...g.dataSync()]) };
  };
  const a = grads(ours as unknown as typeof theirs);
  const b = grads(theirs);
  assert.equal(a.value, b.value);
  assert.deepEqual(a.dx, b.dx);
  assert.deepEqual(a.weights, b.weights);
  assert.equal(ours.getClassName(), 'BatchNormalization', 'fine-tuning and saved model.json files know it as BatchNormalization');
  assert.notEqual(
    tf.serialization.SerializationMap.getMap().classNameMap['BatchNormalization'][0],
    ours.constructor,
    "tfjs's own class still loads model.json files",
  );
  tf.dispose(x);
});

test('the BatchNorm block builds the layer, and its saved model loads as tfjs BatchNormalization with the same outputs', async () => {
  const tf = await tfReady;
  const g = graph(
    [
      ['x', 'io.input', { kind: 'sequence', length: 3, features: 4 }],
      ['bn', 'core.batchNorm', {}],
      ['out', 'io.output', {}],
    ],
    chain('x', 'bn', 'out'),
  );
  const { model } = compileGraph(tf, g);
  const bn = model.layers.find((l) => l.getClassName() === 'BatchNormalization')!;
  assert.ok(bn instanceof unbiasedBatchNormLayer(tf), 'core.batchNorm builds the unbiased layer');
  const x = tf.tensor3d(values, BATCH as [number, number, number]);
  model.setWeights(model.getWeights().map((w, i) => tf.add(w, tf.fill(w.shape, 0.1 * (i + 1)))));
  let saved: ReturnType<typeof tf.io.fromMemory> | undefined;
  await model.save(
    tf.io.withSaveHandler(
      async (artifacts) => ((saved = tf.io.fromMemory(artifacts)), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }),
    ),
  );
  const loaded = await tf.loadLayersModel(saved!);
  const [a, b] = [model.predict(x), loaded.predict(x)] as ReturnType<typeof tf.tensor>[];
  assert.deepEqual([...a.dataSync()], [...b.dataSync()]);
  tf.dispose([x, a, b]);
  model.dispose();
  loaded.dispose();
});
