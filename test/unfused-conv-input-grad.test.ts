// The patch embedding's convolution (engine/blocks/unfused-conv-layer.ts) runs as
// separate conv2d, bias and activation ops, so that a training step on the image
// leaves out the image's gradient, which tf.fused.conv2d's gradient computes every
// step. Its outputs and gradients are tfjs Conv2D's within 1e-5 of their peak, on
// wasm and cpu, and a model built with it saves and loads as tfjs's Conv2D.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectBackend } from '../engine/backends/select.js';
import { unfusedConv2dLayer } from '../engine/blocks/unfused-conv-layer.js';
import type { Tensor, TF } from '../engine/blocks/contract.js';
import { compileGraph } from '../engine/compile/compile.js';
import { chain, graph } from './helpers/graphs.js';
import { onBackends, relativeGap, seededUniform } from './helpers/numeric.js';
import { assertSameOutputsThenDispose, reloaded } from './helpers/reload.js';

const ready = selectBackend({ backend: 'wasm' });
const random = seededUniform(1907);

type Conv2D = ReturnType<TF['layers']['conv2d']>;
type Conv2DArgs = Parameters<TF['layers']['conv2d']>[0];

/** The layer's output, then the gradients of Σ y · w for the input, the kernel and the bias. */
function outputAndGradients(tf: TF, layer: Conv2D, x: Tensor, w: Tensor, weights: Float32Array[]): Tensor[] {
  layer.apply(x); // builds the weights
  layer.setWeights(weights.map((v, i) => tf.tensor(v, layer.weights[i].shape as number[])));
  const loss = (input: Tensor) => tf.sum(tf.mul(layer.apply(input) as Tensor, w)) as ReturnType<TF['scalar']>;
  const variables = layer.trainableWeights.map((v) => v.read() as unknown as { name: string });
  const { grads } = tf.variableGrads(() => loss(x), variables as never);
  const out = [layer.apply(x) as Tensor, tf.grad(loss)(x), ...variables.map((v) => grads[v.name])];
  layer.dispose();
  return out;
}

const CASES: { what: string; input: number[]; args: Conv2DArgs }[] = [
  { what: 'a ViT patch projection (7×7, stride 7)', input: [2, 14, 14, 1], args: { filters: 8, kernelSize: 7, strides: 7 } },
  { what: '3×3 "same" with ReLU', input: [2, 6, 5, 3], args: { filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' } },
  { what: '3×3 dilated 2, no bias', input: [1, 9, 9, 2], args: { filters: 3, kernelSize: 3, dilationRate: 2, useBias: false } },
];

for (const { what, input, args } of CASES) {
  test(`unfused Conv2D, ${what}: output and gradients of the input, kernel and bias are tfjs Conv2D's within 1e-5, on wasm and cpu`, async () => {
    const { tf } = await ready;
    const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
    const xs = random(size(input), 2);
    const outShape = tf.layers.conv2d({ ...args, name: 'shape' }).computeOutputShape(input) as number[];
    const k = args.kernelSize as number;
    const weights = [random(k * k * input[3] * args.filters, 1), ...(args.useBias === false ? [] : [random(args.filters, 1)])];
    const ws = random(size(outShape), 2);
    const run = (unfused: boolean) =>
      onBackends(tf, ['wasm', 'cpu'], () => {
        const layer = unfused ? new (unfusedConv2dLayer(tf))({ ...args, name: 'conv' }) : tf.layers.conv2d({ ...args, name: 'conv' });
        return outputAndGradients(tf, layer, tf.tensor(xs, input), tf.tensor(ws, outShape), weights);
      });
    const [theirs, ours] = [await run(false), await run(true)];
    for (const backend of ['wasm', 'cpu'] as const) {
      assert.equal(ours[backend].length, args.useBias === false ? 3 : 4);
      ['output', 'dx', 'dkernel', 'dbias'].slice(0, ours[backend].length).forEach((name, i) => {
        assert.deepEqual(ours[backend][i].shape, theirs[backend][i].shape, `${backend} ${name} shape`);
        const gap = relativeGap(ours[backend][i].data, theirs[backend][i].data);
        assert.ok(gap <= 1e-5, `${backend} ${name}: relative gap ${gap.toExponential(2)}`);
      });
    }
  });
}

test("a training step on the image computes the image's gradient with tfjs's Conv2D, and not with the unfused one", async () => {
  const { tf } = await ready;
  await tf.setBackend('wasm');
  const kernelsOfStep = async (layer: Conv2D) => {
    const x = tf.tensor4d(random(2 * 14 * 14, 2), [2, 14, 14, 1]);
    layer.apply(x);
    const variables = layer.trainableWeights.map((v) => v.read());
    const info = await tf.profile(() => {
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(layer.apply(x) as Tensor)) as never, variables as never);
      tf.dispose([value, ...Object.values(grads)]);
    });
    tf.dispose(x);
    layer.dispose();
    return new Set(info.kernelNames);
  };
  const args = { filters: 8, kernelSize: 7, strides: 7 };
  const stock = await kernelsOfStep(tf.layers.conv2d({ ...args, name: 'stock' }));
  const unfused = await kernelsOfStep(new (unfusedConv2dLayer(tf))({ ...args, name: 'unfused' }));
  assert.ok(stock.has('Conv2DBackpropInput'), `tfjs's fused conv computes the image's gradient: ${[...stock]}`);
  assert.ok(unfused.has('Conv2DBackpropFilter'), `the kernel's gradient is computed: ${[...unfused]}`);
  assert.ok(!unfused.has('Conv2DBackpropInput'), `no image gradient: ${[...unfused]}`);
});

test("the patch embedding builds it; its weights keep their names and shapes, and a saved model loads as tfjs's Conv2D with the same outputs", async () => {
  const { tf } = await ready;
  const g = graph(
    [
      ['x', 'io.input', { kind: 'image', height: 8, width: 8, channels: 2 }],
      ['patches', 'attention.patchEmbedding', { patch: 4, dim: 6 }],
      ['out', 'io.output', {}],
    ],
    chain('x', 'patches', 'out'),
  );
  const { model } = compileGraph(tf, g);
  const proj = model.getLayer('patches_proj');
  assert.ok(proj instanceof unfusedConv2dLayer(tf), 'the projection is the unfused layer');
  assert.equal(proj.getClassName(), 'Conv2D');
  assert.deepEqual(
    proj.weights.map((w) => [w.originalName, w.shape]),
    [
      ['patches_proj/kernel', [4, 4, 2, 6]],
      ['patches_proj/bias', [6]],
    ],
  );
  model.setWeights(model.getWeights().map((w, i) => tf.add(w, tf.fill(w.shape, 0.05 * (i + 1)))));
  const loaded = await reloaded(tf, model);
  assert.ok(!(loaded.getLayer('patches_proj') instanceof unfusedConv2dLayer(tf)), "the saved model loads as tfjs's own Conv2D");
  const x = tf.tensor4d(random(2 * 8 * 8 * 2, 2), [2, 8, 8, 2]);
  assertSameOutputsThenDispose(tf, model, loaded, x);
});
