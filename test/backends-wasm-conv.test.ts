// The wasm SIMD stride-1 convolution (engine/backends/wasm-conv) against the cpu
// backend's Conv2D: to the bit with fused multiply-adds (the same sums in the
// same order, one rounding per step), and within (K + 1)·2⁻²⁴·Σ|x·F| with
// multiply and add (K products per output, Σ|x·F| being cpu's convolution of
// |x| and |F|).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectBackend } from '../engine/backends/select.js';
import { conv2dOnHeap, convKernel, convOnHeapPays } from '../engine/backends/wasm-conv.js';
import { geometry, type Pad, type T4 } from '../engine/backends/conv-grads.js';
import type { Tensor } from '../engine/blocks/contract.js';
import { seededUniform } from './helpers/numeric.js';

const ready = selectBackend({ backend: 'wasm' });
const random = seededUniform(777);

interface Case {
  x: [number, number, number, number];
  k: [number, number];
  co: number;
  pad: Pad;
}

// Odd sizes (rows of 1 to 4 pixels' tiles and edges), 1 to 17 input channels, output channels 4 to 20, every padding form.
const CASES: Case[] = [
  { x: [2, 7, 9, 5], k: [3, 3], co: 8, pad: 'same' },
  { x: [2, 7, 9, 5], k: [3, 3], co: 12, pad: 'valid' },
  { x: [1, 6, 11, 16], k: [5, 5], co: 16, pad: 'same' },
  { x: [2, 5, 5, 3], k: [7, 7], co: 4, pad: 'same' },
  {
    x: [2, 9, 9, 6],
    k: [3, 2],
    co: 20,
    pad: [
      [0, 0],
      [2, 1],
      [0, 3],
      [0, 0],
    ],
  },
  { x: [2, 14, 14, 17], k: [3, 3], co: 32, pad: 'same' },
  { x: [1, 8, 13, 1], k: [1, 4], co: 8, pad: 2 },
  { x: [1, 3, 2, 4], k: [3, 3], co: 4, pad: 'valid' },
];

const describe = (c: Case) => `x [${c.x}] k ${c.k} co ${c.co} pad ${JSON.stringify(c.pad)}`;

async function cpuConv(c: Case, xd: Float32Array, fd: Float32Array) {
  const { tf } = await ready;
  await tf.setBackend('cpu');
  return tf.tidy(() => {
    const [x, f] = [tf.tensor4d(xd, c.x), tf.tensor4d(fd, [...c.k, c.x[3], c.co])];
    return [tf.conv2d(x, f, 1, c.pad as 'same'), tf.conv2d(tf.abs(x), tf.abs(f), 1, c.pad as 'same')].map((t) => t.dataSync().slice() as Float32Array);
  });
}

async function heapConv(c: Case, xd: Float32Array, fd: Float32Array, fused: boolean) {
  const { tf } = await ready;
  await tf.setBackend('wasm');
  const row = convKernel(tf.backend(), c.x[3], fused);
  assert.ok(row, 'the SIMD convolution compiles on the wasm heap');
  return tf.tidy(() => {
    const [x, f] = [tf.tensor4d(xd, c.x), tf.tensor4d(fd, [...c.k, c.x[3], c.co])];
    const info = conv2dOnHeap(tf.backend() as never, row, x, f, geometry(tf, c.x, f.shape, { strides: 1, pad: c.pad }, false));
    return (tf.engine().makeTensorFromTensorInfo(info as never) as Tensor).dataSync().slice() as Float32Array;
  });
}

test('SIMD stride-1 conv = cpu: to the bit fused, within (K + 1)·2⁻²⁴·Σ|x·F| with mul + add; odd sizes, 1..17 channels, every padding', async () => {
  for (const c of CASES) {
    const xd = random(
      c.x.reduce((a, b) => a * b),
      2,
    );
    const fd = random(c.k[0] * c.k[1] * c.x[3] * c.co, 2);
    const [cpu, abs] = await cpuConv(c, xd, fd);
    const fused = await heapConv(c, xd, fd, true);
    assert.equal(fused.length, cpu.length, describe(c));
    assert.equal(
      fused.findIndex((v, i) => !Object.is(v, cpu[i])),
      -1,
      `${describe(c)} fused: first differing element`,
    );
    const plain = await heapConv(c, xd, fd, false);
    const terms = c.k[0] * c.k[1] * c.x[3];
    for (let i = 0; i < cpu.length; i++)
      assert.ok(Math.abs(plain[i] - cpu[i]) <= (terms + 1) * 2 ** -24 * abs[i], `${describe(c)} mul + add: element ${i} ${plain[i]} against ${cpu[i]}`);
  }
});

test('wasm Conv2D and FusedConv2D take the heap kernel where it pays (rows mostly in 4-pixel tiles), XNNPACK elsewhere, both matching cpu', async () => {
  const { tf } = await ready;
  const info = (x: number[], k: number) => geometry(tf, x, [k, k, x[3], 8], { strides: 1, pad: 'same' }, false);
  assert.equal(convOnHeapPays(info([1, 28, 28, 16], 3)), true);
  assert.equal(convOnHeapPays(info([1, 14, 14, 32], 3)), true);
  assert.equal(convOnHeapPays(info([1, 7, 7, 64], 3)), false);
  for (const c of [
    { x: [2, 12, 14, 6], k: [3, 3], co: 8, pad: 'same' },
    { x: [2, 7, 7, 6], k: [3, 3], co: 8, pad: 'same' },
  ] as Case[]) {
    const xd = random(
      c.x.reduce((a, b) => a * b),
      2,
    );
    const fd = random(c.k[0] * c.k[1] * c.x[3] * c.co, 2);
    const [cpu] = await cpuConv(c, xd, fd);
    const direct = await heapConv(c, xd, fd, true);
    await tf.setBackend('wasm');
    const [plain, fused] = tf.tidy(() => {
      const [x, f] = [tf.tensor4d(xd, c.x), tf.tensor4d(fd, [...c.k, c.x[3], c.co]) as T4];
      return [tf.conv2d(x, f, 1, c.pad as 'same'), tf.fused.conv2d({ x, filter: f, strides: 1, pad: c.pad as 'same' })].map((t) => t.dataSync().slice());
    });
    const onHeap = c.x[2] === 14;
    for (const [what, got] of [
      ['Conv2D', plain],
      ['FusedConv2D', fused],
    ] as const) {
      assert.equal(
        got.every((v, i) => v === direct[i]),
        onHeap,
        `${describe(c)} ${what}: ${onHeap ? 'the heap kernel' : 'XNNPACK, which rounds otherwise'}`,
      );
      for (let i = 0; i < cpu.length; i++) assert.ok(Math.abs(got[i] - cpu[i]) <= 1e-5 * (1 + Math.abs(cpu[i])), `${describe(c)} ${what}: element ${i}`);
    }
  }
});
