// Export of the standard blocks (convolution, pooling, resampling, normalisation,
// reshaping, sequence and recurrent blocks) beyond their examples (which
// test/block-conformance.test.ts exports): extra cases for the paths where tfjs and PyTorch differ (TF "same" padding,
// bilinear sampling, channels-last normalisation, one-bias LSTM/GRU), and the
// templates built from them. The PyTorch check runs on RANDOMISED weights (every
// bias, BatchNorm moving statistics included), so a weight that lands in the
// wrong place or layout shows up even where the initial value is 0 or 1.
import { test } from 'node:test';
import type { GraphFile } from '../engine/graph/types.js';
import { tfReady } from './helpers/tf.js';
import { graph, loadTemplate } from './helpers/graphs.js';
import { assertTfjsExportMatches, pyCompileSubtests } from './helpers/exports.js';
import { skipWithoutTorch, torchExportSubtests } from './helpers/torch.js';

const TEMPLATES = ['gru-tagger.attn.json', 'mlp.attn.json', 'mnist-cnn.attn.json'];

// Every block example goes through test/block-conformance.test.ts; these are the cases the examples leave out.
const cases: { name: string; graph: GraphFile }[] = [];

/** input -> block -> output, for parameter combinations the examples leave out. */
function extra(type: string, params: Record<string, unknown>, input: Record<string, unknown>, note: string) {
  cases.push({
    name: `${type} ${note}`,
    graph: graph(
      [
        ['x', 'io.input', input],
        ['block', type, params],
        ['y', 'io.output', { loss: 'none' }],
      ],
      [
        ['x.out', 'block.in'],
        ['block.out', 'y.in'],
      ],
    ),
  });
}
const image = (height: number, width: number, channels: number) => ({ kind: 'image', height, width, channels });
const sequence = (length: number, features: number) => ({ kind: 'sequence', length, features });
extra('core.pool2d', { mode: 'max', size: 3, stride: 2, padding: 'same' }, image(8, 7, 3), 'max "same" (asymmetric padding)');
extra('core.pool2d', { mode: 'max', size: 3, stride: 1, padding: 'same' }, image(5, 6, 2), 'max "same" (symmetric padding)');
extra('core.pool2d', { mode: 'avg', size: 3, stride: 1, padding: 'same' }, image(5, 6, 2), 'avg "same" (symmetric padding)');
extra('core.pool2d', { mode: 'avg', size: 2, stride: 2, padding: 'same' }, image(7, 7, 2), 'avg "same" (pads after only)');
extra('core.pool2d', { mode: 'avg', size: 2, stride: 1, padding: 'valid' }, image(5, 4, 2), 'avg "valid", stride 1');
extra('core.depthwiseConv2d', { kernel: 3, stride: 2, padding: 'same', depthMultiplier: 3 }, image(8, 7, 2), 'stride 2 "same"');
extra('core.depthwiseConv2d', { kernel: 2, padding: 'same', dilation: 2, useBias: false, depthMultiplier: 2 }, image(6, 5, 3), 'dilated, even kernel');
extra('core.upsample2d', { factor: 2, interpolation: 'bilinear' }, image(4, 5, 3), 'bilinear x2');
extra('core.upsample2d', { factor: 4, interpolation: 'nearest' }, image(2, 3, 1), 'nearest x4');
extra('core.batchNorm', { momentum: 0.99, epsilon: 1e-3 }, sequence(5, 4), 'on a sequence');
extra('core.batchNorm', {}, { kind: 'vector', features: 6 }, 'on a vector');
extra('core.layerNorm', { epsilon: 1e-3 }, image(3, 4, 5), 'on an image');
extra('core.reshape', { shape: [4, 2, 6] }, image(3, 4, 4), 'image to image');
extra('core.reshape', { shape: [-1] }, image(3, 4, 2), 'image to vector');
extra('core.reshape', { shape: [6, -1, 1] }, { kind: 'vector', features: 24 }, 'vector to image');
extra('core.permute', { dims: [2, 3, 1] }, image(3, 4, 5), 'image [2, 3, 1]');
extra('core.permute', { dims: [2, 1, 3] }, image(3, 4, 5), 'image [2, 1, 3]');
extra('core.lstm', { units: 4, returnSequences: true }, sequence(5, 3), 'every step');
extra('core.gru', { units: 6 }, sequence(4, 5), 'last step');
extra('core.globalPool2d', { mode: 'max' }, image(3, 4, 5), 'max, no keepDims');
for (const file of TEMPLATES) cases.push({ name: `template ${file}`, graph: loadTemplate(file) });

for (const c of cases) {
  test(`standard-block tfjs export: ${c.name} has the compiled parameter count and outputs`, async () => {
    await assertTfjsExportMatches(await tfReady, c.graph);
  });
}

test('standard-block Keras and PyTorch exports compile with python3 -m py_compile', async (t) => {
  await pyCompileSubtests(t, cases);
});

test('standard-block PyTorch export: same trainable parameters, and the same outputs with randomised exported weights', async (t) => {
  if (skipWithoutTorch(t, 'the PyTorch export checks')) return;
  const worst = await torchExportSubtests(t, await tfReady, cases);
  if (process.env.EXPORT_DIFFS) console.log(`standard blocks: max |Δ| ${worst.toExponential(2)}`);
});
