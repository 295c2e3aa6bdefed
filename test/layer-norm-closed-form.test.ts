// The LayerNorm of the LayerNorm block and the Transformer layers (engine/blocks/layer-norm-layer.ts)
// computes its gradient in closed form instead of through tfjs-layers' tiled batch norm. Its output
// and its gradients (input, gamma, beta) are tfjs's LayerNormalization's within 1e-5 of their peak,
// on wasm and cpu, and a model built with it still saves and loads as tfjs's LayerNormalization.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectBackend } from '../engine/backends/select.js';
import { layerNormLayer } from '../engine/blocks/layer-norm-layer.js';
import type { Tensor, TF } from '../engine/blocks/contract.js';
import { compileGraph } from '../engine/compile/compile.js';
import { chain, graph } from './helpers/graphs.js';
import { onBackends, relativeGap, seededUniform } from './helpers/numeric.js';
import { assertSameOutputsThenDispose, reloaded } from './helpers/reload.js';

const ready = selectBackend({ backend: 'wasm' });
const random = seededUniform(2026);

/** The layer's output and its gradients (x, gamma, beta) for the loss Σ y · w. */
function outputAndGradients(
  layer: ReturnType<TF['layers']['layerNormalization']>,
  tf: TF,
  x: Tensor,
  w: Tensor,
  gamma: Float32Array,
  beta: Float32Array,
): Tensor[] {
  layer.apply(x); // builds the weights
  layer.setWeights([tf.tensor1d(gamma), tf.tensor1d(beta)]);
  const loss = (input: Tensor) => tf.sum(tf.mul(layer.apply(input) as Tensor, w)) as ReturnType<TF['scalar']>;
  const { grads } = tf.variableGrads(() => loss(x), layer.trainableWeights.map((v) => v.read()) as never);
  const out = [layer.apply(x) as Tensor, tf.grad(loss)(x), ...layer.trainableWeights.map((v) => grads[(v.read() as unknown as { name: string }).name])];
  layer.dispose();
  return out;
}

for (const [shape, epsilon] of [
  [[6, 10], 1e-5],
  [[3, 7, 32], 1e-6],
  [[2, 3, 3, 4], 1e-3],
] as [number[], number][]) {
  test(`LayerNorm over [${shape}] (ε ${epsilon}): output and gradients of x, gamma and beta are tfjs's within 1e-5, on wasm and cpu`, async () => {
    const { tf } = await ready;
    const size = shape.reduce((a, b) => a * b, 1);
    // An offset and a spread per position, so that the mean and the variance matter.
    const xs = Array.from(random(size, 4), (v, i) => v * (1 + (i % 3)) + 2);
    const ws = random(size, 2);
    const features = shape[shape.length - 1];
    const [gamma, beta] = [random(features, 2).map((v) => v + 1), random(features)];
    const run = (fused: boolean) =>
      onBackends(tf, ['wasm', 'cpu'], () => {
        const layer = fused ? new (layerNormLayer(tf))({ axis: -1, epsilon, name: 'ln' }) : tf.layers.layerNormalization({ axis: -1, epsilon, name: 'ln' });
        return outputAndGradients(layer, tf, tf.tensor(xs, shape), tf.tensor(ws, shape), gamma, beta);
      });
    const theirs = await run(false);
    const ours = await run(true);
    for (const backend of ['wasm', 'cpu'] as const) {
      ['output', 'dx', 'dgamma', 'dbeta'].forEach((what, i) => {
        assert.deepEqual(ours[backend][i].shape, theirs[backend][i].shape, `${backend} ${what} shape`);
        const gap = relativeGap(ours[backend][i].data, theirs[backend][i].data);
        assert.ok(gap <= 1e-5, `${backend} ${what}: relative gap ${gap.toExponential(2)}`);
      });
    }
  });
}

test('the LayerNorm block and the Transformer layers build it; their weights keep their names and shapes, and a saved model loads as tfjs LayerNormalization with the same outputs', async () => {
  const { tf } = await ready;
  const g = graph(
    [
      ['x', 'io.input', { kind: 'sequence', length: 5, features: 8 }],
      ['ln', 'core.layerNorm', {}],
      ['enc', 'attention.transformerEncoder', { heads: 2, ffDim: 16, dropout: 0, norm: 'pre' }],
      ['out', 'io.output', {}],
    ],
    chain('x', 'ln', 'enc', 'out'),
  );
  const { model } = compileGraph(tf, g);
  const norms = model.layers.filter((l) => l.getClassName() === 'LayerNormalization');
  assert.deepEqual(
    norms.map((l) => l.name),
    ['ln', 'enc_norm1', 'enc_norm2'],
  );
  for (const l of norms) {
    assert.ok(l instanceof layerNormLayer(tf), `${l.name} is the closed-form layer`);
    assert.deepEqual(
      l.weights.map((w) => [w.originalName, w.shape]),
      [
        [`${l.name}/gamma`, [8]],
        [`${l.name}/beta`, [8]],
      ],
    );
  }
  model.setWeights(model.getWeights().map((w, i) => tf.add(w, tf.fill(w.shape, 0.05 * (i + 1)))));
  const loaded = await reloaded(tf, model);
  const stock = loaded.layers.filter((l) => l.getClassName() === 'LayerNormalization');
  assert.equal(stock.length, 3);
  assert.ok(
    stock.every((l) => !(l instanceof layerNormLayer(tf))),
    "the saved model loads as tfjs's own LayerNormalization",
  );
  const x = tf.tensor3d(Array.from(random(2 * 5 * 8, 4)), [2, 5, 8]);
  assertSameOutputsThenDispose(tf, model, loaded, x);
});
