// The attention maps' scales and tile sizes (renderer/src/attention/scale.ts):
// a uniform map keeps its flat colour under the shared scale, a per-map scale
// warns when it stretches a sliver of a range, and tiles grow to the room given.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sharedScale, sharedScales, stretchWarning, tileLayout, ticks } from '../renderer/src/attention/scale.js';

/** Weights 0.0995 … 0.101 over 49 positions: a softmax that learnt nothing. */
const nearUniform = Float32Array.from({ length: 49 }, (_, i) => 0.0995 + (0.0015 * i) / 48);

describe('attention map scales', () => {
  test('the shared scale starts at 0 for weights, so a near-uniform map spans under 2% of the colours', () => {
    const [lo, hi] = sharedScale([nearUniform]);
    assert.equal(lo, 0);
    assert.ok(Math.abs(hi - 0.101) < 1e-6);
    const spread = (0.101 - 0.0995) / (hi - lo);
    assert.ok(spread < 0.02, `spread ${spread}`);
  });

  test('the shared scale covers every map given, and keeps negative values', () => {
    assert.deepEqual(
      sharedScale([Float32Array.of(0.2, 0.5), Float32Array.of(0.1, 0.9)]).map((v) => Number(v.toFixed(3))),
      [0, 0.9],
    );
    assert.deepEqual(sharedScale([Float32Array.of(-2, 1)]), [-2, 1]);
    assert.deepEqual(sharedScale([]), [0, 1]);
  });

  test('one shared scale per kind of map', () => {
    const scales = sharedScales([
      { kind: 'spatial', data: Float32Array.of(0.1, 0.3) },
      { kind: 'spatial', data: Float32Array.of(0.2, 0.6) },
      { kind: 'gate', data: Float32Array.of(0.5, 1) },
    ]);
    assert.deepEqual(
      [...scales].map(([k, [lo, hi]]) => [k, lo, Number(hi.toFixed(3))]),
      [
        ['spatial', 0, 0.6],
        ['gate', 0, 1],
      ],
    );
  });

  test('a per-map scale over a range tiny next to the mean says so, with the range', () => {
    assert.equal(stretchWarning(nearUniform), 'range 0.0995–0.101: contrast stretched');
    assert.equal(stretchWarning(Float32Array.of(0, 0.2, 0.9)), null, 'a map with contrast gets no warning');
    assert.equal(stretchWarning(Float32Array.of(0.1, 0.1)), null, 'a constant map is not stretched (it has no range)');
  });

  test('the colour bar ticks run from the low to the high end', () => {
    assert.deepEqual(ticks([0, 0.2]), [0, 0.1, 0.2]);
  });
});

describe('tile layout', () => {
  test('one square map fills the width when the height allows, and shrinks to the height when not', () => {
    assert.deepEqual(tileLayout(1, 1, { width: 500, maxHeight: 800 }), { perRow: 1, tileW: 500, tileH: 500 });
    assert.deepEqual(tileLayout(1, 1, { width: 900, maxHeight: 400 }), { perRow: 1, tileW: 400, tileH: 400 });
  });

  test('four heads in a wide, short room go side by side; in a tall, narrow one, two by two', () => {
    assert.equal(tileLayout(4, 1, { width: 900, maxHeight: 240, gap: 6, extraH: 11 }).perRow, 4);
    assert.equal(tileLayout(4, 1, { width: 400, maxHeight: 900, gap: 6, extraH: 11 }).perRow, 1);
    const square = tileLayout(4, 1, { width: 600, maxHeight: 600, gap: 6, extraH: 11 });
    assert.equal(square.perRow, 2);
    assert.ok(square.tileW > 250, `${square.tileW}`);
  });

  test('without a height, tiles keep to the cap in the fewest rows, evenly filled', () => {
    assert.deepEqual(tileLayout(8, 1, { width: 900, max: 160, gap: 6 }), { perRow: 4, tileW: 160, tileH: 160 });
  });
});
