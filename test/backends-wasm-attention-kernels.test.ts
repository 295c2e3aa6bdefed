// Kernels on the wasm heap for attention's training step give the cpu backend's values to
// the bit: the batched matrix products (scores, weights·values and their gradients) and
// Tile's gradient where a LayerNorm's tiled mean, variance, scale and offset send it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectBackend } from '../engine/backends/select.js';
import { takesBatchMatMul } from '../engine/backends/wasm-batch-matmul.js';
import type { Tensor } from '../engine/blocks/contract.js';
import { onBackends, seededUniform } from './helpers/numeric.js';

const ready = selectBackend({ backend: 'wasm' });
const random = seededUniform(1919);
const info = (shape: number[]) => ({ dataId: {}, shape, dtype: 'float32' });

/** [a's shape, b's shape, transposeA, transposeB]: attention's sizes, rank 4, shared matrices, a shared axis over the cpu's block of 48, widths not a multiple of 4. */
const CASES: [number[], number[], boolean, boolean][] = [
  [[64, 17, 16], [64, 16, 17], false, false],
  [[64, 17, 16], [64, 17, 16], false, true],
  [[64, 17, 17], [64, 17, 16], true, false],
  [[8, 5, 17], [8, 3, 5], true, true],
  [[2, 3, 5, 7], [2, 3, 7, 6], false, false],
  [[1, 5, 7], [6, 7, 4], false, false],
  [[6, 5, 7], [1, 9, 7], false, true],
  [[3, 5, 100], [3, 100, 9], false, false],
  [[3, 130, 5], [3, 11, 130], true, true],
];

test('batched matMul on wasm, every transpose, rank 4, shared matrices, long shared axis: cpu values to the bit', async () => {
  const { tf } = await ready;
  for (const [sa, sb] of CASES) assert.ok(takesBatchMatMul(info(sa), info(sb)), `the heap loop takes [${sa}]·[${sb}]`);
  const data = CASES.map(([sa, sb]) => [
    random(
      sa.reduce((p, d) => p * d, 1),
      4,
    ),
    random(
      sb.reduce((p, d) => p * d, 1),
      4,
    ),
  ]);
  const { cpu, wasm } = await onBackends(tf, ['cpu', 'wasm'], () =>
    CASES.map(([sa, sb, ta, tb], i) => tf.matMul(tf.tensor(data[i][0], sa), tf.tensor(data[i][1], sb), ta, tb) as Tensor),
  );
  cpu.forEach((c, i) => assert.deepEqual(wasm[i], c, `case ${i}: [${CASES[i][0]}]·[${CASES[i][1]}]`));
  await tf.setBackend('wasm');
});

test("batched matMul's gradients on wasm (products with transposed operands): cpu values to the bit", async () => {
  const { tf } = await ready;
  const q = random(6 * 9 * 8);
  const k = random(6 * 9 * 8);
  const v = random(6 * 9 * 8);
  const { cpu, wasm } = await onBackends(tf, ['cpu', 'wasm'], () => {
    const f = (qt: Tensor, kt: Tensor, vt: Tensor) => tf.sum(tf.mul(tf.matMul(tf.matMul(qt, kt, false, true), vt), tf.range(0, 8)));
    return tf.grads(f)([tf.tensor3d(q, [6, 9, 8]), tf.tensor3d(k, [6, 9, 8]), tf.tensor3d(v, [6, 9, 8])]);
  });
  cpu.forEach((c, i) => assert.deepEqual(wasm[i], c, `gradient ${['q', 'k', 'v'][i]}`));
  await tf.setBackend('wasm');
});

test('the heap loop leaves products without a batch, and non-float ones, to wasm', () => {
  assert.equal(takesBatchMatMul(info([1, 17, 16]), info([1, 16, 8])), false);
  assert.equal(takesBatchMatMul(info([17, 16]), info([4, 16, 8])), false);
  assert.equal(takesBatchMatMul({ ...info([4, 2, 2]), dtype: 'int32' }, info([4, 2, 2])), false);
  assert.equal(takesBatchMatMul(info([4, 3, 2, 2]), info([3, 4, 2, 2])), false);
});

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
