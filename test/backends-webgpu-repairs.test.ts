// The repairs of engine/backends hold on webgpu: its resize and dilated
// convolution gradients equal the cpu backend's, which
// backends-gradient-repairs.test.ts checks against references that use no
// gradient kernel. Read back with data(): in Node, tfjs' webgpu backend cannot
// read a GPU tensor synchronously.
import { test } from 'node:test';
import type { Tensor, TF } from '../engine/blocks/contract.js';
import { assertRelClose, seededUniform } from './helpers/numeric.js';
import { webgpuOrSkip } from './helpers/webgpu.js';

type T4 = ReturnType<TF['tensor4d']>;
const random = seededUniform(7);

/** What `compute` gives on cpu and on webgpu (its tensors read back and disposed). */
async function onBoth(tf: TF, compute: () => Tensor[]): Promise<{ cpu: Float32Array[]; webgpu: Float32Array[] }> {
  const run = async (backend: string) => {
    await tf.setBackend(backend);
    const ts = tf.tidy(compute);
    const values = await Promise.all(ts.map(async (t) => Float32Array.from((await t.data()) as Float32Array)));
    tf.dispose(ts);
    return values;
  };
  return { cpu: await run('cpu'), webgpu: await run('webgpu') };
}

test('resize gradients on webgpu equal the repaired cpu ones (nearest, bilinear; align corners, half-pixel centres)', { timeout: 300_000 }, async (t) => {
  const got = await webgpuOrSkip(t, 'the resize gradients on webgpu');
  if (!got) return;
  const { tf } = got;
  const images: [number, number, number, number] = [2, 5, 7, 3];
  const x = random(2 * 5 * 7 * 3);
  for (const size of [
    [10, 14],
    [3, 9],
  ] as [number, number][]) {
    const dy = random(2 * size[0] * size[1] * 3);
    for (const method of ['nearest', 'bilinear'] as const)
      for (const [alignCorners, halfPixelCenters] of [
        [false, false],
        [true, false],
        [false, true],
      ]) {
        const { cpu, webgpu } = await onBoth(tf, () => {
          const resize = (v: Tensor) =>
            (method === 'nearest' ? tf.image.resizeNearestNeighbor : tf.image.resizeBilinear)(v as T4, size, alignCorners, halfPixelCenters);
          const dyT = tf.tensor4d(dy, [2, ...size, 3]);
          return [tf.grad((v: Tensor) => tf.sum(tf.mul(resize(v), dyT)))(tf.tensor4d(x, images))];
        });
        assertRelClose(webgpu[0], cpu[0], `${method} ${size.join('x')} alignCorners=${alignCorners} halfPixelCenters=${halfPixelCenters}`, 1e-5);
      }
  }
});

test('dilated convolutions train on webgpu: op and layer gradients equal the repaired cpu ones', { timeout: 300_000 }, async (t) => {
  const got = await webgpuOrSkip(t, 'the dilated convolution gradients on webgpu');
  if (!got) return;
  const { tf } = got;
  const x = random(2 * 11 * 10 * 3);
  const f = random(3 * 3 * 3 * 4);
  for (const d of [2, 3])
    for (const pad of ['same', 'valid'] as const) {
      const { cpu, webgpu } = await onBoth(tf, () => {
        const conv = (xv: Tensor, fv: Tensor) => tf.conv2d(xv as T4, fv as T4, 1, pad, 'NHWC', d);
        return tf.grads((xv: Tensor, fv: Tensor) => tf.sum(tf.sin(conv(xv, fv))))([tf.tensor4d(x, [2, 11, 10, 3]), tf.tensor4d(f, [3, 3, 3, 4])]);
      });
      assertRelClose(webgpu[0], cpu[0], `dx dilation ${d} ${pad}`);
      assertRelClose(webgpu[1], cpu[1], `dW dilation ${d} ${pad}`);
    }
  // The layer (linear activation: tfjs-layers would run the fused op, whose gradient refuses dilation).
  await tf.setBackend('cpu');
  const layer = tf.layers.conv2d({
    filters: 2,
    kernelSize: 3,
    dilationRate: 2,
    padding: 'same',
    kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
  });
  const input = tf.tensor4d(random(6 * 5 * 2), [1, 6, 5, 2]);
  layer.apply(input);
  const vars = layer.trainableWeights.map((w) => w.read() as Tensor & { name: string });
  const { cpu, webgpu } = await onBoth(tf, () => {
    const { grads } = tf.variableGrads(() => tf.sum(tf.sin(layer.apply(input) as Tensor)) as ReturnType<TF['scalar']>, vars as never);
    return vars.map((v) => grads[v.name]);
  });
  vars.forEach((v, i) => assertRelClose(webgpu[i], cpu[i], `layer ${v.name}`));
  input.dispose();
  layer.dispose();
});
