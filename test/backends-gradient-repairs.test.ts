// The gradients that tfjs 4.22 lacks or gets wrong, as repaired in
// engine/backends (repairs.ts), checked on the cpu and wasm backends against
// references that do not use any gradient kernel: the forward op applied to
// every basis image (a resize is linear, so that gives its adjoint exactly), the
// same convolution written without dilation, and finite differences.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectBackend } from '../engine/backends/select.js';
import { registry } from '../engine/blocks/registry.js';
import { resolveParams } from '../engine/blocks/params.js';
import { nodeInitializers } from '../engine/blocks/initializers.js';
import type { SymbolicTensor, Tensor, TF } from '../engine/blocks/contract.js';
import { seededUniform, assertRelClose } from './helpers/numeric.js';
import { spreadFilter } from './helpers/filters.js';

const ready = selectBackend({ backend: 'wasm' });
const BACKENDS = ['cpu', 'wasm'] as const;
type T4 = ReturnType<TF['tensor4d']>;
type S4 = [number, number, number, number];

const random = seededUniform(2024);

const RESIZES: { images: S4; size: [number, number] }[] = [
  { images: [2, 3, 3, 2], size: [6, 6] },
  { images: [2, 5, 7, 3], size: [10, 14] }, // non-square, the second image catches a wrong batch offset
  { images: [2, 4, 5, 2], size: [3, 7] }, // down one axis, up the other
  { images: [1, 3, 2, 1], size: [9, 6] },
  { images: [2, 6, 4, 2], size: [3, 2] },
];
const SAMPLINGS = [
  { alignCorners: false, halfPixelCenters: false },
  { alignCorners: true, halfPixelCenters: false },
  { alignCorners: false, halfPixelCenters: true },
];

for (const method of ['nearest', 'bilinear'] as const) {
  test(`${method} resize gradient = the adjoint of the forward resize (cpu, wasm; align corners, half-pixel centres, up and down)`, async () => {
    const { tf } = await ready;
    for (const backend of BACKENDS) {
      await tf.setBackend(backend);
      for (const { images, size } of RESIZES) {
        for (const { alignCorners, halfPixelCenters } of SAMPLINGS) {
          const what = `${backend} ${images.join('x')} -> ${size.join('x')} alignCorners=${alignCorners} halfPixelCenters=${halfPixelCenters}`;
          const [got, want] = tf.tidy(() => {
            const resize = (x: T4): T4 =>
              method === 'nearest'
                ? tf.image.resizeNearestNeighbor(x, size, alignCorners, halfPixelCenters)
                : tf.image.resizeBilinear(x, size, alignCorners, halfPixelCenters);
            const n = images.reduce((a, b) => a * b, 1);
            const x = tf.tensor4d(random(n), images);
            const dy = tf.tensor4d(random(images[0] * size[0] * size[1] * images[3]), [images[0], size[0], size[1], images[3]]);
            const dx = tf.grad((x: Tensor) => tf.sum(tf.mul(resize(x as T4), dy)))(x);
            // Every basis image resized in one batch: entry j of the adjoint is <dy, resize(e_j)>.
            const basis = (tf.oneHot(tf.range(0, n, 1, 'int32'), n) as Tensor).reshape([n * images[0], ...images.slice(1)]) as T4;
            const resized = resize(basis).reshape([n, images[0], size[0], size[1], images[3]]);
            const adjoint = tf.sum(tf.mul(resized, dy), [1, 2, 3, 4]);
            return [dx.dataSync().slice(), adjoint.dataSync().slice()];
          });
          assertRelClose(got, want, what, 1e-5);
        }
      }
    }
  });
}

test('dilated conv2d gradients equal those of the same convolution written undilated (cpu, wasm; dilation 2 and 3, same and valid)', async () => {
  const { tf } = await ready;
  for (const backend of BACKENDS) {
    await tf.setBackend(backend);
    for (const d of [2, 3]) {
      for (const pad of ['same', 'valid'] as const) {
        const xShape: S4 = [2, 11, 10, 3];
        const fShape: S4 = [3, 3, 3, 4];
        const xd = random(2 * 11 * 10 * 3);
        const fd = random(3 * 3 * 3 * 4);
        const dyd = random(2 * 11 * 10 * 4);
        const [ours, ref] = tf.tidy(() => {
          const x = tf.tensor4d(xd, xShape);
          const f = tf.tensor4d(fd, fShape);
          const dilated = (x: Tensor, f: Tensor) => tf.conv2d(x as T4, f as T4, 1, pad, 'NHWC', d);
          const undilated = (x: Tensor, f: Tensor) => tf.conv2d(x as T4, spreadFilter(tf, f as T4, d), 1, pad);
          const dy = tf.tensor(dyd.subarray(0, dilated(x, f).size), dilated(x, f).shape);
          const grads = (conv: typeof dilated) =>
            tf
              .grads((x: Tensor, f: Tensor) => tf.sum(tf.mul(conv(x, f), dy)))([x, f])
              .map((g) => g.dataSync().slice());
          return [grads(dilated), grads(undilated)];
        });
        assertRelClose(ours[0], ref[0], `${backend} dx dilation ${d} ${pad}`);
        assertRelClose(ours[1], ref[1], `${backend} dW dilation ${d} ${pad}`);
      }
    }
  }
});

test('dilated conv2d gradients in NCHW are the NHWC ones transposed (cpu; wasm has no NCHW convolution)', async () => {
  const { tf } = await ready;
  await tf.setBackend('cpu');
  const [nchw, nhwc] = tf.tidy(() => {
    const x = tf.tensor4d(random(2 * 3 * 9 * 8), [2, 3, 9, 8]);
    const f = tf.tensor4d(random(3 * 3 * 3 * 4), [3, 3, 3, 4]);
    const grads = (x: T4, format: 'NCHW' | 'NHWC') =>
      tf.grads((x: Tensor, f: Tensor) => tf.sum(tf.sin(tf.conv2d(x as T4, f as T4, 1, 'same', format, 2))))([x, f]);
    const [dx1, df1] = grads(x, 'NCHW');
    const [dx2, df2] = grads(tf.transpose(x, [0, 2, 3, 1]), 'NHWC');
    return [
      [dx1, df1],
      [tf.transpose(dx2, [0, 3, 1, 2]), df2],
    ].map((gs) => gs.map((g) => g.dataSync().slice()));
  });
  assertRelClose(nchw[0], nhwc[0], 'dx', 1e-6);
  assertRelClose(nchw[1], nhwc[1], 'dW', 1e-6);
});

test('a dilated Conv2D layer trains: its gradients match central finite differences, its outputs the fused convolution (cpu, wasm)', async () => {
  const { tf } = await ready;
  for (const backend of BACKENDS) {
    await tf.setBackend(backend);
    for (const activation of ['linear', 'relu'] as const) {
      // Seeded, so that no pre-activation sits within h of relu's kink (finite differences fail there).
      const layer = tf.layers.conv2d({
        filters: 2,
        kernelSize: 3,
        dilationRate: 2,
        padding: 'same',
        activation,
        kernelInitializer: tf.initializers.glorotUniform({ seed: 21 }),
        biasInitializer: tf.initializers.randomNormal({ seed: 22 }),
      });
      const x = tf.tensor4d(random(1 * 6 * 5 * 2), [1, 6, 5, 2]);
      layer.apply(x);
      const [kernel, bias] = layer.trainableWeights.map((w) => w.read());
      const fused = tf.fused.conv2d({ x, filter: kernel as T4, strides: 1, pad: 'same', dilations: 2, bias, activation });
      assertRelClose((layer.apply(x) as Tensor).dataSync(), fused.dataSync(), `${backend} ${activation} forward`, 1e-6);
      // Central differences step over relu's kink when a pre-activation lies within h·(1 + |x|) of zero.
      const h = 1e-4;
      const pre = tf.fused.conv2d({ x, filter: kernel as T4, strides: 1, pad: 'same', dilations: 2, bias });
      const nearest = tf.min(tf.abs(pre)).dataSync()[0];
      assert.ok(activation === 'linear' || nearest > 4 * h, `a pre-activation at ${nearest} is too near the kink: change the seeds`);
      const probe = tf.tensor4d(random(fused.size), fused.shape as S4);
      const loss = () => tf.sum(tf.mul(layer.apply(x) as Tensor, probe)) as ReturnType<TF['scalar']>;
      const variables = layer.trainableWeights.map((w) => w.read() as Tensor & { name: string });
      const { grads } = tf.variableGrads(loss, variables as never);
      for (const [k, v] of layer.trainableWeights.entries()) {
        const shape = variables[k].shape;
        const values = variables[k].dataSync().slice();
        const numeric = values.map((_, i) => {
          const at = (delta: number) => {
            const moved = values.slice();
            moved[i] += delta;
            v.write(tf.tensor(moved, shape));
            return loss().dataSync()[0];
          };
          const slope = (at(h) - at(-h)) / (2 * h);
          v.write(tf.tensor(values, shape));
          return slope;
        });
        assertRelClose(grads[variables[k].name].dataSync(), numeric, `${backend} ${activation} ${v.name}`, 5e-3);
      }
      tf.dispose([x, fused, pre, probe, ...Object.values(grads)]);
      layer.dispose();
    }
  }
});

test('comparisons pass a zero gradient to their float operands (TensorFlow: not differentiable) instead of stopping backprop', async () => {
  const { tf } = await ready;
  for (const backend of BACKENDS) {
    await tf.setBackend(backend);
    const ops = [tf.equal, tf.notEqual, tf.greater, tf.less, tf.lessEqual, tf.greaterEqual];
    for (const op of ops) {
      const [dx, dm, kept] = tf.tidy(() => {
        const x = tf.tensor1d([0.5, -1, 2, 0]);
        const m = tf.tensor1d([1, 0, 1, 0.5]);
        const keep = (m: Tensor) => tf.cast(op(m as never, tf.scalar(0.5) as never), 'float32');
        const f = (x: Tensor, m: Tensor) => tf.sum(tf.mul(x, keep(m)));
        return [...tf.grads(f)([x, m]), keep(m)].map((g) => Array.from(g.dataSync()));
      });
      assert.deepEqual(dm, [0, 0, 0, 0], `${backend} ${op.name}: d/dm`);
      assert.deepEqual(dx, kept, `${backend} ${op.name}: d/dx is the comparison's 0/1`);
    }
  }
});

test('a softmax attention does not depend on its key bias, which is why the wasm-vs-cpu block test floors that gradient', async () => {
  const { tf } = await ready;
  await tf.setBackend('cpu');
  const block = registry.get('attention.multiHead')!;
  const { values } = resolveParams(block, { heads: 2 });
  const query = tf.input({ shape: [5, 8] }) as unknown as SymbolicTensor;
  const built = block.build(tf, {
    params: values,
    inputs: { query },
    inputShapes: { query: [null, 5, 8] },
    name: 'keybias',
    init: nodeInitializers(tf, 1, 'n'),
  });
  const model = tf.model({ inputs: query as never, outputs: [built.out, built.weights] as never });
  const keyBias = model.trainableWeights.find((w) => w.originalName.endsWith('key/bias'))!;
  const x = tf.randomNormal([2, 5, 8], 0, 1, 'float32', 1);
  const outputs = () => (model.predict(x) as Tensor[]).map((t) => t.dataSync().slice());
  const before = outputs();
  keyBias.write(tf.mul(tf.randomNormal(keyBias.shape as number[], 0, 1, 'float32', 2), 10));
  const after = outputs();
  assertRelClose(after[0], before[0], 'output', 1e-5);
  assertRelClose(after[1], before[1], 'attention weights', 1e-5);
});
