// The cpu backend's Conv2DBackpropFilter (engine/backends/cpu-conv-grads) against
// tfjs's own cpu kernel, which it replaces: the same sums in the same order, so
// every filter gradient must match to the bit, whatever the stride and padding.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tfReady } from './helpers/tf.js';
import { seededUniform } from './helpers/numeric.js';
import { stockCpuKernel } from '../engine/backends/cpu-conv-grads.js';
import type { TF } from '../engine/blocks/contract.js';

type S4 = [number, number, number, number];
type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
interface Case {
  x: S4;
  filter: S4;
  strides: [number, number];
  pad: Pad;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

const CASES: Case[] = [
  { x: [2, 5, 5, 3], filter: [1, 1, 3, 4], strides: [1, 1], pad: 'valid' },
  { x: [2, 6, 6, 4], filter: [1, 1, 4, 6], strides: [2, 2], pad: 'same' }, // a downsampling shortcut
  { x: [2, 7, 7, 3], filter: [3, 3, 3, 4], strides: [1, 1], pad: 'same' },
  { x: [3, 8, 9, 2], filter: [3, 3, 2, 5], strides: [2, 2], pad: 'same' }, // even size: asymmetric 'same' padding
  { x: [2, 9, 8, 3], filter: [3, 3, 3, 2], strides: [2, 2], pad: 'valid' },
  {
    x: [2, 6, 7, 2],
    filter: [3, 3, 2, 3],
    strides: [1, 2],
    pad: [
      [0, 0],
      [1, 2],
      [2, 0],
      [0, 0],
    ],
  },
  { x: [2, 7, 6, 2], filter: [3, 3, 2, 3], strides: [2, 2], pad: 1, dimRoundingMode: 'ceil' },
  { x: [2, 12, 11, 3], filter: [7, 7, 3, 4], strides: [2, 2], pad: 'same' }, // a ResNet stem
  { x: [2, 9, 9, 2], filter: [7, 7, 2, 3], strides: [1, 1], pad: 'valid' },
];

const random = seededUniform(1907);
const NAME = 'Conv2DBackpropFilter';

const describe = (c: Case) => `x ${c.x.join('x')}, filter ${c.filter.join('x')}, strides ${c.strides}, pad ${JSON.stringify(c.pad)}`;

/** The replacement as the engine dispatches it, and tfjs's own kernel, on the same x and dy. */
function bothGradients(tf: TF, c: Case, dataFormat: 'NHWC' | 'NCHW' = 'NHWC'): { ours: Float32Array; stock: Float32Array } {
  const info = tf.backend_util.computeConv2DInfo(c.x, c.filter, c.strides, 1, c.pad as 'same', c.dimRoundingMode);
  const toFormat = (s: number[]) => (dataFormat === 'NCHW' ? [s[0], s[3], s[1], s[2]] : s);
  const x = tf.tensor(random(c.x.reduce((a, b) => a * b)), toFormat(c.x));
  const dy = tf.tensor(random(info.outShape.reduce((a, b) => a * b)), toFormat(info.outShape));
  const attrs = { strides: c.strides, pad: c.pad, dataFormat, dimRoundingMode: c.dimRoundingMode, filterShape: c.filter };
  try {
    const ours = tf.engine().runKernel(NAME, { x, dy }, attrs as never) as ReturnType<TF['tensor']>;
    const stockInfo = stockCpuKernel(tf, NAME)({ inputs: { x, dy }, attrs, backend: tf.backend() });
    const stock = tf.engine().makeTensorFromTensorInfo(stockInfo as never);
    assert.deepEqual(ours.shape, stock.shape);
    const out = { ours: ours.dataSync() as Float32Array, stock: stock.dataSync() as Float32Array };
    tf.dispose([ours, stock]);
    return out;
  } finally {
    tf.dispose([x, dy]);
  }
}

function assertSameBits(ours: Float32Array, stock: Float32Array, what: string): void {
  const worst = ours.reduce((m, v, i) => Math.max(m, Math.abs(v - stock[i])), 0);
  assert.ok(
    Buffer.from(ours.buffer, ours.byteOffset, ours.byteLength).equals(Buffer.from(stock.buffer, stock.byteOffset, stock.byteLength)),
    `${what}: differs from tfjs's kernel by up to ${worst}`,
  );
}

test("the cpu backend runs the flat-array Conv2DBackpropFilter, not tfjs's own", async () => {
  const tf = await tfReady;
  const registered = tf.getKernel(NAME, 'cpu');
  assert.ok(registered, `no ${NAME} kernel on cpu`);
  const stock = stockCpuKernel(tf, NAME);
  assert.equal(stock.name, 'conv2DBackpropFilter', "the kept fallback is tfjs-backend-cpu's own kernel");
  assert.notEqual(registered.kernelFunc, stock);
});

test("cpu Conv2DBackpropFilter = tfjs's kernel to the bit (NHWC: 1x1, 3x3, 7x7; stride 1, 2, mixed; same, valid, explicit, numeric pads)", async () => {
  const tf = await tfReady;
  for (const c of CASES) {
    const { ours, stock } = bothGradients(tf, c);
    assert.ok(
      stock.some((v) => v !== 0),
      `${describe(c)}: the reference is all zeros`,
    );
    assertSameBits(ours, stock, describe(c));
  }
});

test("cpu Conv2DBackpropFilter hands NCHW to tfjs's kernel", async () => {
  const tf = await tfReady;
  const { ours, stock } = bothGradients(tf, CASES[3], 'NCHW');
  assertSameBits(ours, stock, `NCHW ${describe(CASES[3])}`);
});

test("a conv2d's filter gradient through tf.grad is tfjs's to the bit", async () => {
  const tf = await tfReady;
  const c = CASES[3];
  const x = tf.tensor4d(random(c.x.reduce((a, b) => a * b)), c.x);
  const w = tf.tensor4d(random(c.filter.reduce((a, b) => a * b)), c.filter);
  try {
    const dW = tf.grad((f) => tf.sum(tf.square(tf.conv2d(x, f as typeof w, c.strides, c.pad as 'same'))))(w);
    const dy = tf.mul(tf.conv2d(x, w, c.strides, c.pad as 'same'), 2);
    const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape: c.filter };
    const stock = tf.engine().makeTensorFromTensorInfo(stockCpuKernel(tf, NAME)({ inputs: { x, dy }, attrs, backend: tf.backend() }) as never);
    assertSameBits(dW.dataSync() as Float32Array, stock.dataSync() as Float32Array, `tf.grad of ${describe(c)}`);
    tf.dispose([dW, dy, stock]);
  } finally {
    tf.dispose([x, w]);
  }
});
