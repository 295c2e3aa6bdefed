// A Multiply by an operand spread over contiguous axes, and a Tile of one value
// per row, run in wasm SIMD on the heap (engine/backends/wasm-spread-simd.ts):
// the cpu backend's values to the bit, NaN, infinities and zeros' signs included,
// and shapes the SIMD leaves to the other paths (counts not a multiple of 4).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectBackend } from '../engine/backends/select.js';
import { onBackends, seededUniform } from './helpers/numeric.js';

const ready = selectBackend({ backend: 'wasm' });
const random = seededUniform(6271);

/** Random values with NaN, ±Infinity, ±0 and a tiny one among them. */
function values(n: number): Float32Array {
  const special = [NaN, Infinity, -Infinity, 0, -0, 1e-40];
  return random(n, 6).map((v, i) => (i % 7 === 2 ? special[(i >> 3) % special.length] : v));
}

const MULTIPLIES: [number[], number[]][] = [
  [
    [16, 28, 28, 16],
    [16, 1, 1, 16],
  ], // Squeeze-and-Excitation's scale
  [
    [4, 7, 7, 64],
    [4, 1, 1, 64],
  ],
  [
    [3, 5, 5, 16],
    [3, 5, 5, 1],
  ], // CBAM's spatial map
  [
    [3, 5, 5, 4],
    [3, 5, 5, 1],
  ],
  [
    [2, 3, 4, 8],
    [2, 1, 4, 8],
  ], // a spread over a middle axis
  [[6, 12], [12]], // a row over a matrix
  [
    [2, 3, 3, 8],
    [1, 1, 8],
  ],
  [
    [3, 5, 5, 6],
    [3, 1, 1, 6],
  ], // left to spreadThenApply
  [
    [3, 5, 5, 5],
    [3, 5, 5, 1],
  ], // left to wasm's broadcast
];

test('a Multiply by a spread operand on wasm equals the cpu backend to the bit, either operand first', async () => {
  const { tf } = await ready;
  for (const [big, small] of MULTIPLIES) {
    const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
    const [xs, ss] = [values(size(big)), values(size(small))];
    const { wasm, cpu } = await onBackends(tf, ['wasm', 'cpu'], () => {
      const [x, s] = [tf.tensor(xs, big), tf.tensor(ss, small)];
      return [tf.mul(x, s), tf.mul(s, x)];
    });
    for (const i of [0, 1]) {
      assert.deepEqual(wasm[i].shape, big, `${big} × ${small}`);
      assert.deepEqual(wasm[i].data, cpu[i].data, `${big} × ${small}, operand ${i ? 'small' : 'big'} first`);
    }
  }
});

test('a Tile of one value per row over a multiple of 4 columns on wasm equals the cpu backend', async () => {
  const { tf } = await ready;
  for (const [shape, reps] of [
    [
      [16, 28, 28, 1],
      [1, 1, 1, 16],
    ],
    [
      [3, 1],
      [1, 4],
    ],
    [
      [2, 5, 1],
      [1, 1, 12],
    ],
    [
      [2, 5, 1],
      [1, 1, 6],
    ],
    [
      [2, 5, 1],
      [2, 1, 8],
    ],
  ]) {
    const xs = values(shape.reduce((a, b) => a * b, 1));
    const { wasm, cpu } = await onBackends(tf, ['wasm', 'cpu'], () => [tf.tile(tf.tensor(xs, shape), reps)]);
    assert.deepEqual(wasm[0].shape, cpu[0].shape, `${shape} by ${reps}`);
    assert.deepEqual(wasm[0].data, cpu[0].data, `${shape} by ${reps}`);
  }
});
