// The per-sentence word encoder of HAN (engine/blocks/per-sentence.ts): what is
// particular to it beyond test/block-conformance.test.ts. It must compute, for every
// sentence of a document, exactly what a GRU and attention pooling compute on that
// sentence alone (TimeDistributed), and say which sentences hold words.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as tfjs from '@tensorflow/tfjs';
import { compileGraph } from '../engine/compile/compile.js';
import { graph } from './helpers/graphs.js';
import { tfReady } from './helpers/tf.js';

const tf = await tfReady;
const [S, W, D, UNITS] = [3, 4, 5, 3];

/** One document-level model ([S, W, D] embedded words and [S, W] ids) and one sentence-level model ([W, D] and [W]). */
function models() {
  const doc = compileGraph(
    tf,
    graph(
      [
        ['x', 'io.input', { kind: 'image', height: S, width: W, channels: D }],
        ['ids', 'io.input', { kind: 'tokens', sentences: S, length: W, vocabSize: 9 }],
        ['han', 'core.perSentence', { units: UNITS, attentionUnits: 4 }],
        ['out', 'io.output', { loss: 'none' }],
        ['weights', 'io.output', { loss: 'none' }],
        ['sentences', 'io.output', { loss: 'none' }],
      ],
      [
        ['x.out', 'han.in'],
        ['ids.out', 'han.mask'],
        ['han.out', 'out.in'],
        ['han.weights', 'weights.in'],
        ['han.sentences', 'sentences.in'],
      ],
    ),
    { seed: 5 },
  );
  const sentence = compileGraph(
    tf,
    graph(
      [
        ['x', 'io.input', { kind: 'sequence', length: W, features: D }],
        ['ids', 'io.input', { kind: 'tokens', length: W, vocabSize: 9 }],
        ['gru', 'core.gru', { units: UNITS, returnSequences: true, bidirectional: true }],
        ['pool', 'attention.pooling', { units: 4 }],
        ['out', 'io.output', { loss: 'none' }],
        ['weights', 'io.output', { loss: 'none' }],
      ],
      [
        ['x.out', 'gru.in'],
        ['gru.out', 'pool.in'],
        ['ids.out', 'pool.mask'],
        ['pool.out', 'out.in'],
        ['pool.weights', 'weights.in'],
      ],
    ),
    { seed: 6 },
  );
  return { doc, sentence };
}

test('per sentence: every sentence gets what a GRU and attention pooling give it alone; padding sentences are masked', () => {
  const { doc, sentence } = models();
  try {
    // The same weights in both: the block's are the GRU's, then the pooling's, in the same order.
    const shapes = (m: tfjs.LayersModel) => m.getWeights().map((w) => w.shape.join('x'));
    assert.deepEqual(shapes(doc.model), shapes(sentence.model));
    const w = doc.model.getWeights().map((t) => tf.randomNormal(t.shape, 0, 0.5, 'float32', 11));
    doc.model.setWeights(w);
    sentence.model.setWeights(w);

    const x = tf.randomNormal([2, S, W, D], 0, 1, 'float32', 3);
    // Document 0: three sentences, the second one word long; document 1: one sentence, then padding.
    const ids = tf.tensor3d(
      [
        [
          [3, 4, 5, 0],
          [6, 0, 0, 0],
          [7, 8, 2, 1],
        ],
        [
          [2, 3, 0, 0],
          [0, 0, 0, 0],
          [0, 0, 0, 0],
        ],
      ],
      undefined,
      'int32',
    );
    const [out, weights, present] = (doc.model.predict([x, ids]) as tfjs.Tensor[]).map((t) => t.arraySync()) as [number[][][], number[][][], number[][]];
    assert.deepEqual(present, [
      [1, 1, 1],
      [1, 0, 0],
    ]);
    const idRows = ids.arraySync() as number[][][];
    for (let b = 0; b < 2; b++)
      for (let s = 0; s < S; s++) {
        if (!present[b][s]) continue;
        const xs = tf.slice(x, [b, s, 0, 0], [1, 1, W, D]).reshape([1, W, D]);
        const [alone, aloneWeights] = (sentence.model.predict([xs, tf.tensor2d([idRows[b][s]], undefined, 'int32')]) as tfjs.Tensor[]).map(
          (t) => (t.arraySync() as number[][])[0],
        );
        alone.forEach((v, k) => assert.ok(Math.abs(v - out[b][s][k]) < 1e-5, `document ${b}, sentence ${s}, feature ${k}: ${out[b][s][k]} vs ${v} alone`));
        aloneWeights.forEach((v, k) => assert.ok(Math.abs(v - weights[b][s][k]) < 1e-6, `document ${b}, sentence ${s}, word ${k}`));
        idRows[b][s].forEach((id, k) => id === 0 && assert.equal(weights[b][s][k], 0, `padding word ${k} of sentence ${s} gets no weight`));
      }
  } finally {
    doc.model.dispose();
    sentence.model.dispose();
  }
});
