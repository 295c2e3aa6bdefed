// Export of the vision attention blocks (SE, CBAM and its halves, non-local, attention branch, gates) and the
// structured ones (residual attention, Attend and Rectify + global gate, local self-attention 2D, augmented conv):
// a stack of them and the small templates built on them, to all three targets (every block example is
// exported by test/block-conformance.test.ts), plus the readability rules: one documented helper per
// block, emitted once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exportPytorch } from '../engine/export/pytorch.js';
import { exportKeras } from '../engine/export/keras.js';
import { exportTfjs } from '../engine/export/tfjs.js';
import type { GraphFile } from '../engine/graph/types.js';
import { tfReady } from './helpers/tf.js';
import { graph, loadTemplate, templateFiles } from './helpers/graphs.js';
import { assertTfjsExportMatches, pyCompileSubtests } from './helpers/exports.js';
import { skipWithoutTorch, torchExportSubtests } from './helpers/torch.js';

const VISION = [
  'attention.squeezeExcitation',
  'attention.cbam',
  'attention.cbamChannel',
  'attention.cbamSpatial',
  'attention.nonLocal',
  'attention.attentionBranch',
  'attention.highwayGate',
  'attention.gate',
];
const STRUCTURED = [
  'attention.residualAttention',
  'attention.attendRectify',
  'attention.globalGate',
  'attention.localSelfAttention2d',
  'attention.augmentedConv',
];

// Every block example goes through test/block-conformance.test.ts; these are the cases the examples leave out.
const cases: { name: string; graph: GraphFile }[] = [];

// Two CBAMs and an SE in a row: helpers once each, distinct modules, weights of both CBAMs mapped.
const stacked = graph(
  [
    ['x', 'io.input', { kind: 'image', height: 8, width: 8, channels: 6 }],
    ['c1', 'attention.cbam', { reduction: 2 }],
    ['c2', 'attention.cbam', { reduction: 3, kernel: 3 }],
    ['se', 'attention.squeezeExcitation', { reduction: 2 }],
    ['y', 'io.output', { loss: 'none' }],
  ],
  [
    ['x.out', 'c1.in'],
    ['c1.out', 'c2.in'],
    ['c2.out', 'se.in'],
    ['se.out', 'y.in'],
  ],
  'stacked vision attention',
);
cases.push({ name: 'stacked CBAM, CBAM, SE', graph: stacked });
// The small templates built on the vision blocks (the structured ones' templates are large networks that
// test/export.test.ts already runs).
for (const file of templateFiles()) {
  const g = loadTemplate(file);
  if (g.nodes.some((n) => VISION.includes(n.type)) && !g.nodes.some((n) => STRUCTURED.includes(n.type))) cases.push({ name: `template ${file}`, graph: g });
}

for (const c of cases) {
  test(`tfjs export on randomised weights: ${c.name}`, async () => {
    await assertTfjsExportMatches(await tfReady, c.graph);
  });
}

test('Keras and PyTorch exports compile', async (t) => {
  await pyCompileSubtests(t, cases);
});

test('each block is one documented helper, emitted once', () => {
  const py = exportPytorch(stacked).code;
  for (const cls of ['CBAM', 'ChannelAttention', 'SpatialAttention', 'SqueezeExcitation']) {
    assert.equal(py.split(`class ${cls}(nn.Module):`).length, 2, cls);
  }
  assert.match(py, /self\.c1 = CBAM\(channels=6, reduction=2\)/);
  assert.match(py, /c1_out, c1_channel_weights, c1_spatial_map = self\.c1\(x_\)/);
  assert.match(py, /Woo, Park, Lee & Kweon \(2018\)/);
  assert.doesNotMatch(py, /NonLocalBlock|HighwayGate/);
  const keras = exportKeras(stacked);
  assert.equal(keras.split('class CBAM(keras.layers.Layer):').length, 2);
  const ts = exportTfjs(stacked);
  for (const fn of ['function cbam(', 'function channelAttention(', 'function spatialAttention(', 'function squeezeExcitation(', 'function channelGate(']) {
    assert.equal(ts.split(fn).length, 2, fn);
  }
  assert.equal(ts.split('class ChannelPool extends tf.layers.Layer').length, 2);
  assert.match(ts, /const \{ out: c1Out, channelWeights: c1ChannelWeights, spatialMap: c1SpatialMap \} = cbam\(tf, x_, \{ reduction: 2, name: 'c1' \}\);/);
  assert.doesNotMatch(ts, /nonLocalBlock|highwayGate/);
});

test('PyTorch export of the vision attention blocks: parameters, and outputs with randomised exported weights', async (t) => {
  if (skipWithoutTorch(t, 'the PyTorch export checks')) return;
  const worst = await torchExportSubtests(t, await tfReady, cases);
  if (process.env.EXPORT_DIFFS) console.log(`vision attention: max |Δ| ${worst.toExponential(2)}`);
});
