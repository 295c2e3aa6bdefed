// Batched products of many tiny matrices take a plain loop on wasm (local
// attention's windows); it gives the cpu backend's values for every transpose,
// batch broadcast and odd size.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectBackend } from '../engine/backends/select.js';
import type { Tensor } from '../engine/blocks/contract.js';
import { seededUniform } from './helpers/numeric.js';

const ready = selectBackend({ backend: 'wasm' });
const random = seededUniform(1919);

/** `f` on the cpu backend and on wasm, each result as a plain array with its shape. */
async function onBoth(f: () => Tensor[]) {
  const { tf } = await ready;
  const run = async (b: string) => {
    await tf.setBackend(b);
    return tf.tidy(f).map((t) => {
      const r = { shape: t.shape, data: Array.from(t.dataSync() as Float32Array) };
      t.dispose();
      return r;
    });
  };
  return { cpu: await run('cpu'), wasm: await run('wasm') };
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

test('tiny batched matMuls: every transpose, one-row and outer products, broadcast batches and odd sizes match cpu to the bit', async () => {
  const { tf } = await ready;
  // [a's shape, b's shape, transposeA, transposeB]
  const cases: [number[], number[], boolean, boolean][] = [
    [[37, 1, 8], [37, 8, 25], false, false], // a query row times its window's keys
    [[37, 1, 8], [37, 25, 8], false, true],
    [[37, 1, 25], [37, 25, 8], false, false],
    [[37, 1, 25], [37, 1, 8], true, false], // the outer products of the gradient
    [[37, 25, 1], [37, 1, 8], false, false],
    [[19, 3, 5], [19, 7, 3], true, true],
    [[2, 17, 3, 4], [2, 17, 4, 5], false, false], // two batch axes
    [[1, 3, 4], [23, 4, 5], false, false], // one side a single matrix
    [[23, 5, 3], [1, 5, 2], true, false],
  ];
  const inputs = cases.map(([as, bs]) => [random(size(as)), random(size(bs))]);
  const { cpu, wasm } = await onBoth(() => cases.map(([as, bs, ta, tb], i) => tf.matMul(tf.tensor(inputs[i][0], as), tf.tensor(inputs[i][1], bs), ta, tb)));
  assert.deepEqual(wasm, cpu);
});

test('a tiny batched matMul with a long inner axis matches cpu to float rounding (cpu sums in blocks of 64)', async () => {
  const { tf } = await ready;
  const a = random(20 * 300);
  const b = random(20 * 300 * 2);
  const { cpu, wasm } = await onBoth(() => [tf.matMul(tf.tensor3d(a, [20, 1, 300]), tf.tensor3d(b, [20, 300, 2]))]);
  assert.deepEqual(wasm[0].shape, cpu[0].shape);
  wasm[0].data.forEach((v, i) =>
    assert.ok(Math.abs(v - cpu[0].data[i]) <= 1e-5 * Math.max(1, Math.abs(cpu[0].data[i])), `element ${i}: ${v} vs ${cpu[0].data[i]}`),
  );
});

test('the gradients of a local-attention-like batched product match cpu on wasm', async () => {
  const { tf } = await ready;
  const q = random(31 * 8);
  const k = random(31 * 9 * 8);
  const { cpu, wasm } = await onBoth(() =>
    tf.grads((a: Tensor, b: Tensor) =>
      tf
        .softmax(tf.matMul(a, b, false, true))
        .matMul(b)
        .square()
        .sum(),
    )([tf.tensor3d(q, [31, 1, 8]), tf.tensor3d(k, [31, 9, 8])]),
  );
  wasm.forEach((g, n) => g.data.forEach((v, i) => assert.ok(Math.abs(v - cpu[n].data[i]) <= 1e-5, `grad ${n} element ${i}: ${v} vs ${cpu[n].data[i]}`)));
});
