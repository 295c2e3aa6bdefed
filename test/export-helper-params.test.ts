// What #22 left out of the exports: the helpers' LayerNorm ε and BatchNorm momentum
// (a Transformer's normEpsilon, CBAM's bnMomentum) reach the exported layers in
// tfjs, PyTorch and Keras (PyTorch's momentum is the weight of the new batch, tfjs's and
// Keras's 1 minus it), and explicit-padding depthwise convolutions and ceil-mode /
// count_include_pad pooling export to tfjs and Keras. Numbers against the engine's
// compiled model: tfjs exactly through the exported TypeScript, PyTorch through torch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GraphFile } from '../engine/graph/types.js';
import { compileGraph } from '../engine/compile/compile.js';
import { exportKeras } from '../engine/export/keras.js';
import { exportPytorch } from '../engine/export/pytorch.js';
import { exportTfjs } from '../engine/export/tfjs.js';
import { tfReady } from './helpers/tf.js';
import { graph } from './helpers/graphs.js';
import { assertTfjsExportMatches, buildExportedTfjs } from './helpers/exports.js';
import { PYTHON, skipWithoutTorch, torchExportSubtests } from './helpers/torch.js';

const image = (height: number, width: number, channels: number) => ({ kind: 'image', height, width, channels });

/** input -> block -> output (the block's first output port `out`). */
function single(type: string, params: Record<string, unknown>, input: Record<string, unknown>): GraphFile {
  return graph(
    [
      ['x', 'io.input', input],
      ['block', type, params],
      ['y', 'io.output', { loss: 'none' }],
    ],
    [
      ['x.out', 'block.in'],
      ['block.out', 'y.in'],
    ],
  );
}

// ε = 0.5 rather than ViT's 1e-6: a LayerNorm that ignores it is off by far more than the tolerance.
const encoder = (norm: 'pre' | 'post') =>
  single('attention.transformerEncoder', { heads: 2, ffDim: 8, dropout: 0, norm, normEpsilon: 0.5 }, { kind: 'sequence', length: 5, features: 4 });
const cases: { name: string; graph: GraphFile }[] = [
  { name: 'Transformer encoder, post-norm, LayerNorm ε 0.5', graph: encoder('post') },
  { name: 'Transformer encoder, pre-norm, LayerNorm ε 0.5', graph: encoder('pre') },
  {
    name: 'depthwise conv, explicit uneven padding',
    graph: single('core.depthwiseConv2d', { kernel: 3, stride: 2, padding: 'explicit', pads: [0, 2, 1, 2], depthMultiplier: 2 }, image(7, 8, 3)),
  },
  {
    name: 'depthwise conv, explicit padding, dilated',
    graph: single('core.depthwiseConv2d', { kernel: 3, padding: 'explicit', pads: [2], dilation: 2 }, image(7, 6, 2)),
  },
  {
    name: 'max pool, ceil mode',
    graph: single('core.pool2d', { mode: 'max', size: 3, stride: 2, padding: 'explicit', pads: [1], ceilMode: true }, image(8, 9, 2)),
  },
  {
    name: 'avg pool, ceil mode, count_include_pad off',
    graph: single('core.pool2d', { mode: 'avg', size: 3, stride: 2, padding: 'explicit', pads: [1], ceilMode: true, countIncludePad: false }, image(8, 7, 2)),
  },
];

for (const c of cases) {
  test(`tfjs export equals the engine: ${c.name}`, async () => {
    await assertTfjsExportMatches(await tfReady, c.graph);
  });
}

test('PyTorch export equals the engine on the same cases', async (t) => {
  if (skipWithoutTorch(t, 'the PyTorch export checks')) return;
  await torchExportSubtests(t, await tfReady, cases);
});

test('Keras export passes the LayerNorm ε and uses ZeroPadding2D / PaddedPool2D for explicit padding', () => {
  assert.match(exportKeras(cases[0].graph), /TransformerEncoderLayer\(d_model=4, num_heads=2, ff_dim=8, dropout=0, layer_norm_eps=0\.5, name="block"\)/);
  assert.match(exportKeras(cases[0].graph), /self\.norm1 = layers\.LayerNormalization\(epsilon=layer_norm_eps/);
  const dw = exportKeras(cases[2].graph);
  assert.match(dw, /layers\.ZeroPadding2D\(padding=\(\(0, 2\), \(1, 2\)\), name="block_pad"\)\(x_\)/);
  assert.match(dw, /layers\.DepthwiseConv2D\(3, strides=2, padding="valid", depth_multiplier=2, name="block"\)\(block_padded\)/);
  assert.match(
    exportKeras(cases[5].graph),
    /PaddedPool2D\(mode="avg", size=3, stride=2, sides=\(1, 1, 1, 1\), ceil_mode=True, count_include_pad=False, name="block"\)\(x_\)/,
  );
});

const cbam = single('attention.cbam', { reduction: 2, bnMomentum: 0.01 }, image(6, 6, 4));

test("CBAM bnMomentum: the exported tfjs BatchNorm has the engine's momentum", async () => {
  const tf = await tfReady;
  const compiled = compileGraph(tf, cbam);
  const exported = await buildExportedTfjs(exportTfjs(cbam));
  const momenta = (m: typeof exported) => m.layers.filter((l) => l.getClassName() === 'BatchNormalization').map((l) => [l.name, l.getConfig().momentum]);
  assert.deepEqual(momenta(exported), momenta(compiled.model));
  assert.deepEqual(
    momenta(exported).map(([, m]) => m),
    [0.99],
  );
  compiled.model.dispose();
  exported.dispose();
});

test('CBAM bnMomentum: the exported PyTorch BatchNorm has momentum 0.01, the Keras one 1 - 0.01', (t) => {
  assert.match(exportKeras(cbam), /CBAM\(reduction=2, bn_momentum=0\.01, name="block"\)/);
  assert.match(exportKeras(cbam), /layers\.BatchNormalization\(momentum=1 - self\.bn_momentum/);
  if (skipWithoutTorch(t, 'the PyTorch module')) return;
  const dir = mkdtempSync(join(tmpdir(), 'attn-bn-'));
  writeFileSync(join(dir, 'model.py'), exportPytorch(cbam).code);
  const script =
    'import runpy, sys; m = runpy.run_path(sys.argv[1], run_name="exported"); model = m["Model"](); print([b.momentum for b in model.modules() if isinstance(b, m["nn"].BatchNorm2d)])';
  assert.equal(execFileSync(PYTHON, ['-c', script, join(dir, 'model.py')], { encoding: 'utf8' }).trim(), '[0.01]');
});
