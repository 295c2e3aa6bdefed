// The wasm backend's fast training batch norm (engine/backends/wasm-moments and
// the fast mode of wasm-batch-norm's gradient) against the cpu backend. Its sums
// are float64 rounded once where the cpu backend rounds every term to float32,
// so the values agree to float32 rounding: within 2e-6 of each tensor's largest
// magnitude (float32's epsilon is 1.2e-7; the cpu side's own rounding of up to
// thousands of terms per sum is what the margin covers). Its exact mode gives
// the cpu backend's values to the bit. Each test turns the fast mode on (it is
// off by default) and back off.
import { createRequire } from 'node:module';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectBackend } from '../engine/backends/select.js';
import { CHANNEL_MOMENTS, CHANNEL_MOMENTS_GRAD, setWasmBatchNormPrecision } from '../engine/backends/wasm-moments.js';
import type { Tensor } from '../engine/blocks/contract.js';
import { assertRelClose, seededUniform } from './helpers/numeric.js';

const ready = selectBackend({ backend: 'wasm' });

/** Runs `f` with the fast mode on. */
async function fast(f: () => Promise<void>): Promise<void> {
  setWasmBatchNormPrecision('fast');
  try {
    await f();
  } finally {
    setWasmBatchNormPrecision('exact');
  }
}
const random = seededUniform(2019);
const FLOAT32_ROUNDING = 2e-6;
/**
 * tfjs-core's exports, whose `moments` tfjs-layers' BatchNormalization calls
 * (the ESM namespace of tfjs holds a copy taken at import): read at each call,
 * after the wasm backend has put the fused one there.
 */
const core = createRequire(import.meta.url)('@tensorflow/tfjs-core') as {
  moments: (x: Tensor, axis: number[], keepDims?: boolean) => { mean: Tensor; variance: Tensor };
};

/** `f`'s results on the cpu backend and on wasm, as arrays. */
async function onBoth(f: () => Tensor[]): Promise<{ cpu: Float32Array[]; wasm: Float32Array[] }> {
  const { tf } = await ready;
  const run = async (b: string) => {
    await tf.setBackend(b);
    return tf.tidy(f).map((t) => {
      const data = t.dataSync() as Float32Array;
      t.dispose();
      return data;
    });
  };
  const cpu = await run('cpu');
  const wasm = await run('wasm');
  return { cpu, wasm };
}

const SHAPES = [
  [4, 5, 6, 16],
  [3, 7, 5],
  [9, 12],
  [64, 7, 7, 3],
];

/** Data with an offset, so the mean is not near zero and the variance not near one. */
const dataFor = (shape: number[], scale = 3, shift = 0.7) => random(shape.reduce((a, b) => a * b, 1)).map((v) => v * scale + shift);

test('moments over every axis but the last, and their gradient: wasm fast equals cpu to float32 rounding', async () => {
  const { tf } = await ready;
  await fast(async () => {
    for (const shape of SHAPES) {
      const xd = dataFor(shape);
      const c = shape[shape.length - 1];
      const [gm, gv] = [random(c).map((v) => v * 2), random(c).map((v) => v * 2 - 0.3)];
      for (const keepDims of [false, true]) {
        const { cpu, wasm } = await onBoth(() => {
          const axes = shape.slice(0, -1).map((_, i) => i);
          const x = tf.tensor(xd, shape);
          const { mean, variance } = core.moments(x, axes, keepDims);
          const loss = (a: Tensor) => {
            const m = core.moments(a, axes, keepDims);
            return tf.add(tf.sum(tf.mul(m.mean.reshape([c]), tf.tensor1d(gm))), tf.sum(tf.mul(m.variance.reshape([c]), tf.tensor1d(gv))));
          };
          return [mean, variance, tf.grad(loss as never)(x) as Tensor];
        });
        ['mean', 'variance', 'dx'].forEach((what, i) => assertRelClose(wasm[i], cpu[i], `${what} of ${shape} keepDims ${keepDims}`, FLOAT32_ROUNDING));
      }
    }
  });
});

test('a BatchNormalization layer in training: output and gradients for x, gamma and beta, wasm fast to float32 rounding, exact mode to the bit', async () => {
  const { tf } = await ready;
  for (const shape of SHAPES) {
    const xd = dataFor(shape);
    const dyd = random(xd.length).map((v) => v * 2);
    const c = shape[shape.length - 1];
    const gamma = random(c).map((v) => v + 1);
    const beta = random(c);
    const layerRun = () => {
      const layer = tf.layers.batchNormalization({ gammaInitializer: tf.initializers.constant({ value: 1 }) });
      const x = tf.tensor(xd, shape);
      layer.build(x.shape);
      layer.setWeights([tf.tensor1d(gamma), tf.tensor1d(beta), tf.zeros([c]), tf.ones([c])]);
      const dy = tf.tensor(dyd, shape);
      const [wGamma, wBeta] = layer.trainableWeights.map((w) => w.read());
      const f = (a: Tensor, g: Tensor, b: Tensor) => {
        layer.setWeights([g, b, tf.zeros([c]), tf.ones([c])]);
        return tf.sum(tf.mul(layer.apply(a, { training: true }) as Tensor, dy));
      };
      const y = layer.apply(x, { training: true }) as Tensor;
      return [y, ...tf.grads(f as never)([x, wGamma, wBeta])];
    };
    await fast(async () => {
      const { cpu, wasm } = await onBoth(layerRun);
      ['y', 'dx', 'dgamma', 'dbeta'].forEach((what, i) => assertRelClose(wasm[i], cpu[i], `fast ${what} of ${shape}`, FLOAT32_ROUNDING));
    });
    const exact = await onBoth(layerRun);
    exact.cpu.forEach((expected, i) => assert.deepEqual(Array.from(exact.wasm[i]), Array.from(expected), `exact output ${i} of ${shape}`));
  }
});

test('in fast mode the fused kernels run for a training batch norm on wasm, and moments over other axes keep tfjs chain and values', async () => {
  const { tf } = await ready;
  await fast(async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor(dataFor([4, 5, 6]), [4, 5, 6]);
    const info = await tf.profile(() => tf.grad((a: Tensor) => core.moments(a, [0, 1]).variance.sum())(x));
    assert.ok(info.kernelNames.includes(CHANNEL_MOMENTS) && info.kernelNames.includes(CHANNEL_MOMENTS_GRAD), info.kernelNames.join(' '));
    const layer = tf.layers.batchNormalization({});
    const trained = await tf.profile(() => tf.grad((a: Tensor) => (layer.apply(a, { training: true }) as Tensor).sum())(x));
    assert.ok(trained.kernelNames.includes(CHANNEL_MOMENTS) && trained.kernelNames.includes(CHANNEL_MOMENTS_GRAD), trained.kernelNames.join(' '));
    const other = await tf.profile(() => core.moments(x, [1]).variance);
    assert.ok(!other.kernelNames.includes(CHANNEL_MOMENTS), other.kernelNames.join(' '));
    const xd = dataFor([4, 5, 6]);
    const { cpu, wasm } = await onBoth(() => {
      const m = core.moments(tf.tensor(xd, [4, 5, 6]), [1]);
      return [m.mean, m.variance];
    });
    cpu.forEach((expected, i) => assert.deepEqual(Array.from(wasm[i]), Array.from(expected), `moments over axis 1, output ${i}`));
    x.dispose();
  });
});
