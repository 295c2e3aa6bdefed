// The lean tape (engine/backends/lean-tape.ts) saves a first-order gradient's tensors without tfjs's Identity
// clones: the gradients stay the same to the bit, nothing leaks, and nested gradients still see through saved tensors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectBackend } from '../engine/backends/select.js';
import type { Tensor, TF } from '../engine/blocks/contract.js';
import { seededUniform } from './helpers/numeric.js';

const ready = selectBackend({ backend: 'wasm' });
const random = seededUniform(1919);
const [xData, filterData, denseData] = [random(4 * 8 * 8 * 2), random(3 * 3 * 2 * 5, 0.5), random(4 * 4 * 5 * 3, 0.3)];

type Engine = { saveTensorsForBackwardMode: unknown };

/** Runs `f` with tfjs's own saving (the engine's prototype method), then puts the lean one back. */
function withStockSaving<T>(tf: TF, f: () => T): T {
  const engine = tf.engine() as unknown as Engine;
  const lean = engine.saveTensorsForBackwardMode;
  assert.ok(Object.hasOwn(engine, 'saveTensorsForBackwardMode'), 'the wasm backend registers the lean tape');
  delete (engine as Partial<Engine>).saveTensorsForBackwardMode;
  try {
    return f();
  } finally {
    engine.saveTensorsForBackwardMode = lean;
  }
}

/** A conv, max-pool, dense and softmax cross-entropy step's gradients, the Identity kernels it ran, and the tensors it left. */
async function convStep(tf: TF) {
  const x = tf.tensor4d(xData, [4, 8, 8, 2]);
  const labels = tf.oneHot(tf.tensor1d([0, 2, 1, 2], 'int32'), 3);
  const filter = tf.variable(tf.tensor4d(filterData, [3, 3, 2, 5]));
  const dense = tf.variable(tf.tensor2d(denseData, [80, 3]));
  const before = tf.memory().numTensors;
  const loss = () => {
    const h = tf.maxPool(tf.relu(tf.conv2d(x, filter as Tensor as never, 1, 'same')), 2, 2, 'valid');
    return tf.losses.softmaxCrossEntropy(labels, tf.matMul(h.reshape([4, 80]), dense)) as never;
  };
  const profile = await tf.profile(() => {
    const { value, grads } = tf.variableGrads(loss);
    return [value, ...Object.values(grads)] as never;
  });
  const identities = profile.kernels.filter((k) => k.name === 'Identity').length;
  tf.dispose(profile.result as never);
  const { value, grads } = tf.variableGrads(loss);
  const read = [value, grads[filter.name], grads[dense.name]].map((t) => Array.from(t.dataSync()));
  tf.dispose([value, ...Object.values(grads)]);
  const left = tf.memory().numTensors - before;
  tf.dispose([x, labels, filter, dense]);
  return { read, identities, left };
}

for (const backend of ['wasm', 'cpu']) {
  test(`on ${backend}, a training step's gradients are tfjs's own to the bit, without the Identity clones, and nothing is left behind`, async () => {
    const { tf } = await ready;
    await tf.setBackend(backend);
    try {
      const lean = await convStep(tf);
      const stock = await withStockSaving(tf, () => convStep(tf));
      assert.deepEqual(lean.read, stock.read);
      assert.ok(stock.identities >= 8, `tfjs clones each saved tensor (${stock.identities} Identity kernels)`);
      assert.ok(lean.identities <= stock.identities - 8, `lean: ${lean.identities} Identity kernels, stock ${stock.identities}`);
      assert.equal(lean.left, 0);
      assert.equal(stock.left, 0);
    } finally {
      await tf.setBackend('wasm');
    }
  });
}

test('a gradient of a gradient still follows the saved tensors back (tfjs clones them at depth 2)', async () => {
  const { tf } = await ready;
  const x = tf.tensor1d([0.5, -2, 3]);
  // d/dx of d/dx (x^3) = 6x: the inner gradient's Multiply uses saved inputs that the outer one must differentiate.
  const second = tf.grad((v: Tensor) =>
    tf
      .grad((u: Tensor) => u.mul(u).mul(u).sum())(v)
      .sum(),
  )(x);
  assert.deepEqual(Array.from(second.dataSync()), [3, -12, 18]);
  tf.dispose([x, second]);
});
