// The wasm SIMD filter gradient (engine/backends/wasm-filter-grad) against the
// cpu backend's Conv2DBackpropFilter, which sums each filter element in float64.
// The SIMD kernel sums in float32, per chunk of output rows, then adds the
// chunks: with K products in a sum, |wasm - cpu| <= (K + 2)·2⁻²⁴·Σ|x·dy| (its
// float32 sums, then cpu's own rounding to float32), Σ|x·dy| being cpu's
// gradient of |x| and |dy|. The shapes are small (K up to a few hundred), so a
// product missed or taken twice is far outside the bound.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectBackend } from '../engine/backends/select.js';
import { conv2dFilterGradOnHeap, filterGradKernel } from '../engine/backends/wasm-filter-grad.js';
import { geometry, type Pad, type T4 } from '../engine/backends/conv-grads.js';
import type { Tensor } from '../engine/blocks/contract.js';
import { seededUniform } from './helpers/numeric.js';

const ready = selectBackend({ backend: 'wasm' });
const random = seededUniform(4242);

interface Case {
  x: [number, number, number, number];
  k: [number, number];
  co: number;
  strides: [number, number];
  pad: Pad;
  dilations?: [number, number];
}

const explicit = (t: number, b: number, l: number, r: number): Pad => [
  [0, 0],
  [t, b],
  [l, r],
  [0, 0],
];

// Odd sizes, input channels 1 to 17 (tiles of 4 and single rows), output channels 4 to 20 (vectors of 8 and of 4), strides 1 to 3.
const CASES: Case[] = [
  { x: [2, 7, 9, 5], k: [3, 3], co: 8, strides: [1, 1], pad: 'same' },
  { x: [2, 7, 9, 5], k: [3, 3], co: 12, strides: [2, 2], pad: 'same' },
  { x: [3, 8, 8, 16], k: [3, 3], co: 16, strides: [1, 1], pad: 'same' },
  { x: [2, 9, 8, 7], k: [3, 3], co: 4, strides: [2, 2], pad: 'valid' },
  { x: [1, 11, 10, 3], k: [5, 5], co: 20, strides: [3, 3], pad: 'same' },
  { x: [2, 10, 9, 6], k: [2, 4], co: 8, strides: [1, 2], pad: 'same' },
  { x: [2, 6, 6, 16], k: [1, 1], co: 32, strides: [2, 2], pad: 'valid' },
  { x: [2, 9, 9, 6], k: [3, 3], co: 12, strides: [1, 1], pad: explicit(2, 1, 0, 3) },
  { x: [2, 9, 7, 17], k: [3, 2], co: 8, strides: [2, 1], pad: explicit(0, 2, 1, 0) },
  { x: [2, 8, 8, 2], k: [3, 3], co: 4, strides: [2, 2], pad: 1 },
  { x: [3, 9, 8, 1], k: [3, 3], co: 16, strides: [1, 1], pad: 'same' },
  { x: [1, 3, 4, 9], k: [5, 5], co: 8, strides: [1, 1], pad: 'same' },
  { x: [2, 14, 14, 32], k: [3, 3], co: 64, strides: [2, 2], pad: 'same' },
  { x: [1, 12, 12, 8], k: [3, 3], co: 8, strides: [1, 1], pad: 'same', dilations: [2, 2] },
  { x: [2, 11, 9, 5], k: [2, 3], co: 4, strides: [1, 1], pad: 'valid', dilations: [3, 2] },
];

const describe = (c: Case) => `x [${c.x}] k ${c.k} co ${c.co} stride ${c.strides} pad ${JSON.stringify(c.pad)} dilation ${c.dilations ?? 1}`;

/** Inputs of one case: x, and dy shaped as the forward output. */
function inputs(c: Case) {
  const [n, h, w, ci] = c.x;
  const x = random(n * h * w * ci, 2);
  return { x, dy: random(n * h * w * c.co * 4, 2) };
}

/**
 * The cpu backend's dW of x and dy, and of |x| and |dy| (Σ|x·dy| per element), as arrays;
 * a dilated case as the undilated filter's gradient at the taps of the spread filter.
 */
async function cpuReference(c: Case, xd: Float32Array, dyd: Float32Array) {
  const { tf } = await ready;
  await tf.setBackend('cpu');
  const [d0, d1] = c.dilations ?? [1, 1];
  const [kh, kw] = c.k;
  const [eh, ew] = [(kh - 1) * d0 + 1, (kw - 1) * d1 + 1];
  const out = tf.tidy(() => {
    const x = tf.tensor4d(xd, c.x);
    const y = tf.conv2d(x, tf.zeros([eh, ew, c.x[3], c.co]) as T4, c.strides, c.pad as 'same');
    const dy = tf.tensor4d(dyd.subarray(0, y.size), y.shape as never);
    const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dilations: 1, filterShape: [eh, ew, c.x[3], c.co] };
    const grad = (a: Tensor, b: Tensor) => {
      const full = tf.engine().runKernel('Conv2DBackpropFilter', { x: a, dy: b }, attrs) as T4;
      return tf.stridedSlice(full, [0, 0, 0, 0], [eh, ew, c.x[3], c.co], [d0, d1, 1, 1]);
    };
    return [grad(x, dy), grad(tf.abs(x), tf.abs(dy)), tf.scalar(y.shape[1]! * y.shape[2]! * c.x[0])].map((t) => t.dataSync().slice());
  });
  return { dw: out[0] as Float32Array, abs: out[1] as Float32Array, terms: out[2][0] };
}

/** The heap kernel's dW (fused or mul + add), and the registered wasm kernel's. */
async function wasmGrads(c: Case, xd: Float32Array, dyd: Float32Array, fused: boolean) {
  const { tf } = await ready;
  await tf.setBackend('wasm');
  const kernel = filterGradKernel(tf.backend(), fused);
  assert.ok(kernel, 'the SIMD filter gradient compiles on the wasm heap');
  return tf.tidy(() => {
    const [d0, d1] = c.dilations ?? [1, 1];
    const x = tf.tensor4d(xd, c.x);
    const y = tf.conv2d(x, tf.zeros([...c.k, c.x[3], c.co]) as T4, c.strides, c.pad as 'same', 'NHWC', [d0, d1]);
    const dy = tf.tensor4d(dyd.subarray(0, y.size), y.shape as never);
    const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dilations: [d0, d1], filterShape: [...c.k, c.x[3], c.co] };
    const info = conv2dFilterGradOnHeap(tf.backend() as never, kernel, x, dy, geometry(tf, c.x, attrs.filterShape, attrs, false));
    const direct = tf.engine().makeTensorFromTensorInfo(info as never) as Tensor;
    const registered = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs) as Tensor;
    return { direct: direct.dataSync().slice() as Float32Array, registered: registered.dataSync().slice() as Float32Array, fusedKernel: kernel.fused };
  });
}

/** The worst |wasm - cpu| relative to its bound (K + 2)·2⁻²⁴·Σ|x·dy|; at most 1 passes. */
function worstOverBound(wasm: Float32Array, cpu: { dw: Float32Array; abs: Float32Array; terms: number }): number {
  assert.equal(wasm.length, cpu.dw.length);
  let worst = 0;
  for (let i = 0; i < wasm.length; i++) {
    const bound = (cpu.terms + 2) * 2 ** -24 * cpu.abs[i] + Number.MIN_VALUE;
    worst = Math.max(worst, Math.abs(wasm[i] - cpu.dw[i]) / bound);
  }
  return worst;
}

test('SIMD filter gradient = cpu within (K + 2)·2⁻²⁴·Σ|x·dy|: odd sizes, 1..17 input channels, strides 1..3, same/valid/explicit/numeric pads, dilations; fused and mul + add', async () => {
  for (const c of CASES) {
    const { x, dy } = inputs(c);
    const cpu = await cpuReference(c, x, dy);
    for (const fused of [true, false]) {
      const wasm = await wasmGrads(c, x, dy, fused);
      const worst = worstOverBound(wasm.direct, cpu);
      assert.ok(worst <= 1, `${describe(c)} ${fused ? 'fused' : 'mul + add'}: error ${worst.toFixed(3)} of the bound`);
      if (fused) {
        assert.deepEqual(wasm.registered, wasm.direct, `${describe(c)}: the registered kernel is the SIMD one`);
      }
    }
  }
});

test('the filter gradient multiply-adds fused (relaxed SIMD) on this Node', async () => {
  const { tf } = await ready;
  await tf.setBackend('wasm');
  const kernel = filterGradKernel(tf.backend());
  assert.equal(kernel?.fused, true, 'relaxed SIMD compiled');
  assert.equal(filterGradKernel(tf.backend(), false)?.fused, false);
});

test('NCHW filter gradients and output channels not a multiple of 4 (the XNNPACK path) match cpu on wasm', async () => {
  const { tf } = await ready;
  for (const c of [
    { x: [2, 9, 8, 6], k: [3, 3], co: 8, strides: [2, 2], pad: 'same' },
    { x: [2, 9, 8, 6], k: [3, 3], co: 6, strides: [1, 1], pad: 'same' },
  ] as Case[]) {
    const { x: xd, dy: dyd } = inputs(c);
    const cpu = await cpuReference(c, xd, dyd);
    await tf.setBackend('wasm');
    const dw = tf.tidy(() => {
      const x = tf.tensor4d(xd, c.x);
      const y = tf.conv2d(x, tf.zeros([...c.k, c.x[3], c.co]) as T4, c.strides, c.pad as 'same');
      const dy = tf.tensor4d(dyd.subarray(0, y.size), y.shape as never);
      const nchw = (t: Tensor) => tf.transpose(t, [0, 3, 1, 2]);
      const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NCHW', dilations: 1, filterShape: [...c.k, c.x[3], c.co] };
      return (tf.engine().runKernel('Conv2DBackpropFilter', { x: nchw(x), dy: nchw(dy) }, attrs) as Tensor).dataSync().slice() as Float32Array;
    });
    assert.ok(worstOverBound(dw, cpu) <= 1, describe(c));
  }
});
