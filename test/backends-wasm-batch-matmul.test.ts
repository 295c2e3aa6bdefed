// The heap loop that takes wasm's batched matrix products (attention's scores, weights·values
// and their gradients) gives the cpu backend's values to the bit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectBackend } from '../engine/backends/select.js';
import { takesBatchMatMul, takesSmallMatMul } from '../engine/backends/wasm-batch-matmul.js';
import type { Tensor } from '../engine/blocks/contract.js';
import { onBackends, seededUniform } from './helpers/numeric.js';

const ready = selectBackend({ backend: 'wasm' });
const random = seededUniform(1919);
const info = (shape: number[]) => ({ dataId: {}, shape, dtype: 'float32' });

type Case = [number[], number[], boolean, boolean];

/** [a's shape, b's shape, transposeA, transposeB]: attention's sizes, rank 4, shared matrices, a shared axis over the cpu's block of 48, widths not a multiple of 4, odd and even row counts. */
const CASES: Case[] = [
  [[64, 17, 16], [64, 16, 17], false, false],
  [[64, 17, 16], [64, 17, 16], false, true],
  [[64, 17, 17], [64, 17, 16], true, false],
  [[8, 5, 17], [8, 3, 5], true, true],
  [[2, 3, 5, 7], [2, 3, 7, 6], false, false],
  [[1, 5, 7], [6, 7, 4], false, false],
  [[6, 5, 7], [1, 9, 7], false, true],
  [[3, 5, 100], [3, 100, 9], false, false],
  [[3, 130, 5], [3, 11, 130], true, true],
  // an even row count (every row in a pair) with the shared axis over 48 and a width 4k + 3; a memory network's sizes
  [[4, 12, 50], [4, 50, 7], false, false],
  [[2, 1, 12, 12], [2, 1, 12, 32], true, false],
  [[2, 1, 12, 32], [2, 1, 12, 32], false, true],
];

/** Each case's product on cpu and on wasm, from the same random operands, equal to the bit. */
async function assertProductsMatchCpu(cases: Case[]): Promise<void> {
  const { tf } = await ready;
  const sizeOf = (s: number[]) => s.reduce((p, d) => p * d, 1);
  const data = cases.map(([sa, sb]) => [random(sizeOf(sa), 4), random(sizeOf(sb), 4)]);
  const { cpu, wasm } = await onBackends(tf, ['cpu', 'wasm'], () =>
    cases.map(([sa, sb, ta, tb], i) => tf.matMul(tf.tensor(data[i][0], sa), tf.tensor(data[i][1], sb), ta, tb) as Tensor),
  );
  cpu.forEach((c, i) => assert.deepEqual(wasm[i], c, `case ${i}: [${cases[i][0]}]·[${cases[i][1]}]`));
  await tf.setBackend('wasm');
}

test('batched matMul on wasm, every transpose, rank 4, shared matrices, long shared axis: cpu values to the bit', async () => {
  for (const [sa, sb] of CASES) assert.ok(takesBatchMatMul(info(sa), info(sb)), `the heap loop takes [${sa}]·[${sb}]`);
  await assertProductsMatchCpu(CASES);
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

/** Single products the heap loop takes for their size: a Squeeze-and-Excitation MLP's and CBAM's, every transpose, widths not a multiple of 4. */
const SMALL: Case[] = [
  [[64, 32], [32, 8], false, false],
  [[64, 32], [64, 8], true, false],
  [[64, 8], [32, 8], false, true],
  [[7, 5], [3, 7], true, true],
  [[1, 3, 100], [1, 100, 9], false, false],
];

test("single small products on wasm (an SE block's MLP and its gradients): the heap loop, cpu values to the bit", async () => {
  for (const [sa, sb, ta, tb] of SMALL) assert.ok(takesSmallMatMul(info(sa), info(sb), ta, tb), `the heap loop takes [${sa}]·[${sb}]`);
  await assertProductsMatchCpu(SMALL);
});

test('products above the small size, or with a batch, are not taken as small ones', () => {
  // A classification head's gradient: 1568 × 64 × 10 multiply-adds, where wasm's own is faster.
  assert.equal(takesSmallMatMul(info([64, 1568]), info([64, 10]), true, false), false);
  assert.equal(takesSmallMatMul(info([64, 32]), info([32, 32]), false, false), true);
  assert.equal(takesSmallMatMul(info([64, 32]), info([32, 33]), false, false), false);
  assert.equal(takesSmallMatMul(info([2, 4, 4]), info([2, 4, 4]), false, false), false);
  assert.equal(takesSmallMatMul({ ...info([4, 4]), dtype: 'int32' }, info([4, 4]), false, false), false);
});

test("a plain product's B shared under a second shape (a Reshape, a size-1 transpose) is multiplied as that shape, not with wasm's operator cached for the first", async () => {
  const { tf } = await ready;
  const sizeOf = (s: number[]) => s.reduce((p, d) => p * d, 1);
  const K = 256;
  const a1 = random(512 * K);
  const a2 = random(512);
  const w = random(K);
  const bias = random(K);
  const products = (fresh: boolean) =>
    tf.tidy(() => {
      const b = tf.tensor2d(w, [K, 1]);
      // Above the heap loop's small size, so wasm's XNNPACK operator takes them, cached by b's data id.
      tf.matMul(tf.tensor2d(a1, [512, K]), b).dataSync();
      tf.fused.matMul({ a: tf.tensor2d(a1, [512, K]), b, bias: tf.tensor1d([0.5]) }).dataSync();
      const under = (t: Tensor) => (fresh ? tf.add(t, 0) : t);
      const a = tf.tensor2d(a2, [512, 1]);
      return [
        tf.matMul(a, under(tf.reshape(b, [1, K]))),
        tf.matMul(a, under(tf.transpose(b))),
        tf.fused.matMul({ a, b: under(tf.reshape(b, [1, K])), bias: tf.tensor1d(bias) }),
      ].map((t) => Array.from(t.dataSync()));
    });
  await tf.setBackend('wasm');
  const shared = products(false);
  const copied = products(true);
  const { cpu } = await onBackends(tf, ['cpu'], () => [tf.matMul(tf.tensor2d(a2, [512, 1]), tf.tensor2d(w, [1, K]))]);
  await tf.setBackend('wasm');
  shared.forEach((s, i) => assert.deepEqual(s, copied[i], `product ${i}: shared data gives the fresh copy's values`));
  assert.equal(cpu[0].data.length, sizeOf([512, K]));
  cpu[0].data.forEach((c, i) => assert.ok(Math.abs(shared[0][i] - c) <= 1e-6 * Math.max(1, Math.abs(c)), `element ${i}: ${shared[0][i]} against cpu ${c}`));
});
