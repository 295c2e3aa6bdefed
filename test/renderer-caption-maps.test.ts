// A caption decoder's attention [words × grid] beside its caption: the generic map
// panel labels its rows as words, not heads, and Inspect leaves that panel out where
// the caption figure already draws the same weights, each labelled by its word over
// the image (a second copy labelled by index only repeats it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AttentionMap } from '../common/host-api/api.js';
import { besideCaption, viewOf } from '../renderer/src/attention/maps.js';

const map = (nodeId: string, port: string, axes: string, shape: number[]): AttentionMap => {
  const n = shape.reduce((a, b) => a * b, 1);
  return { nodeId, port, kind: 'matrix', axes, shape, fullShape: shape, data: Float32Array.from({ length: n }, (_, i) => i / n) };
};

// The Show, Attend and Tell decoder's port: one probe sample, 6 words over a 2 × 12 grid.
const decoder = map('decoder', 'attention', 'batch, word, row, column', [1, 6, 2, 12]);
const heads = map('mhsa', 'attention', 'batch, head, query, key', [1, 2, 4, 4]);

test('the rows of a caption decoder’s attention are labelled as words, a self-attention’s as heads', () => {
  const words = viewOf(decoder, 0);
  assert.equal(words.draw, 'tiles');
  assert.deepEqual(
    words.draw === 'tiles' && words.tiles.map((t) => [t.label, t.rows, t.cols]),
    Array.from({ length: 6 }, (_, t) => [`word ${t}`, 2, 12]),
  );
  const h = viewOf(heads, 0);
  assert.deepEqual(h.draw === 'tiles' && h.tiles.map((t) => t.label), ['head 0', 'head 1']);
});

test('beside a caption, the generic panels leave out the decoder’s attention that the caption figure draws', () => {
  const maps = [heads, decoder];
  assert.deepEqual(
    besideCaption(maps, { nodeId: 'decoder', port: 'attention' }).map((m) => m.nodeId),
    ['mhsa'],
  );
  assert.deepEqual(
    besideCaption(maps, undefined).map((m) => m.nodeId),
    ['mhsa', 'decoder'],
  );
});
