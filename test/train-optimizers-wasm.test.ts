// On the wasm backend the optimizers update on the heap (moments in place); they
// must give the cpu backend's tensor arithmetic bit for bit, leave any tensor
// that shares their data alone, resume from state(), and never leave a kernel
// that caches its weights (wasm's convolutions, matrix products) on stale ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectBackend } from '../engine/backends/select.js';
import { Optimizer } from '../engine/train/optimizers.js';
import { trainConfigSchema, type TrainConfigInput } from '../engine/schemas/train-config.js';
import type { Tensor } from '../engine/blocks/contract.js';
import { seededUniform } from './helpers/numeric.js';

const ready = selectBackend({ backend: 'wasm' });

const random = seededUniform(777);

const SHAPES = [[3, 3, 2, 4], [10], [1]];
const STEPS = 6;
// Weights, then gradients per step, with magnitudes from tiny to large (and an exact zero).
const weights = SHAPES.map((s) =>
  random(
    s.reduce((a, b) => a * b),
    2,
  ),
);
const grads = Array.from({ length: STEPS }, (_, k) =>
  SHAPES.map((s) => {
    const g = random(
      s.reduce((a, b) => a * b),
      10 ** (k - 3),
    );
    g[0] = 0;
    return g;
  }),
);
const lrAt = (k: number) => 0.01 / (k + 1);

const CONFIGS: TrainConfigInput[] = [
  { optimizer: 'sgd', momentum: 0 },
  { optimizer: 'sgd', momentum: 0.9 },
  { optimizer: 'sgd', momentum: 0.5, weightDecay: 0.1 },
  { optimizer: 'adam' },
  { optimizer: 'adam', weightDecay: 0.05, beta1: 0.8, beta2: 0.95, epsilon: 1e-6 },
  { optimizer: 'adamw' },
  { optimizer: 'adamw', weightDecay: 0.3 },
];

/**
 * Runs the optimizer over `steps` on the given backend; returns the weights and the
 * optimizer state. `share` keeps a clone of every weight and moment during each
 * step, which sends the wasm optimizer down its tensor path (where there are
 * moments); the clones must keep their values.
 */
async function run(
  backend: string,
  input: TrainConfigInput,
  opts: { share?: boolean; from?: { t: number; state: Float32Array[]; weights: Float32Array[] }; steps?: [number, number] } = {},
) {
  const { tf } = await ready;
  await tf.setBackend(backend);
  const config = trainConfigSchema.parse(input);
  const start = opts.from?.weights ?? weights;
  const vars = SHAPES.map((s, i) => tf.tidy(() => tf.variable(tf.tensor(start[i], s))));
  const opt = new Optimizer(tf, config, vars);
  if (opts.from) {
    const saved = opts.from.state.map((d, i) => tf.tensor(d, opt.state()[i].shape));
    opt.restore(opts.from.t, saved);
    tf.dispose(saved);
  }
  const [from, to] = opts.steps ?? [0, STEPS];
  for (let k = from; k < to; k++) {
    const held = opts.share ? [...vars, ...opt.state()].map((v) => tf.clone(v)) : [];
    const before = held.map((h) => h.dataSync().slice());
    const ids = opt.state().map((s) => s.dataId);
    tf.tidy(() =>
      opt.apply(
        SHAPES.map((s, i) => tf.tensor(grads[k][i], s) as Tensor),
        lrAt(k),
      ),
    );
    if (backend === 'wasm' && ids.length)
      assert.equal(
        opt.state().every((s, i) => s.dataId === ids[i]),
        !opts.share,
        opts.share ? 'shared: the tensor path' : 'the heap path, moments in place',
      );
    held.forEach((h, i) => assert.deepEqual(h.dataSync(), before[i], 'a tensor sharing a weight or moment keeps its value'));
    tf.dispose(held);
  }
  const result = { t: opt.t, weights: vars.map((v) => v.dataSync() as Float32Array), state: opt.state().map((s) => s.dataSync() as Float32Array) };
  opt.dispose();
  tf.dispose(vars);
  return result;
}

for (const config of CONFIGS) {
  test(`${JSON.stringify(config)}: the wasm heap update gives the cpu backend's values bit for bit`, async () => {
    const cpu = await run('cpu', config);
    const heap = await run('wasm', config);
    const tensors = await run('wasm', config, { share: true });
    assert.notDeepEqual(heap.weights, weights, 'the weights moved');
    assert.deepEqual(heap.weights, cpu.weights);
    assert.deepEqual(heap.state, cpu.state);
    assert.deepEqual(tensors.weights, heap.weights, "wasm's tensor path agrees");
    assert.deepEqual(tensors.state, heap.state);
  });
}

test('on wasm, an optimizer restored from state() continues as the uninterrupted one', async () => {
  for (const config of [CONFIGS[1], CONFIGS[6]]) {
    const whole = await run('wasm', config);
    const half = await run('wasm', config, { steps: [0, 2] });
    const resumed = await run('wasm', config, { from: half, steps: [2, STEPS] });
    assert.equal(resumed.t, STEPS);
    assert.deepEqual(resumed.weights, whole.weights);
    assert.deepEqual(resumed.state, whole.state);
  }
});

test('the heap update allocates no lasting tensors and keeps the moments in place', async () => {
  const { tf } = await ready;
  await tf.setBackend('wasm');
  const vars = SHAPES.map((s, i) => tf.tidy(() => tf.variable(tf.tensor(weights[i], s))));
  const opt = new Optimizer(tf, trainConfigSchema.parse({ optimizer: 'adam' }), vars);
  const g = SHAPES.map((s, i) => tf.tensor(grads[0][i], s));
  const before = tf.memory().numTensors;
  const ids = opt.state().map((s) => s.dataId);
  opt.apply(g, 0.1);
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual(
    opt.state().map((s) => s.dataId),
    ids,
  );
  tf.dispose([...g, ...vars]);
  opt.dispose();
});

test('after a heap update, a convolution and a matrix product run on the new weights (wasm caches packed filters by data id)', async () => {
  const { tf } = await ready;
  await tf.setBackend('wasm');
  const x = tf.tensor4d(random(2 * 5 * 5 * 3, 1), [2, 5, 5, 3]);
  const filter = tf.tidy(() => tf.variable(tf.tensor4d(random(3 * 3 * 3 * 4, 1), [3, 3, 3, 4])));
  const dense = tf.tidy(() => tf.variable(tf.tensor2d(random(75 * 6, 1), [75, 6])));
  const forward = () => tf.tidy(() => [tf.conv2d(x, filter, 1, 'same'), tf.matMul(x.reshape([2, 75]), dense)].map((t) => Array.from(t.dataSync())));
  forward(); // the kernels cache the packed weights
  for (const optimizer of ['sgd', 'adam'] as const) {
    const opt = new Optimizer(tf, trainConfigSchema.parse({ optimizer }), [filter, dense]);
    tf.tidy(() => opt.apply([tf.onesLike(filter), tf.onesLike(dense)], 0.5));
    const fresh = tf.tidy(() =>
      [tf.conv2d(x, tf.tensor4d(filter.dataSync(), filter.shape), 1, 'same'), tf.matMul(x.reshape([2, 75]), tf.tensor2d(dense.dataSync(), dense.shape))].map(
        (t) => Array.from(t.dataSync()),
      ),
    );
    assert.deepEqual(forward(), fresh, optimizer);
    opt.dispose();
  }
  tf.dispose([x, filter, dense]);
});
