// The training kernels registered for wasm agree with the cpu backend on random
// inputs, for every kernel size, stride and padding the conv blocks allow.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectBackend } from '../engine/backends/select.js';
import { WASM_TRAINING_KERNELS } from '../engine/backends/wasm-kernels.js';
import type { Tensor } from '../engine/blocks/contract.js';

const ready = selectBackend({ backend: 'wasm' });

let seed = 12345;
const random = (n: number) =>
  Float32Array.from({ length: n }, () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648 - 0.5;
  });

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, tol = 1e-4) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let diff = 0;
  let scale = 1e-6;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  assert.ok(diff / scale < tol, `${what}: relative error ${(diff / scale).toExponential(2)}`);
}

/** Runs `f` on the cpu backend and on wasm, returning each one's results as arrays. */
async function onBoth(f: () => Tensor[]): Promise<{ cpu: Float32Array[]; wasm: Float32Array[] }> {
  const { tf } = await ready;
  const run = async (b: string) => {
    await tf.setBackend(b);
    return tf.tidy(f).map((t) => {
      const d = t.dataSync() as Float32Array;
      t.dispose();
      return d;
    });
  };
  return { cpu: await run('cpu'), wasm: await run('wasm') };
}

test('the wasm backend has every training kernel', async () => {
  const { tf } = await ready;
  for (const k of WASM_TRAINING_KERNELS) assert.ok(tf.getKernel(k, 'wasm'), k);
});

for (const depthwise of [false, true]) {
  const op = depthwise ? 'depthwiseConv2d' : 'conv2d';
  for (const pad of ['same', 'valid'] as const) {
    test(`${op} gradients, kernel 1..7, stride 1..3, ${pad}: wasm matches cpu`, async () => {
      const { tf } = await ready;
      for (const k of [1, 2, 3, 4, 5, 6, 7]) {
        for (const s of [1, 2, 3]) {
          const [n, h, w, c, m] = [2, 7 + s + (k % 3), 9 - (k % 2), 3, depthwise ? 2 : 4];
          const xd = random(n * h * w * c);
          const wd = random(k * k * c * m);
          const dyd = random(n * h * w * c * m); // at least the output's size
          const { cpu, wasm } = await onBoth(() => {
            const x = tf.tensor4d(xd, [n, h, w, c]);
            const f = tf.tensor4d(wd, [k, k, c, m]);
            const conv = (x: Tensor, f: Tensor): Tensor =>
              depthwise ? tf.depthwiseConv2d(x as never, f as never, s, pad) : tf.conv2d(x as never, f as never, s, pad);
            const y = conv(x, f);
            const dy = tf.tensor(dyd.subarray(0, y.size), y.shape);
            return tf.grads((x: Tensor, f: Tensor) => tf.sum(tf.mul(conv(x, f), dy)))([x, f]);
          });
          assertClose(wasm[0], cpu[0], `dx k${k} s${s}`);
          assertClose(wasm[1], cpu[1], `dW k${k} s${s}`);
        }
      }
    });
  }
}

// tfjs's conv gradients refuse dilation > 1 (and the cpu kernels ignore it), but
// the depthwise kernels take one. Reference: the undilated cpu kernels with the
// filter spread out by zeros, which is the same convolution.
test('depthwise backprop kernels with dilation 2 and 3 match the zero-spread undilated cpu kernels', async () => {
  const { tf } = await ready;
  type S4 = [number, number, number, number];
  for (const d of [2, 3]) {
    for (const pad of ['same', 'valid'] as const) {
      const xShape: S4 = [2, 11, 10, 3];
      const fShape: S4 = [3, 3, 3, 2];
      const e = 2 * d + 1;
      const x = random(2 * 11 * 10 * 3);
      const f = random(3 * 3 * 3 * 2);
      const dyd = random(2 * 11 * 10 * 6);
      const run = async (backend: string, dil: number) => {
        await tf.setBackend(backend);
        return tf.tidy(() => {
          let filter = tf.tensor4d(f, fShape);
          if (dil === 1) {
            // Spread the taps d apart: [3, 3] -> [2d+1, 2d+1].
            const rows = tf.pad(filter.reshape([3, 1, 3, 1, 3, 2]), [[0, 0], [0, d - 1], [0, 0], [0, d - 1], [0, 0], [0, 0]]).reshape([3 * d, 3 * d, 3, 2]);
            filter = tf.slice(rows, 0, [e, e, 3, 2]) as typeof filter;
          }
          const y = tf.depthwiseConv2d(tf.tensor4d(x, xShape), filter, 1, pad, 'NHWC', dil);
          const dy = tf.tensor(dyd.subarray(0, y.size), y.shape);
          const attrs = { strides: 1, pad, dilations: dil };
          const dx = tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter }, { ...attrs, inputShape: xShape }) as Tensor;
          let dw = tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x: tf.tensor4d(x, xShape), dy }, { ...attrs, filterShape: filter.shape }) as Tensor;
          if (dil === 1) dw = tf.stridedSlice(dw, [0, 0, 0, 0], [e, e, 3, 2], [d, d, 1, 1]);
          return [dx.dataSync().slice(), dw.dataSync().slice()];
        });
      };
      const ref = await run('cpu', 1);
      const ours = await run('wasm', d);
      assertClose(ours[0], ref[0], `dx dilation ${d} ${pad}`);
      assertClose(ours[1], ref[1], `dW dilation ${d} ${pad}`);
    }
  }
});

test('Conv2DBackpropInput with explicit padding and stride 2: wasm matches cpu', async () => {
  const { tf } = await ready;
  const dyd = random(2 * 4 * 6 * 5);
  const fd = random(3 * 3 * 3 * 4);
  const pad = [[0, 0], [2, 1], [0, 2], [0, 0]] as [[number, number], [number, number], [number, number], [number, number]];
  const { cpu, wasm } = await onBoth(() => [
    tf.conv2dTranspose(tf.tensor4d(dyd, [2, 6, 5, 4]), tf.tensor4d(fd, [3, 3, 3, 4]), [2, 11, 9, 3], 2, pad),
  ]);
  assertClose(wasm[0], cpu[0], 'explicit padding');
});

test('UnsortedSegmentSum (the gradient of gather): wasm matches cpu, repeated and out-of-range ids', async () => {
  const { tf } = await ready;
  const data = random(7 * 3 * 2);
  const ids = [4, 0, 4, 2, -1, 9, 0];
  const table = random(6 * 5);
  const { cpu, wasm } = await onBoth(() => [
    tf.unsortedSegmentSum(tf.tensor3d(data, [7, 3, 2]), tf.tensor1d(ids, 'int32'), 6),
    tf.grad((t: Tensor) => tf.sum(tf.mul(tf.gather(t, tf.tensor2d([[1, 3, 1], [5, 1, 0]], [2, 3], 'int32')), tf.range(0, 30).reshape([2, 3, 5]))))(
      tf.tensor2d(table, [6, 5]),
    ),
  ]);
  assertClose(wasm[0], cpu[0], 'unsortedSegmentSum');
  assertClose(wasm[1], cpu[1], 'gather gradient');
});
