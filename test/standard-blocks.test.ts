// Targeted checks of the standard blocks that the generic shape test cannot make:
// values against independent computations, parameter counts against the
// reference implementations, and the diagnostics for bad wiring.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as tfjs from '@tensorflow/tfjs';
import { registry } from '../engine/blocks/registry.js';
import { portsOf, type Shape, type StepClock } from '../engine/blocks/contract.js';
import { resolveParams } from '../engine/blocks/params.js';
import { nodeInitializers } from '../engine/blocks/initializers.js';
import { compileGraph } from '../engine/compile/compile.js';
import { analyzeGraph } from '../engine/shapes/analyze.js';
import { graph } from './helpers/graphs.js';
import { tfReady } from './helpers/tf.js';

type Tensor = tfjs.Tensor;
type Params = Record<string, unknown>;

/** A model of one block on inputs of the given shapes (batch axis left out); `clock`: the step its dropout masks follow. */
async function blockModel(type: string, params: Params, inputs: Record<string, number[]>, clock?: StepClock) {
  const tf = await tfReady;
  const block = registry.get(type)!;
  const { values, problems } = resolveParams(block, params);
  assert.deepEqual(problems, []);
  const symbolic: Record<string, tfjs.SymbolicTensor> = {};
  for (const p of portsOf(block, values, 'inputs')) symbolic[p.name] = tf.input({ shape: inputs[p.name], dtype: p.dtype ?? 'float32' });
  const inputShapes = Object.fromEntries(Object.entries(inputs).map(([k, s]) => [k, [null, ...s] as Shape]));
  const built = block.build(tf, { params: values, inputs: symbolic, inputShapes, name: 'blk', init: nodeInitializers(tf, 7, 'blk', clock) });
  return tf.model({ inputs: Object.values(symbolic), outputs: built.out });
}

const predict = (model: tfjs.LayersModel, x: Tensor | Tensor[]) => model.predict(x) as Tensor;

/** Element-wise closeness with a message that shows the first mismatch. */
function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5, what = 'values'): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++)
    if (!(Math.abs(actual[i] - expected[i]) <= tol * (1 + Math.abs(expected[i])))) assert.fail(`${what}[${i}]: ${actual[i]} vs expected ${expected[i]}`);
}

const INPUTS = {
  image: (h: number, w: number, c: number) => ({ kind: 'image', height: h, width: w, channels: c }),
  sequence: (t: number, f: number) => ({ kind: 'sequence', length: t, features: f }),
  tokens: (t: number, v: number) => ({ kind: 'tokens', length: t, vocabSize: v }),
  vector: (f: number) => ({ kind: 'vector', features: f }),
};

/** input -> block -> output. */
const chain = (input: Params, type: string, params: Params = {}) =>
  graph(
    [
      ['x', 'io.input', input],
      ['b', type, params],
      ['y', 'io.output', { loss: 'none' }],
    ],
    [
      ['x.out', 'b.in'],
      ['b.out', 'y.in'],
    ],
  );

async function paramsOf(input: Params, type: string, params: Params = {}) {
  const tf = await tfReady;
  const compiled = compileGraph(tf, chain(input, type, params));
  const counts = compiled.nodeParams.get('b')!;
  compiled.model.dispose();
  return counts;
}

/** The diagnostics of a chain, as { nodeId, port, message }. */
const diagnosticsOf = (input: Params, type: string, params: Params = {}) =>
  analyzeGraph(chain(input, type, params)).diagnostics.map(({ nodeId, port, message }) => ({ nodeId, port, message }));

// ---------------------------------------------------------------- DepthwiseConv2D

test('DepthwiseConv2D: k·k·C·m weights plus C·m biases, with and without dilation', async () => {
  assert.deepEqual(await paramsOf(INPUTS.image(6, 6, 3), 'core.depthwiseConv2d', { kernel: 3, depthMultiplier: 2 }), { params: 60, trainable: 60 });
  assert.deepEqual(await paramsOf(INPUTS.image(6, 6, 3), 'core.depthwiseConv2d', { kernel: 3, depthMultiplier: 2, useBias: false }), {
    params: 54,
    trainable: 54,
  });
  assert.deepEqual(await paramsOf(INPUTS.image(9, 9, 3), 'core.depthwiseConv2d', { kernel: 3, depthMultiplier: 2, dilation: 2 }), {
    params: 60,
    trainable: 60,
  });
});

test('DepthwiseConv2D: outputs equal tf.depthwiseConv2d with the same weights, dilated or not', async () => {
  const tf = await tfReady;
  const cases: Params[] = [
    { kernel: 3, padding: 'same' },
    { kernel: 3, stride: 2, padding: 'valid', depthMultiplier: 2 },
    { kernel: 3, dilation: 2, padding: 'same' },
    { kernel: 3, dilation: 2, padding: 'valid', depthMultiplier: 2 },
    { kernel: 2, dilation: 3, padding: 'same' },
  ];
  for (const p of cases) {
    const model = await blockModel('core.depthwiseConv2d', p, { in: [7, 9, 2] });
    const [kernel, bias] = model.layers[1].getWeights();
    model.layers[1].setWeights([kernel, tf.randomNormal(bias.shape, 0, 1, 'float32', 3)]);
    const [k, b] = model.layers[1].getWeights();
    const x = tf.randomNormal([2, 7, 9, 2], 0, 1, 'float32', 11) as tfjs.Tensor4D;
    const d = (p.dilation as number | undefined) ?? 1;
    const expected = tf.add(tf.depthwiseConv2d(x, k as tfjs.Tensor4D, (p.stride as number | undefined) ?? 1, p.padding as 'same' | 'valid', 'NHWC', [d, d]), b);
    const actual = predict(model, x);
    assert.deepEqual(actual.shape, expected.shape, JSON.stringify(p));
    assertClose(actual.dataSync(), expected.dataSync(), 1e-4, JSON.stringify(p));
    tf.dispose([x, expected, actual]);
    model.dispose();
  }
});

test('DepthwiseConv2D: the dilated layer has the exact kernel gradient (tfjs has none for dilated depthwise kernels)', async () => {
  const tf = await tfReady;
  const model = await blockModel('core.depthwiseConv2d', { kernel: 3, dilation: 2, padding: 'same', useBias: false }, { in: [6, 7, 2] });
  const x = tf.randomNormal([2, 6, 7, 2], 0, 1, 'float32', 5) as tfjs.Tensor4D;
  const r = tf.randomNormal([2, 6, 7, 2], 0, 1, 'float32', 6);
  const { grads } = tf.variableGrads(() => tf.sum(tf.mul(model.apply(x) as Tensor, r)) as tfjs.Scalar);
  const grad = Object.values(grads)[0].dataSync();
  // The loss is linear in the kernel, so its gradient entry j is the loss of the one-hot kernel e_j.
  const expected = Array.from({ length: 3 * 3 * 2 }, (_, j) =>
    tf.tidy(() => {
      const onehot = tf.oneHot([j], 18).reshape([3, 3, 2, 1]) as tfjs.Tensor4D;
      return tf.sum(tf.mul(tf.depthwiseConv2d(x, tf.cast(onehot, 'float32'), 1, 'same', 'NHWC', [2, 2]), r)).dataSync()[0];
    }),
  );
  assertClose(grad, expected, 1e-4, 'kernel gradient');
  tf.dispose([x, r, ...Object.values(grads)]);
  model.dispose();
});

// ---------------------------------------------------------------- Pooling

test('Pool2D: max and average of 2×2 windows of a 4×4 ramp', async () => {
  const tf = await tfReady;
  const x = tf.range(0, 16).reshape([1, 4, 4, 1]);
  const max = await blockModel('core.pool2d', { mode: 'max' }, { in: [4, 4, 1] });
  const avg = await blockModel('core.pool2d', { mode: 'avg' }, { in: [4, 4, 1] });
  assert.deepEqual(Array.from(predict(max, x).dataSync()), [5, 7, 13, 15]);
  assert.deepEqual(Array.from(predict(avg, x).dataSync()), [2.5, 4.5, 10.5, 12.5]);
});

test('Pool2D: "same" average pooling divides by the real pixels in the window, not the padding', async () => {
  const tf = await tfReady;
  const x = tf.range(0, 16).reshape([1, 4, 4, 1]);
  const y = predict(await blockModel('core.pool2d', { mode: 'avg', size: 3, stride: 1, padding: 'same' }, { in: [4, 4, 1] }), x).dataSync();
  // Corner (0,0): its 3×3 window holds 0, 1, 4, 5 and five padded zeros.
  assert.equal(y[0], (0 + 1 + 4 + 5) / 4);
  // Interior (1,1): a full window around 5.
  assert.equal(y[5], (0 + 1 + 2 + 4 + 5 + 6 + 8 + 9 + 10) / 9);
});

test('Global pool 2D: per-channel max (kept as [B,1,1,C]) and mean', async () => {
  const tf = await tfReady;
  // Channel 0 holds 0..8, channel 1 holds 0, -1, ..., -8.
  const ramp = tf.range(0, 9).reshape([1, 3, 3, 1]);
  const x = tf.concat([ramp, tf.neg(ramp)], 3);
  const max = predict(await blockModel('core.globalPool2d', { mode: 'max', keepDims: true }, { in: [3, 3, 2] }), x);
  assert.deepEqual(max.shape, [1, 1, 1, 2]);
  assertClose(max.dataSync(), [8, 0]);
  const avg = predict(await blockModel('core.globalPool2d', { mode: 'avg' }, { in: [3, 3, 2] }), x);
  assert.deepEqual(avg.shape, [1, 2]);
  assertClose(avg.dataSync(), [4, -4]);
});

test('Global pool 1D: max and mean over time', async () => {
  const tf = await tfReady;
  const x = tf.tensor3d([
    [
      [1, -2],
      [3, 0],
      [-1, 5],
    ],
  ]);
  assert.deepEqual(Array.from(predict(await blockModel('core.globalPool1d', { mode: 'max' }, { in: [3, 2] }), x).dataSync()), [3, 5]);
  assertClose(predict(await blockModel('core.globalPool1d', { mode: 'avg' }, { in: [3, 2] }), x).dataSync(), [1, 1]);
});

// ---------------------------------------------------------------- Upsample2D

test('Upsample2D: nearest repeats pixels; bilinear samples input position i / factor, as the doc says', async () => {
  const tf = await tfReady;
  const x = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
  const nearest = predict(await blockModel('core.upsample2d', { factor: 2 }, { in: [2, 2, 1] }), x);
  assert.deepEqual(Array.from(nearest.dataSync()), [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);

  const src = [
    [0, 1, 5],
    [2, -3, 4],
    [7, 6, 8],
  ];
  const f = 3;
  const at = (r: number, c: number) => src[Math.min(r, 2)][Math.min(c, 2)];
  const expected: number[] = [];
  for (let i = 0; i < 3 * f; i++)
    for (let j = 0; j < 3 * f; j++) {
      const [y, xx] = [i / f, j / f];
      const [y0, x0] = [Math.floor(y), Math.floor(xx)];
      const [dy, dx] = [y - y0, xx - x0];
      const top = at(y0, x0) * (1 - dx) + at(y0, x0 + 1) * dx;
      const bottom = at(y0 + 1, x0) * (1 - dx) + at(y0 + 1, x0 + 1) * dx;
      expected.push(top * (1 - dy) + bottom * dy);
    }
  const bilinear = predict(
    await blockModel('core.upsample2d', { factor: f, interpolation: 'bilinear' }, { in: [3, 3, 1] }),
    tf.tensor4d(src.flat(), [1, 3, 3, 1]),
  );
  assert.deepEqual(bilinear.shape, [1, 9, 9, 1]);
  assertClose(bilinear.dataSync(), expected, 1e-5, 'bilinear');
});

// ---------------------------------------------------------------- Normalisation

test('BatchNorm: 4C parameters of which 2C trainable, as PyTorch BatchNorm2d', async () => {
  assert.deepEqual(await paramsOf(INPUTS.image(5, 5, 6), 'core.batchNorm'), { params: 24, trainable: 12 });
  assert.deepEqual(await paramsOf(INPUTS.vector(10), 'core.batchNorm'), { params: 40, trainable: 20 });
});

test('BatchNorm: batch statistics in training, moving averages with Keras momentum, identity-like at start', async () => {
  const tf = await tfReady;
  const eps = 1e-3;
  const model = await blockModel('core.batchNorm', { momentum: 0.9, epsilon: eps }, { in: [3, 3, 2] });
  const layer = model.layers[1];
  const x = tf.add(tf.mul(tf.randomNormal([4, 3, 3, 2], 0, 1, 'float32', 9), tf.tensor1d([2, 0.5])), tf.tensor1d([3, -1]));
  // Inference with fresh statistics (mean 0, variance 1): x / sqrt(1 + eps).
  assertClose(predict(model, x).dataSync(), tf.div(x, Math.sqrt(1 + eps)).dataSync(), 1e-5, 'inference');
  const y = layer.apply(x, { training: true }) as Tensor;
  const { mean, variance } = tf.moments(y, [0, 1, 2]);
  assertClose(mean.dataSync(), [0, 0], 1e-4, 'batch mean');
  assertClose(variance.dataSync(), [1, 1], 1e-2, 'batch variance');
  // One training step moves the moving mean 10% of the way from 0 to the batch mean.
  const batchMean = tf.moments(x, [0, 1, 2]).mean.dataSync();
  const movingMean = layer.weights.find((w) => w.name.includes('moving_mean'))!.read();
  assertClose(
    movingMean.dataSync(),
    Array.from(batchMean, (m) => 0.1 * m),
    1e-4,
    'moving mean',
  );
});

test('LayerNorm: every position gets mean 0 and variance 1 over its features; 2F parameters', async () => {
  const tf = await tfReady;
  const model = await blockModel('core.layerNorm', {}, { in: [5, 8] });
  const x = tf.add(tf.mul(tf.randomNormal([3, 5, 8], 0, 1, 'float32', 4), 5), 3);
  const { mean, variance } = tf.moments(predict(model, x), -1);
  assertClose(mean.dataSync(), new Array(15).fill(0), 1e-4, 'mean');
  assertClose(variance.dataSync(), new Array(15).fill(1), 1e-3, 'variance');
  assert.deepEqual(await paramsOf(INPUTS.sequence(5, 8), 'core.layerNorm'), { params: 16, trainable: 16 });
});

// ---------------------------------------------------------------- Dropout

test('Dropout: identity at inference; in training drops about `rate`, scales the rest, new mask every step', async () => {
  const tf = await tfReady;
  const clock = { step: 0 };
  const model = await blockModel('core.dropout', { rate: 0.5 }, { in: [2000] }, clock);
  const x = tf.ones([1, 2000]);
  assert.deepEqual(Array.from(new Set(predict(model, x).dataSync())), [1]);
  const masks = [0, 1].map((step) => {
    clock.step = step;
    return (model.layers[1].apply(x, { training: true }) as Tensor).dataSync();
  });
  for (const m of masks) {
    assert.deepEqual(Array.from(new Set(m)).sort(), [0, 2]);
    const dropped = m.filter((v) => v === 0).length / m.length;
    assert.ok(dropped > 0.44 && dropped < 0.56, `dropped fraction ${dropped}`);
  }
  const same = masks[0].filter((v, i) => v === masks[1][i]).length / 2000;
  assert.ok(same < 0.6, `two steps share ${same} of their mask`);
});

// ---------------------------------------------------------------- Reshape and Permute

test('Reshape: -1 takes the remaining size, data keep row-major order', async () => {
  const tf = await tfReady;
  const x = tf.range(0, 48).reshape([2, 4, 6]);
  const y = predict(await blockModel('core.reshape', { shape: [3, -1] }, { in: [4, 6] }), x);
  assert.deepEqual(y.shape, [2, 3, 8]);
  assert.deepEqual(
    Array.from(y.dataSync()),
    Array.from({ length: 48 }, (_, i) => i),
  );
});

test('Reshape: a resolved -1 lets a Dense layer follow (tfjs alone would leave the axis unknown)', async () => {
  const tf = await tfReady;
  const g = graph(
    [
      ['x', 'io.input', INPUTS.sequence(4, 6)],
      ['r', 'core.reshape', { shape: [3, -1] }],
      ['d', 'core.dense', { units: 5 }],
      ['y', 'io.output', { loss: 'none' }],
    ],
    [
      ['x.out', 'r.in'],
      ['r.out', 'd.in'],
      ['d.out', 'y.in'],
    ],
  );
  const compiled = compileGraph(tf, g);
  assert.deepEqual(compiled.outputs[0].shape, [null, 3, 5]);
  assert.equal(compiled.nodeParams.get('d')!.params, 8 * 5 + 5);
  compiled.model.dispose();
});

test('Reshape: element-count mismatches and bad targets are diagnostics on the node', () => {
  assert.deepEqual(diagnosticsOf(INPUTS.vector(10), 'core.reshape', { shape: [3, 4] }), [
    { nodeId: 'b', port: 'in', message: 'cannot reshape [?, 10] (10 elements per sample) into [3, 4] (12 elements)' },
  ]);
  assert.deepEqual(diagnosticsOf(INPUTS.sequence(2, 5), 'core.reshape', { shape: [3, -1] }), [
    { nodeId: 'b', port: 'in', message: 'cannot reshape [?, 2, 5] (10 elements per sample) into [3, -1]: 10 is not a multiple of 3' },
  ]);
  assert.deepEqual(diagnosticsOf(INPUTS.vector(12), 'core.reshape', { shape: [-1, 2, -1] }), [
    { nodeId: 'b', port: 'in', message: 'target shape [-1, 2, -1] has 2 entries of -1; at most one size can be inferred' },
  ]);
  assert.deepEqual(diagnosticsOf(INPUTS.vector(12), 'core.reshape', { shape: [0, 12] }), [
    { nodeId: 'b', port: 'in', message: 'target shape [0, 12] has a 0: sizes must be positive or -1' },
  ]);
});

test('Permute: moves the data as x.permute(0, *dims)', async () => {
  const tf = await tfReady;
  const x = tf.range(0, 24).reshape([1, 2, 3, 4]);
  const src = x.arraySync() as number[][][][];
  const y = predict(await blockModel('core.permute', { dims: [3, 1, 2] }, { in: [2, 3, 4] }), x);
  assert.deepEqual(y.shape, [1, 4, 2, 3]);
  const expected = Array.from({ length: 4 }, (_, c) => Array.from({ length: 2 }, (_, h) => Array.from({ length: 3 }, (_, w) => src[0][h][w][c])));
  assert.deepEqual(y.arraySync(), [expected]);

  const seq = tf.tensor3d([
    [
      [1, 2, 3],
      [4, 5, 6],
    ],
  ]);
  const t = predict(await blockModel('core.permute', { dims: [2, 1] }, { in: [2, 3] }), seq);
  assert.deepEqual(t.arraySync(), [
    [
      [1, 4],
      [2, 5],
      [3, 6],
    ],
  ]);
});

test('Permute: dims that are not a permutation of the non-batch axes are diagnostics', () => {
  assert.deepEqual(diagnosticsOf(INPUTS.sequence(5, 3), 'core.permute', { dims: [1, 1] }), [
    { nodeId: 'b', port: 'in', message: 'dims [1, 1] is not a permutation of 1..2: a rank-3 input [?, 5, 3] has 2 non-batch axes, and each must appear once' },
  ]);
  assert.deepEqual(diagnosticsOf(INPUTS.image(4, 4, 2), 'core.permute', { dims: [2, 1] }), [
    {
      nodeId: 'b',
      port: 'in',
      message: 'dims [2, 1] is not a permutation of 1..3: a rank-4 input [?, 4, 4, 2] has 3 non-batch axes, and each must appear once',
    },
  ]);
});

// ---------------------------------------------------------------- Embedding and positions

test('Embedding: V·D parameters, initialised in ±0.05, each id reads its own row', async () => {
  const tf = await tfReady;
  assert.deepEqual(await paramsOf(INPUTS.tokens(5, 7), 'core.embedding', { vocabSize: 7, dim: 3 }), { params: 21, trainable: 21 });
  const model = await blockModel('core.embedding', { vocabSize: 7, dim: 3 }, { in: [4] });
  const table = model.layers[1].getWeights()[0].arraySync() as number[][];
  assert.ok(
    table.flat().every((v) => Math.abs(v) <= 0.05),
    'uniform in [-0.05, 0.05]',
  );
  assert.ok(new Set(table.flat()).size === 21, 'distinct values');
  const ids = [6, 0, 3, 3];
  const y = predict(model, tf.tensor2d([ids], [1, 4], 'int32'));
  assert.deepEqual(y.arraySync(), [ids.map((i) => table[i])]);
});

test('Embedding: an image is refused on its input port (token ids are [B, T] or [B, S, T])', () => {
  const got = diagnosticsOf(INPUTS.image(5, 3, 2), 'core.embedding');
  assert.equal(got.length, 1, JSON.stringify(got));
  assert.equal(got[0].nodeId, 'b');
  assert.equal(got[0].port, 'in');
  assert.match(got[0].message, /\[\?, 5, 3, 2\] \(rank 4\)/);
});

test('Positional encoding, sinusoidal: exactly sin/cos(pos / 10000^(2i/D)) of Vaswani et al., no weights', async () => {
  const tf = await tfReady;
  const [T, D] = [6, 5];
  const y = predict(await blockModel('core.positionalEncoding', { mode: 'sinusoidal' }, { in: [T, D] }), tf.zeros([1, T, D])).dataSync();
  const expected: number[] = [];
  for (let pos = 0; pos < T; pos++)
    for (let i = 0; 2 * i < D; i++) {
      expected.push(Math.sin(pos / 10000 ** ((2 * i) / D)));
      if (2 * i + 1 < D) expected.push(Math.cos(pos / 10000 ** ((2 * i) / D)));
    }
  assertClose(y, expected, 1e-6, 'PE');
  assert.deepEqual(await paramsOf(INPUTS.sequence(T, D), 'core.positionalEncoding'), { params: 0, trainable: 0 });
});

test('Positional encoding, learned: maxLength·D trainable weights, the first T rows are added', async () => {
  const tf = await tfReady;
  assert.deepEqual(await paramsOf(INPUTS.sequence(6, 4), 'core.positionalEncoding', { mode: 'learned', maxLength: 10 }), { params: 40, trainable: 40 });
  const model = await blockModel('core.positionalEncoding', { mode: 'learned', maxLength: 10 }, { in: [6, 4] });
  const table = model.layers[1].getWeights()[0];
  assert.deepEqual(table.shape, [10, 4]);
  const x = tf.randomNormal([2, 6, 4], 0, 1, 'float32', 2);
  const expected = tf.add(x, tf.slice(table, [0, 0], [6, 4]));
  assertClose(predict(model, x).dataSync(), expected.dataSync(), 1e-6, 'x + rows');
});

test('Positional encoding: a sequence longer than maxLength is a diagnostic', () => {
  assert.deepEqual(diagnosticsOf(INPUTS.sequence(12, 4), 'core.positionalEncoding', { mode: 'learned', maxLength: 10 }), [
    { nodeId: 'b', port: 'in', message: 'sequence length 12 is longer than maxLength 10: raise maxLength to at least 12' },
  ]);
});

// ---------------------------------------------------------------- Recurrent

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** x·W + h·U + b for gate block g of size H (weights as tfjs stores them: [in, gates·H]). */
function gate(x: number[], h: number[], W: number[][], U: number[][], b: number[], g: number, H: number, hScale?: number[]): number[] {
  return Array.from({ length: H }, (_, j) => {
    const col = g * H + j;
    let s = b[col];
    x.forEach((v, k) => (s += v * W[k][col]));
    h.forEach((v, k) => (s += v * (hScale ? hScale[k] : 1) * U[k][col]));
    return s;
  });
}

test('LSTM: 4·(H·(F+H) + H) parameters; outputs match a step-by-step LSTM with sigmoid gates', async () => {
  const tf = await tfReady;
  const [T, F, H] = [3, 3, 4];
  assert.deepEqual(await paramsOf(INPUTS.sequence(T, F), 'core.lstm', { units: H }), { params: 4 * (H * (F + H) + H), trainable: 128 });
  const model = await blockModel('core.lstm', { units: H, returnSequences: true }, { in: [T, F] });
  const [k, u, b0] = model.layers[1].getWeights();
  assert.deepEqual(Array.from(b0.dataSync()), [0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0], 'forget bias starts at 1');
  model.layers[1].setWeights([k, u, tf.randomNormal([4 * H], 0, 0.5, 'float32', 1)]);
  const [W, U, b] = model.layers[1].getWeights().map((w) => w.arraySync()) as [number[][], number[][], number[]];
  const xs = tf.randomNormal([1, T, F], 0, 1, 'float32', 3);
  const seq = (xs.arraySync() as number[][][])[0];
  let [h, c] = [new Array(H).fill(0), new Array(H).fill(0)];
  const expected: number[] = [];
  for (const x of seq) {
    const i = gate(x, h, W, U, b, 0, H).map(sigmoid);
    const f = gate(x, h, W, U, b, 1, H).map(sigmoid);
    const g = gate(x, h, W, U, b, 2, H).map(Math.tanh);
    const o = gate(x, h, W, U, b, 3, H).map(sigmoid);
    c = c.map((cj, j) => f[j] * cj + i[j] * g[j]);
    h = o.map((oj, j) => oj * Math.tanh(c[j]));
    expected.push(...h);
  }
  assertClose(predict(model, xs).dataSync(), expected, 1e-5, 'LSTM states');
});

test('GRU: 3·(H·(F+H) + H) parameters (PyTorch: 3·(H·(F+H) + 2H)); reset gate applied before the recurrent matrix', async () => {
  const tf = await tfReady;
  const [T, F, H] = [4, 2, 3];
  assert.deepEqual(await paramsOf(INPUTS.sequence(T, F), 'core.gru', { units: H }), { params: 3 * (H * (F + H) + H), trainable: 54 });
  const model = await blockModel('core.gru', { units: H }, { in: [T, F] });
  const [k, u] = model.layers[1].getWeights();
  model.layers[1].setWeights([k, u, tf.randomNormal([3 * H], 0, 0.5, 'float32', 1)]);
  const [W, U, b] = model.layers[1].getWeights().map((w) => w.arraySync()) as [number[][], number[][], number[]];
  const xs = tf.randomNormal([1, T, F], 0, 1, 'float32', 4);
  let h = new Array(H).fill(0);
  for (const x of (xs.arraySync() as number[][][])[0]) {
    const z = gate(x, h, W, U, b, 0, H).map(sigmoid);
    const r = gate(x, h, W, U, b, 1, H).map(sigmoid);
    const cand = gate(x, h, W, U, b, 2, H, r).map(Math.tanh);
    h = h.map((hj, j) => z[j] * hj + (1 - z[j]) * cand[j]);
  }
  assertClose(predict(model, xs).dataSync(), h, 1e-5, 'GRU last state');
});

// ---------------------------------------------------------------- Wiring

test('image blocks refuse a sequence with a rank diagnostic on their input', () => {
  for (const type of ['core.conv2d', 'core.depthwiseConv2d', 'core.pool2d', 'core.globalPool2d', 'core.upsample2d'])
    assert.deepEqual(
      diagnosticsOf(INPUTS.sequence(10, 4), type),
      [{ nodeId: 'b', port: 'in', message: 'input "in" needs rank 4 (batch included), but the incoming tensor is [?, 10, 4] (rank 3)' }],
      type,
    );
  assert.deepEqual(diagnosticsOf(INPUTS.image(8, 8, 1), 'core.lstm'), [
    { nodeId: 'b', port: 'in', message: 'input "in" needs rank 3 (batch included), but the incoming tensor is [?, 8, 8, 1] (rank 4)' },
  ]);
});

test('windows too large for the input and dilation with stride are diagnostics', () => {
  assert.deepEqual(diagnosticsOf(INPUTS.image(4, 4, 1), 'core.pool2d', { size: 5, padding: 'valid' }), [
    { nodeId: 'b', port: 'in', message: 'output height would be 0: the input is too small' },
  ]);
  assert.deepEqual(diagnosticsOf(INPUTS.image(8, 8, 1), 'core.depthwiseConv2d', { dilation: 2, stride: 2 }), [
    { nodeId: 'b', port: 'in', message: 'dilation 2 needs stride 1 (got stride 2)' },
  ]);
});

// ---------------------------------------------------------------- Training

test('graphs of the new blocks train: finite loss that falls, every trainable weight moves', async () => {
  const tf = await tfReady;
  const image = graph(
    [
      ['x', 'io.input', INPUTS.image(8, 8, 2)],
      ['dw', 'core.depthwiseConv2d', { dilation: 2, depthMultiplier: 2 }],
      ['bn', 'core.batchNorm'],
      ['up', 'core.upsample2d', { interpolation: 'bilinear' }],
      ['pool', 'core.pool2d', { mode: 'avg', size: 3, padding: 'same' }],
      ['drop', 'core.dropout', { rate: 0.2 }],
      ['gp', 'core.globalPool2d', { mode: 'max' }],
      ['head', 'core.classificationHead', { classes: 3 }],
      ['y', 'io.output'],
    ],
    [
      ['x.out', 'dw.in'],
      ['dw.out', 'bn.in'],
      ['bn.out', 'up.in'],
      ['up.out', 'pool.in'],
      ['pool.out', 'drop.in'],
      ['drop.out', 'gp.in'],
      ['gp.out', 'head.in'],
      ['head.probs', 'y.in'],
    ],
  );
  const sequence = graph(
    [
      ['x', 'io.input', INPUTS.tokens(6, 9)],
      ['emb', 'core.embedding', { vocabSize: 9, dim: 8 }],
      ['pe', 'core.positionalEncoding', { mode: 'learned', maxLength: 8 }],
      ['ln', 'core.layerNorm'],
      ['gru', 'core.gru', { units: 6, returnSequences: true }],
      ['perm', 'core.permute', { dims: [2, 1] }],
      ['shape', 'core.reshape', { shape: [6, -1] }],
      ['lstm', 'core.lstm', { units: 5, returnSequences: true }],
      ['gp', 'core.globalPool1d'],
      ['head', 'core.classificationHead', { classes: 3 }],
      ['y', 'io.output'],
    ],
    [
      ['x.out', 'emb.in'],
      ['emb.out', 'pe.in'],
      ['pe.out', 'ln.in'],
      ['ln.out', 'gru.in'],
      ['gru.out', 'perm.in'],
      ['perm.out', 'shape.in'],
      ['shape.out', 'lstm.in'],
      ['lstm.out', 'gp.in'],
      ['gp.out', 'head.in'],
      ['head.probs', 'y.in'],
    ],
  );
  const feeds = [tf.randomNormal([16, 8, 8, 2], 0, 1, 'float32', 1), tf.randomUniform([16, 6], 0, 9, 'int32', 2)];
  const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0], 'int32'), 3);
  for (const [k, g] of [image, sequence].entries()) {
    const { model } = compileGraph(tf, g);
    model.compile({ optimizer: tf.train.adam(0.02), loss: 'categoricalCrossentropy' });
    const before = model.trainableWeights.map((w) => w.read().dataSync().slice());
    const losses: number[] = [];
    for (let step = 0; step < 8; step++) losses.push((await model.trainOnBatch(feeds[k], labels)) as number);
    assert.ok(losses.every(Number.isFinite), `${g.nodes[1].type}: losses ${losses}`);
    assert.ok(losses[7] < losses[0], `${g.nodes[1].type}: loss ${losses[0]} -> ${losses[7]}`);
    model.trainableWeights.forEach((w, i) =>
      assert.ok(
        w
          .read()
          .dataSync()
          .some((v, j) => v !== before[i][j]),
        `${w.name} did not change`,
      ),
    );
    model.dispose();
  }
});
