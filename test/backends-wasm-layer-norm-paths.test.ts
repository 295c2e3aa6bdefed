// The wasm heap kernels' paths for a Transformer's LayerNorm (tfjs-layers tiles its mean,
// variance, scale and offset to x's size) give the cpu backend's values to the bit:
// Tile's gradient over the last or the leading axes, and batch norm with full-size parameters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectBackend } from '../engine/backends/select.js';
import type { Tensor } from '../engine/blocks/contract.js';
import { onBackends, seededUniform } from './helpers/numeric.js';

const ready = selectBackend({ backend: 'wasm' });
const random = seededUniform(1919);
test("Tile's gradient over the last axis (a LayerNorm's mean) and over leading axes (its scale), signed zeros included: cpu values to the bit", async () => {
  const { tf } = await ready;
  const cases: [number[], number[]][] = [
    [
      [4, 7, 1],
      [1, 1, 32],
    ],
    [
      [4, 7, 3],
      [1, 1, 5],
    ],
    [
      [2, 3, 1, 1],
      [1, 1, 1, 6],
    ],
    [
      [1, 1, 32],
      [4, 7, 1],
    ],
    [
      [1, 7, 5],
      [3, 1, 1],
    ],
  ];
  for (const [shape, reps] of cases) {
    const size = shape.reduce((a, b) => a * b, 1);
    // -0 in every fourth value and the whole first row: a sum of -0s is +0 in tfjs, whose gradient starts from zeros.
    const dyd = random(size * reps.reduce((a, b) => a * b, 1), 6).map((v, i) => (i % 4 === 1 || i < 32 ? -0 : v));
    const { cpu, wasm } = await onBackends(tf, ['cpu', 'wasm'], () => {
      const x = tf.zeros(shape);
      const dy = tf.tensor(
        dyd,
        shape.map((d, i) => d * reps[i]),
      );
      return tf.grads(((a: Tensor) => tf.tile(a, reps)) as never)([x], dy);
    });
    assert.deepEqual(wasm, cpu, `tile grad [${shape}] x [${reps}]`);
  }
  await tf.setBackend('wasm');
});

test('batch norm with statistics, scale and offset as large as x (a LayerNorm in tfjs-layers): cpu values to the bit', async () => {
  const { tf } = await ready;
  const shape = [4, 7, 5];
  const [x, m, s, o] = [0, 1, 2, 3].map(() => random(140, 4));
  const v = random(140, 2).map((e) => e + 1);
  const { cpu, wasm } = await onBackends(tf, ['cpu', 'wasm'], () => {
    const [xt, mt, vt, st, ot] = [x, m, v, s, o].map((d) => tf.tensor(d, shape));
    return [tf.batchNorm(xt, mt, vt, ot, st, 1e-6), tf.batchNorm(xt, mt, vt, undefined, st, 1e-3)];
  });
  assert.deepEqual(wasm, cpu);
  await tf.setBackend('wasm');
});
