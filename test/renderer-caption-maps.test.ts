// A caption decoder's attention [words × grid] beside its caption: the generic map
// panel labels its rows as words, not heads (the probe sample's words where the
// probes recorded them, "word t" where not), and Inspect leaves that panel out where
// the caption figure already draws the same weights, each labelled by its word over
// the image (a second copy labelled by index only repeats it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AttentionMap } from '../common/host-api/api.js';
import { besideCaption, captionRowLabels, viewOf } from '../renderer/src/attention/maps.js';

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

test('with the probes’ caption, the decoder’s rows read the words written, the true word where it differs; "word t" where neither is known', () => {
  // Sample 1 of two probe samples: the decoder wrote "three one <end>" for the true "three four"; sample 0 is a decoy.
  const caption = {
    words: [
      ['zero', '<end>'],
      ['three', 'one', '<end>'],
    ],
    truth: [['zero'], ['three', 'four']],
    steps: 6,
  };
  const two = map('decoder', 'attention', 'batch, word, row, column', [2, 6, 2, 12]);
  const labels = (v: ReturnType<typeof viewOf>) => (v.draw === 'tiles' ? v.tiles.map((t) => t.label) : []);
  assert.deepEqual(labels(viewOf(two, 1, captionRowLabels(caption, 1))), ['1 three', '2 one (true four)', '3 <end>', 'word 3', 'word 4', 'word 5']);
  // The decoder stopped early: the steps after its <end> carry the truth alone.
  assert.deepEqual(captionRowLabels({ words: [['two', '<end>']], truth: [['two', 'five']], steps: 4 }, 0), [
    '1 two',
    '2 <end> (true five)',
    '3 – (true <end>)',
    undefined,
  ]);
  // A record without true captions (a dropped image), and a sample the record lacks.
  assert.deepEqual(captionRowLabels({ words: [['six', '<end>']], steps: 3 }, 0), ['1 six', '2 <end>', undefined]);
  assert.deepEqual(
    labels(viewOf(two, 0, captionRowLabels({ words: [], steps: 6 }, 0))),
    Array.from({ length: 6 }, (_, t) => `word ${t}`),
  );
  // Labels name a caption decoder's words only: a self-attention keeps its heads.
  assert.deepEqual(labels(viewOf(heads, 0, ['a', 'b'])), ['head 0', 'head 1']);
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
