// The training kernels registered for wasm agree with the cpu backend on random
// inputs, for every kernel size, stride and padding the conv blocks allow.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectBackend } from '../engine/backends/select.js';
import { WASM_TRAINING_KERNELS } from '../engine/backends/wasm-kernels.js';
import type { Tensor } from '../engine/blocks/contract.js';
import { seededUniform, assertRelClose } from './helpers/numeric.js';
import { spreadFilter } from './helpers/filters.js';

const ready = selectBackend({ backend: 'wasm' });

const random = seededUniform(12345);

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
          assertRelClose(wasm[0], cpu[0], `dx k${k} s${s}`);
          assertRelClose(wasm[1], cpu[1], `dW k${k} s${s}`);
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
          // Undilated: the taps spread d apart, [3, 3] -> [2d+1, 2d+1].
          const filter = dil === 1 ? spreadFilter(tf, tf.tensor4d(f, fShape), d) : tf.tensor4d(f, fShape);
          const y = tf.depthwiseConv2d(tf.tensor4d(x, xShape), filter, 1, pad, 'NHWC', dil);
          const dy = tf.tensor(dyd.subarray(0, y.size), y.shape);
          const attrs = { strides: 1, pad, dilations: dil };
          const dx = tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter }, { ...attrs, inputShape: xShape }) as Tensor;
          let dw = tf
            .engine()
            .runKernel('DepthwiseConv2dNativeBackpropFilter', { x: tf.tensor4d(x, xShape), dy }, { ...attrs, filterShape: filter.shape }) as Tensor;
          if (dil === 1) dw = tf.stridedSlice(dw, [0, 0, 0, 0], [e, e, 3, 2], [d, d, 1, 1]);
          return [dx.dataSync().slice(), dw.dataSync().slice()];
        });
      };
      const ref = await run('cpu', 1);
      const ours = await run('wasm', d);
      assertRelClose(ours[0], ref[0], `dx dilation ${d} ${pad}`);
      assertRelClose(ours[1], ref[1], `dW dilation ${d} ${pad}`);
    }
  }
});

test('Conv2DBackpropInput with explicit padding and stride 2: wasm matches cpu', async () => {
  const { tf } = await ready;
  const dyd = random(2 * 4 * 6 * 5);
  const fd = random(3 * 3 * 3 * 4);
  const pad = [
    [0, 0],
    [2, 1],
    [0, 2],
    [0, 0],
  ] as [[number, number], [number, number], [number, number], [number, number]];
  const { cpu, wasm } = await onBoth(() => [tf.conv2dTranspose(tf.tensor4d(dyd, [2, 6, 5, 4]), tf.tensor4d(fd, [3, 3, 3, 4]), [2, 11, 9, 3], 2, pad)]);
  assertRelClose(wasm[0], cpu[0], 'explicit padding');
});

test('UnsortedSegmentSum (the gradient of gather): wasm matches cpu, repeated and out-of-range ids', async () => {
  const { tf } = await ready;
  const data = random(7 * 3 * 2);
  const ids = [4, 0, 4, 2, -1, 9, 0];
  const table = random(6 * 5);
  const { cpu, wasm } = await onBoth(() => [
    tf.unsortedSegmentSum(tf.tensor3d(data, [7, 3, 2]), tf.tensor1d(ids, 'int32'), 6),
    tf.grad((t: Tensor) =>
      tf.sum(
        tf.mul(
          tf.gather(
            t,
            tf.tensor2d(
              [
                [1, 3, 1],
                [5, 1, 0],
              ],
              [2, 3],
              'int32',
            ),
          ),
          tf.range(0, 30).reshape([2, 3, 5]),
        ),
      ),
    )(tf.tensor2d(table, [6, 5])),
  ]);
  assertRelClose(wasm[0], cpu[0], 'unsortedSegmentSum');
  assertRelClose(wasm[1], cpu[1], 'gather gradient');
});

// The pooling block allows any size, stride and padding; windows overlap when
// stride < size. Inputs with few distinct values make ties in most windows, so
// the test also checks that the gradient goes to the first maximum as on cpu.
test('MaxPoolGrad, size 1..4, stride 1..3, same/valid, tied maxima: wasm matches cpu', async () => {
  const { tf } = await ready;
  for (const pad of ['same', 'valid'] as const) {
    for (const size of [1, 2, 3, 4]) {
      for (const stride of [1, 2, 3]) {
        const shape: [number, number, number, number] = [2, 7 + stride, 9 - (size % 2), 3];
        const xd = random(shape.reduce((a, b) => a * b)).map((v) => Math.round(v * 4));
        const dyd = random(xd.length);
        const { cpu, wasm } = await onBoth(() => {
          const x = tf.tensor4d(xd, shape);
          const y = tf.maxPool(x, size, stride, pad);
          const dy = tf.tensor(dyd.subarray(0, y.size), y.shape);
          return [tf.grad((x: Tensor) => tf.sum(tf.mul(tf.maxPool(x as never, size, stride, pad), dy)))(x)];
        });
        assertRelClose(wasm[0], cpu[0], `size ${size} stride ${stride} ${pad}`, 1e-6);
      }
    }
  }
});

test('MaxPoolGrad with -Infinity and NaN windows, and a batch-64 bench shape: wasm matches cpu', async () => {
  const { tf } = await ready;
  const xd = random(1 * 4 * 4 * 2);
  xd.fill(-Infinity, 0, 8); // the top-left 2x2 window of both channels: no maximum, no gradient
  xd[9] = NaN; // NaN never wins a window
  const big = random(64 * 28 * 28 * 4);
  const attrs = { filterSize: 2, strides: 2, pad: 'valid' };
  const { cpu, wasm } = await onBoth(() =>
    [tf.tensor4d(xd, [1, 4, 4, 2]), tf.tensor4d(big, [64, 28, 28, 4])].map((input) => {
      const output = tf.maxPool(input, 2, 2, 'valid');
      const dy = tf.onesLike(output).add(tf.range(0, output.size).reshape(output.shape));
      return tf.engine().runKernel('MaxPoolGrad', { dy, input, output }, attrs) as Tensor;
    }),
  );
  assert.deepEqual(Array.from(wasm[0]), Array.from(cpu[0]));
  assert.equal(
    wasm[0].slice(0, 8).every((v) => v === 0),
    true,
  );
  assert.equal(
    wasm[1].findIndex((v, i) => v !== cpu[1][i]),
    -1,
    'bench shape: first differing element',
  );
});

test('Conv2DBackpropFilter with few input channels (a matrix product where Co is not a multiple of 4, else the SIMD heap kernel; stride 1): wasm matches cpu, dilation and NCHW too', async () => {
  const { tf } = await ready;
  for (const [k, ci, co] of [
    [3, 1, 16],
    [1, 2, 3],
    [2, 2, 8],
    [3, 1, 9],
    [3, 1, 8],
    [5, 1, 4],
    [3, 4, 16],
  ]) {
    for (const pad of ['same', 'valid'] as const) {
      const shape: [number, number, number, number] = [3, 9, 8, ci];
      const xd = random(shape.reduce((a, b) => a * b));
      const dyd = random(3 * 9 * 8 * co);
      const { cpu, wasm } = await onBoth(() => {
        const x = tf.tensor4d(xd, shape);
        const y = tf.conv2d(x, tf.zeros([k, k, ci, co]) as never, 1, pad);
        const dy = tf.tensor4d(dyd.subarray(0, y.size), y.shape as never);
        const attrs = { strides: 1, pad, dataFormat: 'NHWC', dilations: 1, filterShape: [k, k, ci, co] };
        const nchw = (t: Tensor) => tf.transpose(t, [0, 3, 1, 2]);
        return [
          tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs) as Tensor,
          tf.engine().runKernel('Conv2DBackpropFilter', { x: nchw(x), dy: nchw(dy) }, { ...attrs, dataFormat: 'NCHW' }) as Tensor,
        ];
      });
      assertRelClose(wasm[0], cpu[0], `k${k} ci${ci} co${co} ${pad}`);
      assertRelClose(wasm[1], cpu[0], `k${k} ci${ci} co${co} ${pad} NCHW`);
    }
  }
  // Dilation: the cpu kernel ignores it, so the reference is the gradient of a conv with the filter spread by zeros.
  const xd = random(2 * 9 * 9 * 1);
  const dyd = random(2 * 5 * 5 * 12);
  const run = async (backend: string, k: number, dilations: number) => {
    await tf.setBackend(backend);
    return tf.tidy(() => {
      const [x, dy] = [tf.tensor4d(xd, [2, 9, 9, 1]), tf.tensor4d(dyd, [2, 5, 5, 12])];
      const dw = tf
        .engine()
        .runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: 'valid', dataFormat: 'NHWC', dilations, filterShape: [k, k, 1, 12] }) as Tensor;
      return (k === 5 ? tf.stridedSlice(dw, [0, 0, 0, 0], [5, 5, 1, 12], [2, 2, 1, 1]) : dw).dataSync().slice();
    });
  };
  assertRelClose(await run('wasm', 3, 2), await run('cpu', 5, 1), 'dilation 2');
});

test('Sum over contiguous axes (bias gradients) gives the cpu result to the bit on wasm; Mean matches', async () => {
  const { tf } = await ready;
  // [shape, axes, ours]: the cases wasm's own Sum keeps (and its Mean) add in float32 and differ in the last bits.
  const cases: [number[], number[], boolean][] = [
    [[4, 5, 6, 7], [0, 1, 2], true],
    [[4, 5, 6, 7], [1, 2], true],
    [[4, 5, 6, 7], [1], true],
    [[4, 5, 6, 7], [0], true],
    [[4, 1, 6, 7], [1, 2], true],
    [[3, 5, 1, 6, 1], [-4, -3], true],
    // wasm SIMD adds 16, 8 and 4 columns per pass: 29 = 16 + 8 + 4 + 1.
    [[3, 5, 29], [1], true],
    [[6, 7, 16], [0, 1], true],
    [[2, 3, 4, 12], [1, 2], true],
    [[4, 5, 6, 7], [2, 3], false],
    [[4, 5, 6, 7], [0, 2], false],
  ];
  for (const [shape, axes, ours] of cases) {
    const xd = random(shape.reduce((a, b) => a * b)).map((v) => v * 1000);
    for (const keepDims of [false, true]) {
      const { cpu, wasm } = await onBoth(() => {
        const x = tf.tensor(xd, shape);
        return [tf.sum(x, axes, keepDims), tf.mean(x, axes, keepDims), tf.sum(x.toInt(), axes, keepDims).toFloat()];
      });
      for (const [i, op] of ['sum', 'mean', 'int sum'].entries()) {
        const what = `${op} of ${shape} over ${axes}, keepDims ${keepDims}`;
        if (ours && op === 'sum') assert.deepEqual(Array.from(wasm[i]), Array.from(cpu[i]), what);
        else assertRelClose(wasm[i], cpu[i], what, 1e-6);
      }
    }
  }
  const { tf: t } = await ready;
  await t.setBackend('wasm');
  assert.deepEqual(
    t.tidy(() => t.sum(t.ones([3, 4, 2]), [0, 1], true).shape),
    [1, 1, 2],
  );
});

test('Mean gradient and Slice of every rank and dtype: wasm matches cpu', async () => {
  const { tf } = await ready;
  const xd = random(3 * 4 * 5 * 6);
  const wd = random(3 * 6);
  const { cpu, wasm } = await onBoth(() => {
    const x = tf.tensor4d(xd, [3, 4, 5, 6]);
    const w = tf.tensor(wd, [3, 1, 1, 6]);
    const out: Tensor[] = [tf.grad((x: Tensor) => tf.sum(tf.mul(tf.mean(x, [1, 2], true), w)))(x)];
    out.push(tf.slice(x, [1, 0, 2, 1], [2, 4, 3, 4]), tf.slice(x, [0, 1, 0, 0], [3, 2, 5, 6]), tf.slice(x, [2, 3, 4, 5], [1, 1, 1, 1]));
    out.push(tf.slice(x.reshape([360]), 7, 100), tf.slice(x.reshape([12, 30]), [3, 4], [5, -1]));
    out.push(tf.slice(x.reshape([3, 2, 2, 5, 6]), [1, 0, 1, 1, 0], [2, 2, 1, 3, 6]));
    out.push(tf.slice(x.toInt(), [0, 1, 1, 0], [2, 2, 2, 6]).toFloat(), tf.slice(tf.greater(x, 0), [1, 1, 0, 2], [1, 3, 5, 2]).toFloat());
    return out;
  });
  assertRelClose(wasm[0], cpu[0], 'mean gradient', 1e-6);
  for (let i = 1; i < cpu.length; i++) assert.deepEqual(Array.from(wasm[i]), Array.from(cpu[i]), `slice ${i}`);
});

test('BatchMatMul with transposed operands and batch broadcasting: wasm matches cpu', async () => {
  const { tf } = await ready;
  const a = random(2 * 3 * 4);
  const b = random(2 * 4 * 5);
  const { cpu, wasm } = await onBoth(() => {
    const out: Tensor[] = [];
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        const A = tf.tensor3d(a, ta ? [2, 4, 3] : [2, 3, 4]);
        const B = tf.tensor3d(b, tb ? [2, 5, 4] : [2, 4, 5]);
        out.push(tf.matMul(A, B, ta, tb), tf.matMul(A.slice(0, 1).reshape(A.shape.slice(1) as [number, number]), B, ta, tb));
      }
    }
    return out;
  });
  for (let i = 0; i < cpu.length; i++) assertRelClose(wasm[i], cpu[i], `product ${i}`, 1e-5);
});

test('Identity on wasm shares its input: clones and tensors saved for gradients outlive their source', async () => {
  const { tf } = await ready;
  await tf.setBackend('wasm');
  const before = tf.memory().numTensors;
  const a = tf.tensor1d([1, 2, 3]);
  const b = tf.clone(a);
  a.dispose();
  assert.deepEqual(Array.from(b.dataSync()), [1, 2, 3]);
  b.dispose();
  assert.equal(tf.memory().numTensors, before);
  const v = tf.variable(tf.tensor1d([1, 2]));
  const saved = tf.clone(v);
  v.assign(tf.tensor1d([5, 6]));
  assert.deepEqual(Array.from(saved.dataSync()), [1, 2], 'assign replaces a variable value, it does not write into it');
  tf.dispose([v, saved]);
});

test('Conv2DBackpropInput of strided convolutions, by phases: wasm matches cpu (ResNet downsampling, stride above the kernel, per-axis strides, NCHW)', async () => {
  const { tf } = await ready;
  type Pad4 = [[number, number], [number, number], [number, number], [number, number]];
  const cases: { x: [number, number, number, number]; k: [number, number]; co: number; strides: [number, number]; pad: 'same' | 'valid' | Pad4 }[] = [
    {
      x: [2, 8, 8, 3],
      k: [3, 3],
      co: 4,
      strides: [2, 2],
      pad: [
        [0, 0],
        [1, 1],
        [1, 1],
        [0, 0],
      ],
    }, // a ResNet stage's first conv
    { x: [2, 8, 8, 3], k: [1, 1], co: 5, strides: [2, 2], pad: 'valid' }, // its 1x1 shortcut: three phases get no tap
    { x: [1, 7, 10, 2], k: [3, 2], co: 3, strides: [2, 3], pad: 'same' },
    { x: [2, 9, 11, 2], k: [2, 2], co: 3, strides: [3, 3], pad: 'valid' },
    {
      x: [1, 9, 7, 3],
      k: [5, 4],
      co: 2,
      strides: [3, 2],
      pad: [
        [0, 0],
        [2, 0],
        [1, 3],
        [0, 0],
      ],
    },
    { x: [2, 5, 6, 4], k: [3, 3], co: 2, strides: [1, 2], pad: 'same' },
  ];
  for (const { x, k, co, strides, pad } of cases) {
    const fd = random(k[0] * k[1] * x[3] * co);
    const dyd = random(x[0] * x[1] * x[2] * co);
    const { cpu, wasm } = await onBoth(() => {
      const f = tf.tensor4d(fd, [k[0], k[1], x[3], co]);
      const y = tf.conv2d(tf.zeros(x) as never, f as never, strides, pad) as Tensor;
      const dy = tf.tensor4d(dyd.subarray(0, y.size), y.shape as never);
      const attrs = { strides, pad, dataFormat: 'NHWC', dilations: 1, inputShape: x };
      const nchw = (t: Tensor) => tf.transpose(t, [0, 3, 1, 2]);
      const dxNchw = tf
        .engine()
        .runKernel('Conv2DBackpropInput', { dy: nchw(dy), filter: f }, { ...attrs, dataFormat: 'NCHW', inputShape: [x[0], x[3], x[1], x[2]] }) as Tensor;
      return [tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: f }, attrs) as Tensor, tf.transpose(dxNchw, [0, 2, 3, 1])];
    });
    const what = `x ${x} k ${k} strides ${strides} ${JSON.stringify(pad)}`;
    assertRelClose(wasm[0], cpu[0], what, 1e-6);
    assertRelClose(wasm[1], cpu[0], `${what} NCHW`, 1e-6);
  }
});
