// cpuWorkers 'auto' weighs a step by its multiply-adds: those of the weight matrices
// and, since dot-product attention has no weights, its QKᵀ and AV products too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileGraph } from '../engine/compile/compile.js';
import { macsPerSample } from '../engine/train/data-parallel.js';
import { chain, graph } from './helpers/graphs.js';
import { tfReady } from './helpers/tf.js';

test("a Transformer encoder layer's multiply-adds per sample count its attention products beside its weights", async () => {
  const tf = await tfReady;
  const [t, d, ff] = [5, 8, 16];
  const g = graph(
    [
      ['x', 'io.input', { kind: 'sequence', length: t, features: d }],
      ['enc', 'attention.transformerEncoder', { heads: 2, ffDim: ff, dropout: 0 }],
      ['out', 'io.output', {}],
    ],
    chain('x', 'enc', 'out'),
  );
  const { model } = compileGraph(tf, g);
  const projections = 4 * d * d * t; // query, key, value, output
  const feedForward = 2 * d * ff * t;
  const attention = t * t * (d + d); // QKᵀ over the heads' query sizes, then the weights times V
  assert.equal(macsPerSample(model), projections + feedForward + attention);
  model.dispose();
});
