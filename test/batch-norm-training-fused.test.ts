// Training-mode BatchNorm on wasm runs its batch statistics as one kernel and its
// gradient in closed form as another (engine/backends/wasm-batch-norm.ts), where
// the cpu backend differentiates through tf.moments and the batch norm. The two
// agree to float rounding (the sums are taken in another order and precision):
// outputs, the input's, gamma's and beta's gradients, and the moving statistics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectBackend } from '../engine/backends/select.js';
import { unbiasedBatchNormLayer } from '../engine/blocks/batch-norm-layer.js';
import type { Tensor, TF } from '../engine/blocks/contract.js';
import { onBackends, relativeGap, seededUniform } from './helpers/numeric.js';

const ready = selectBackend({ backend: 'wasm' });
const random = seededUniform(1931);

/** One training call of a fresh layer: its output, the gradients of Σ y · w for x, gamma and beta, then the moving mean and variance. */
function trainingCall(tf: TF, shape: number[], xs: Float32Array, ws: Float32Array, params: Float32Array[]): Tensor[] {
  const layer = new (unbiasedBatchNormLayer(tf))({ name: 'bn', momentum: 0.9, epsilon: 1e-5 });
  const x = tf.tensor(xs, shape);
  layer.apply(x); // builds the weights: gamma, beta, moving mean, moving variance
  layer.setWeights(params.map((v, i) => tf.tensor(v, layer.weights[i].shape as number[])));
  const w = tf.tensor(ws, shape);
  const gamma = layer.weights.find((v) => v.originalName.endsWith('/gamma'))!.read();
  const beta = layer.weights.find((v) => v.originalName.endsWith('/beta'))!.read();
  let y: Tensor | null = null;
  const loss = (input: Tensor) => {
    const out = layer.apply(input, { training: true }) as Tensor;
    y = tf.keep(out.clone());
    return tf.sum(tf.mul(out, w)) as ReturnType<TF['scalar']>;
  };
  const { grads } = tf.variableGrads(() => loss(x), [gamma, beta] as never);
  const [movingMean, movingVariance] = ['moving_mean', 'moving_variance'].map((n) =>
    layer.weights
      .find((v) => v.originalName.endsWith(`/${n}`))!
      .read()
      .clone(),
  );
  const dx = tf.grad(loss)(x);
  const nameOf = (t: Tensor) => (t as unknown as { name: string }).name;
  const out = [y!, dx, grads[nameOf(gamma)], grads[nameOf(beta)], movingMean, movingVariance];
  layer.dispose();
  return out;
}

const CASES = [
  { what: 'a ResNet feature map [8, 6, 5, 16]', shape: [8, 6, 5, 16] },
  { what: 'an odd channel count [3, 7, 7, 5]', shape: [3, 7, 7, 5] },
  { what: 'a dense batch [32, 12]', shape: [32, 12] },
];

for (const { what, shape } of CASES) {
  test(`training BatchNorm, ${what}: wasm's fused kernels give the cpu backend's output, gradients and moving statistics to 1e-5`, async () => {
    const { tf } = await ready;
    const size = shape.reduce((a, b) => a * b, 1);
    const c = shape[shape.length - 1];
    // An offset mean and a spread that differs per channel, as after a convolution.
    const xs = random(size, 3).map((v, i) => v * (1 + (i % c) / 4) + 0.5);
    const ws = random(size, 1);
    const params = [random(c, 1).map((v) => v + 1.5), random(c, 1), random(c, 0.2), random(c, 0.2).map((v) => v + 1)];
    const out = await onBackends(tf, ['wasm', 'cpu'], () => trainingCall(tf, shape, xs, ws, params));
    ['output', 'dx', 'dgamma', 'dbeta', 'moving mean', 'moving variance'].forEach((name, i) => {
      assert.deepEqual(out.wasm[i].shape, out.cpu[i].shape, `${name} shape`);
      const gap = relativeGap(out.wasm[i].data, out.cpu[i].data);
      assert.ok(gap <= 1e-5, `${name}: relative gap ${gap.toExponential(2)}`);
    });
  });
}

test("a training step's BatchNorm on wasm runs the two fused kernels, and none of tf.moments' or the stock gradient's", async () => {
  const { tf } = await ready;
  await tf.setBackend('wasm');
  const layer = new (unbiasedBatchNormLayer(tf))({ name: 'bn' });
  const x = tf.tensor4d(random(4 * 5 * 5 * 8, 2), [4, 5, 5, 8]);
  layer.apply(x);
  const info = await tf.profile(() => {
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(layer.apply(x, { training: true }) as Tensor)) as never);
    tf.dispose([value, ...Object.values(grads)]);
  });
  const kernels = new Set(info.kernelNames);
  tf.dispose(x);
  layer.dispose();
  for (const k of ['BatchNormStats', 'BatchNormTrainingGrad', 'FusedBatchNorm']) assert.ok(kernels.has(k), `${k} runs: ${[...kernels]}`);
  for (const k of ['Mean', 'BatchNormGrads', 'Tile', 'RealDiv']) assert.ok(!kernels.has(k), `${k} does not run: ${[...kernels]}`);
});
