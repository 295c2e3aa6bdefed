// Batch norm's wasm SIMD loops (engine/backends/wasm-batch-norm-simd.ts) give
// exactly the values of the JavaScript loops they stand in for: the batch
// statistics, the forward (itself the cpu backend's, to the bit) and the
// training gradient, over channel counts with and without a tail of 1 to 3
// channels left to JavaScript, one row to a ResNet's full batch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectBackend } from '../engine/backends/select.js';
import { useBatchNormSimd } from '../engine/backends/wasm-batch-norm.js';
import { batchNormSimd } from '../engine/backends/wasm-batch-norm-simd.js';
import type { Tensor, TF } from '../engine/blocks/contract.js';
import { onBackends, seededUniform, type ReadBack } from './helpers/numeric.js';

const ready = selectBackend({ backend: 'wasm' });
const random = seededUniform(8117);

const SHAPES = [
  [64, 28, 28, 16],
  [64, 7, 7, 64],
  [2, 3, 3, 5],
  [1, 1, 1, 4],
  [3, 7, 7, 6],
  [5, 33],
  [1, 9, 9, 32],
  [4, 3, 3, 3],
  [2, 5, 5, 12],
  [9, 4, 2, 7],
];

/** The three kernels on x, dy and per-channel parameters: mean and variance, y, then dx, dscale, doffset. */
function kernels(tf: TF, shape: number[], xs: Float32Array, dys: Float32Array, [scale, offset]: Float32Array[]): Tensor[] {
  const c = shape[shape.length - 1];
  const x = tf.tensor(xs, shape);
  const [mean, variance] = tf.engine().runKernel('BatchNormStats', { x }, {}) as Tensor[];
  const [s, o] = [tf.tensor1d(scale), tf.tensor1d(offset)];
  const y = tf.batchNorm(x, mean, variance, o, s, 1e-5);
  const grads = tf
    .engine()
    .runKernel('BatchNormTrainingGrad', { dy: tf.tensor(dys, shape), x, mean, variance, scale: s }, { varianceEpsilon: 1e-5 }) as Tensor[];
  assert.equal(mean.size, c);
  return [mean, variance, y, ...grads];
}

/** Runs the kernels on wasm with the SIMD loops and without. */
async function simdAndJs(tf: TF, f: () => Tensor[]): Promise<{ simd: ReadBack[]; js: ReadBack[] }> {
  try {
    const { wasm: simd } = await onBackends(tf, ['wasm'], f);
    useBatchNormSimd(false);
    const { wasm: js } = await onBackends(tf, ['wasm'], f);
    return { simd, js };
  } finally {
    useBatchNormSimd(true);
  }
}

test("batch norm's SIMD statistics, forward and training gradient equal the JavaScript loops to the bit, and the forward the cpu backend's", async () => {
  const { tf } = await ready;
  await tf.setBackend('wasm');
  assert.ok(batchNormSimd(tf.backend()), 'the SIMD kernels compile on this heap');
  for (const shape of SHAPES) {
    const size = shape.reduce((a, b) => a * b, 1);
    const c = shape[shape.length - 1];
    // An offset mean and a spread that differs per channel, as after a convolution; a few exact zeros.
    const xs = random(size, 4).map((v, i) => (i % 97 === 0 ? 0 : v * (1 + (i % c) / 3) + 0.7));
    const dys = random(size, 1e-2);
    const params = [random(c, 1).map((v) => v + 1), random(c, 0.5)];
    const run = () => kernels(tf, shape, xs, dys, params);
    const { simd, js } = await simdAndJs(tf, run);
    ['mean', 'variance', 'y', 'dx', 'dscale', 'doffset'].forEach((name, i) => {
      assert.deepEqual(simd[i].shape, js[i].shape, `${shape} ${name} shape`);
      assert.deepEqual(simd[i].data, js[i].data, `${shape} ${name}`);
    });
    // The forward against the cpu backend's, with the statistics wasm computed.
    const [mean, variance] = [simd[0].data, simd[1].data].map((d) => Float32Array.from(d));
    const { wasm, cpu } = await onBackends(tf, ['wasm', 'cpu'], () => [
      tf.batchNorm(tf.tensor(xs, shape), tf.tensor1d(mean), tf.tensor1d(variance), tf.tensor1d(params[1]), tf.tensor1d(params[0]), 1e-5),
    ]);
    assert.deepEqual(wasm[0].data, cpu[0].data, `${shape} forward against cpu`);
  }
});
