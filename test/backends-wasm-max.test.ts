// Max over contiguous axes on wasm in SIMD (engine/backends/wasm-max.ts): the cpu
// backend's values to the bit, including the order-dependent sign of a zero maximum
// and NaN, with and without keepDims; other axes and widths keep wasm's own Max.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectBackend } from '../engine/backends/select.js';
import { onBackends, seededUniform } from './helpers/numeric.js';

const ready = selectBackend({ backend: 'wasm' });
const random = seededUniform(7411);

/** Rows whose maximum is a zero of either sign, first in one order then the other, some of it across SIMD lanes. */
const ZERO_ROWS = [
  [-1, 0, -2, -0, -3, -4, -5, -6],
  [-0, -1, 0, -2, -3, -4, -5, -6],
  [-1, 0, -2, -3, -0, -4, -5, -6],
  [-1, -0, -2, -3, 0, -4, -5, -6],
  [-Infinity, -Infinity, -Infinity, -Infinity, -Infinity, -Infinity, -Infinity, -Infinity],
  [Infinity, 1, 2, 3, 4, 5, 6, Infinity],
];

test('Max over the last axis, middle axes or all of them on wasm equals the cpu backend to the bit', async () => {
  const { tf } = await ready;
  const cases: [number[], Float32Array][] = [
    [[16, 28, 28, 16], random(16 * 28 * 28 * 16, 4)],
    [[3, 5, 8], random(3 * 5 * 8, 4)],
    [[ZERO_ROWS.length, 8], Float32Array.from(ZERO_ROWS.flat())],
    [[2, 4], Float32Array.from([1, NaN, 3, 2, 5, 6, 7, 8])],
    [[3, 6], random(18, 4)], // left to wasm's own
    [[4], Float32Array.from([-0, 0, -1, -2])],
    // Down the rows: zeros of either sign first, and a NaN.
    [[1, 3, 4], Float32Array.from([-0, 0, -1, 0, 0, -0, -2, -0, -1, -1, -0, -3])],
    [[1, 3, 4], Float32Array.from([1, 2, 3, 4, 5, NaN, 7, 8, 9, 10, 11, 12])],
    [[2, 4, 3, 8], random(2 * 4 * 3 * 8, 4)],
  ];
  for (const [shape, xs] of cases) {
    const { wasm, cpu } = await onBackends(tf, ['wasm', 'cpu'], () => {
      const x = tf.tensor(xs, shape);
      const middle =
        shape.length > 2
          ? [
              tf.max(
                x,
                shape.slice(1, -1).map((_, i) => i + 1),
              ),
              tf.max(x, [0, shape.length - 1]),
            ]
          : [];
      return [tf.max(x, -1), tf.max(x, shape.length - 1, true), tf.max(x, 0), tf.max(x), tf.max(x, 0, true), ...middle];
    });
    wasm.forEach((w, i) => {
      assert.deepEqual(w.shape, cpu[i].shape, `${shape} #${i}`);
      assert.deepEqual(w.data, cpu[i].data, `${shape} #${i}`);
    });
  }
});
