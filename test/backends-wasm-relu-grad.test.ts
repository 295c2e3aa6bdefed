// Relu's gradient on wasm is one kernel, ReluGrad (engine/backends/wasm-relu-grad.ts,
// wasm SIMD with a JavaScript tail), where tfjs runs Step, Cast and Multiply: the
// cpu backend's values to the bit, zeros' signs and NaN included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectBackend } from '../engine/backends/select.js';
import { onBackends, seededUniform } from './helpers/numeric.js';

const ready = selectBackend({ backend: 'wasm' });
const random = seededUniform(5309);

/** x with the values a step treats apart (0, -0, NaN, ±Infinity, tiny ones) among random ones; dy with infinities and negatives. */
function operands(n: number): [Float32Array, Float32Array] {
  const special = [0, -0, NaN, Infinity, -Infinity, 1e-45, -1e-45, 3];
  const x = random(n, 4).map((v, i) => (i % 5 === 0 ? special[(i / 5) % special.length] : v));
  const dy = random(n, 2).map((v, i) => (i % 11 === 3 ? (i % 2 ? Infinity : -Infinity) : v));
  return [x, dy];
}

test("Relu's gradient on wasm equals the cpu backend's to the bit, for sizes with and without a tail of 1 to 3", async () => {
  const { tf } = await ready;
  for (const shape of [[16, 28, 28, 16], [3, 5, 7], [1], [2, 3], [4, 4], [1, 9, 9, 5], [130]]) {
    const n = shape.reduce((a, b) => a * b, 1);
    const [xs, dys] = operands(n);
    const { wasm, cpu } = await onBackends(tf, ['wasm', 'cpu'], () => [tf.grad((x) => tf.relu(x))(tf.tensor(xs, shape), tf.tensor(dys, shape))]);
    assert.deepEqual(wasm[0].shape, shape);
    assert.deepEqual(wasm[0].data, cpu[0].data, `${shape}`);
  }
});

test("Relu's gradient on wasm is the one ReluGrad kernel, without Step or Multiply", async () => {
  const { tf } = await ready;
  await tf.setBackend('wasm');
  const [x, dy] = [tf.tensor(random(40, 2), [5, 8]), tf.tensor(random(40, 2), [5, 8])];
  const info = await tf.profile(() => tf.grad((t) => tf.relu(t))(x, dy));
  tf.dispose([x, dy, info.result as never]);
  assert.ok(info.kernelNames.includes('ReluGrad'), `${info.kernelNames}`);
  for (const k of ['Step', 'Multiply']) assert.ok(!info.kernelNames.includes(k), `${k} does not run: ${info.kernelNames}`);
});
