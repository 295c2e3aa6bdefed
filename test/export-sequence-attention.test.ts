// Export of the sequence attention blocks (scaled dot-product, multi-head, Transformer encoder and
// decoder layers, additive, Luong, memory hops, patch embedding) beyond their examples (which
// test/block-conformance.test.ts exports): graphs whose padding masks really hide keys (0/1 token
// inputs) and a stack that shares helpers between nodes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exportPytorch } from '../engine/export/pytorch.js';
import { exportKeras } from '../engine/export/keras.js';
import { exportTfjs } from '../engine/export/tfjs.js';
import type { GraphFile } from '../engine/graph/types.js';
import { tfReady } from './helpers/tf.js';
import { graph } from './helpers/graphs.js';
import { assertTfjsExportMatches, pyCompileSubtests } from './helpers/exports.js';
import { skipWithoutTorch, torchExportSubtests } from './helpers/torch.js';

// Every block example goes through test/block-conformance.test.ts; these are the cases the examples leave out.
const cases: { name: string; graph: GraphFile }[] = [];

/** A 0/1 padding mask: token ids drawn from {0, 1}, so about half the keys are hidden. */
const mask = (id: string, length: number): [string, string, Record<string, unknown>] => [id, 'io.input', { kind: 'tokens', length, vocabSize: 2 }];
const seq = (id: string, length: number, features: number): [string, string, Record<string, unknown>] => [
  id,
  'io.input',
  { kind: 'sequence', length, features },
];
const out = (id: string): [string, string, Record<string, unknown>] => [id, 'io.output', { loss: 'none' }];

cases.push({
  name: 'masked causal multi-head cross-attention',
  graph: graph(
    [seq('q', 4, 6), seq('k', 5, 3), mask('m', 5), ['mha', 'attention.multiHead', { heads: 2, causal: true }], out('y'), out('w')],
    [
      ['q.out', 'mha.query'],
      ['k.out', 'mha.key'],
      ['m.out', 'mha.mask'],
      ['mha.out', 'y.in'],
      ['mha.weights', 'w.in'],
    ],
  ),
});
cases.push({
  name: 'masked pre-norm GELU decoder with dropout',
  graph: graph(
    [
      seq('t', 4, 6),
      seq('s', 5, 6),
      mask('tm', 4),
      mask('sm', 5),
      ['dec', 'attention.transformerDecoder', { heads: 3, ffDim: 8, dropout: 0.2, norm: 'pre', activation: 'gelu' }],
      out('y'),
      out('ws'),
      out('wc'),
    ],
    [
      ['t.out', 'dec.in'],
      ['s.out', 'dec.memory'],
      ['tm.out', 'dec.mask'],
      ['sm.out', 'dec.memoryMask'],
      ['dec.out', 'y.in'],
      ['dec.selfAttention', 'ws.in'],
      ['dec.crossAttention', 'wc.in'],
    ],
  ),
});
cases.push({
  name: 'decoder with only a memory mask',
  graph: graph(
    [seq('t', 3, 4), seq('s', 5, 4), mask('sm', 5), ['dec', 'attention.transformerDecoder', { heads: 2, ffDim: 8, dropout: 0 }], out('y')],
    [
      ['t.out', 'dec.in'],
      ['s.out', 'dec.memory'],
      ['sm.out', 'dec.memoryMask'],
      ['dec.out', 'y.in'],
    ],
  ),
});
for (const [type, params] of [
  ['attention.additive', { units: 4, useBias: true }],
  ['attention.luong', { score: 'general' }],
  ['attention.luong', { score: 'concat', units: 3 }],
  ['attention.scaledDotProduct', {}],
] as const) {
  cases.push({
    name: `masked ${type} ${JSON.stringify(params)}`,
    graph: graph(
      [seq('q', 3, 4), seq('k', 6, 4), mask('m', 6), ['att', type, params], out('y'), out('w')],
      [
        ['q.out', 'att.query'],
        ['k.out', type === 'attention.scaledDotProduct' ? 'att.key' : 'att.keys'],
        ...(type === 'attention.scaledDotProduct' ? [['k.out', 'att.value'] as [string, string]] : []),
        ['m.out', 'att.mask'],
        ['att.out', 'y.in'],
        ['att.weights', 'w.in'],
      ],
    ),
  });
}
cases.push({
  name: 'masked adjacent memory network',
  graph: graph(
    [
      seq('mem', 5, 4),
      ['q', 'io.input', { kind: 'vector', features: 4 }],
      mask('m', 5),
      ['hops', 'attention.memoryHop', { hops: 2, dim: 3 }],
      out('y'),
      out('w'),
    ],
    [
      ['mem.out', 'hops.memory'],
      ['q.out', 'hops.query'],
      ['m.out', 'hops.mask'],
      ['hops.out', 'y.in'],
      ['hops.attention', 'w.in'],
    ],
  ),
});

// A small ViT-style encoder-decoder: two encoder layers share one helper, the decoder adds its own.
const stacked = graph(
  [
    ['img', 'io.input', { kind: 'image', height: 8, width: 8, channels: 3 }],
    ['patches', 'attention.patchEmbedding', { patch: 4, dim: 8 }],
    ['enc1', 'attention.transformerEncoder', { heads: 2, ffDim: 16, dropout: 0 }],
    ['enc2', 'attention.transformerEncoder', { heads: 4, ffDim: 8, norm: 'pre' }],
    seq('tgt', 3, 8),
    ['dec', 'attention.transformerDecoder', { heads: 2, ffDim: 16 }],
    ['mha', 'attention.multiHead', { heads: 2 }],
    out('y'),
  ],
  [
    ['img.out', 'patches.in'],
    ['patches.out', 'enc1.in'],
    ['enc1.out', 'enc2.in'],
    ['tgt.out', 'dec.in'],
    ['enc2.out', 'dec.memory'],
    ['dec.out', 'mha.query'],
    ['mha.out', 'y.in'],
  ],
  'tiny ViT encoder-decoder',
);
cases.push({ name: 'stacked patch embedding, encoders, decoder, multi-head', graph: stacked });

let tfjsWorst = 0;
for (const c of cases) {
  test(`tfjs export: ${c.name}`, async () => {
    tfjsWorst = Math.max(tfjsWorst, await assertTfjsExportMatches(await tfReady, c.graph));
  });
}
test('tfjs exports: worst difference', () => console.log(`sequence attention tfjs exports: ${cases.length} cases, max |Δ| ${tfjsWorst.toExponential(2)}`));

test('Keras and PyTorch exports compile', async (t) => {
  await pyCompileSubtests(t, cases);
});

test('each block is one documented helper, emitted once and only if used', () => {
  const py = exportPytorch(stacked).code;
  for (const cls of ['PatchEmbedding', 'TransformerEncoderLayer', 'TransformerDecoderLayer', 'MultiHeadAttention'])
    assert.equal(py.split(`class ${cls}(nn.Module):`).length, 2, cls);
  assert.equal(py.split('def masked_softmax(').length, 2);
  assert.doesNotMatch(py, /class (AdditiveAttention|LuongAttention|MemoryNetwork|ScaledDotProductAttention)\b/);
  assert.match(py, /self\.enc2 = TransformerEncoderLayer\(d_model=8, num_heads=4, dim_feedforward=8, norm_first=True\)/);
  assert.match(py, /self\.mha = MultiHeadAttention\(embed_dim=8, num_heads=2\)/);
  assert.match(py, /mha_out, mha_weights = self\.mha\(dec_out\)\n/);
  assert.doesNotMatch(py, /mha_weights\.permute/, 'attention matrices keep [B, heads, Tq, Tk]');
  assert.match(py, /dec_out, dec_self_attention, dec_cross_attention = self\.dec\(tgt, enc2_out\)/);
  assert.match(py, /Vaswani et al\. 2017/);
  assert.match(py, /Dosovitskiy et al\. 2021/);
  const keras = exportKeras(stacked);
  for (const cls of ['PatchEmbedding', 'TransformerEncoderLayer', 'TransformerDecoderLayer', 'MultiHeadAttention'])
    assert.equal(keras.split(`class ${cls}(keras.layers.Layer):`).length, 2, cls);
  assert.match(keras, /enc1_out, enc1_attention = TransformerEncoderLayer\(d_model=8, num_heads=2, ff_dim=16, dropout=0, name="enc1"\)\(patches\)/);
  const ts = exportTfjs(stacked);
  for (const def of [
    'function patchEmbedding(',
    'function transformerEncoderLayer(',
    'function multiHeadAttention(',
    'class DotProductAttention extends tf.layers.Layer',
  ])
    assert.equal(ts.split(def).length, 2, def);
  assert.doesNotMatch(ts, /class (AdditiveAttention|ScoredAttention|MemoryNetwork)\b/);
});

test('PyTorch export of the sequence attention blocks: parameters, weights and outputs', async (t) => {
  if (skipWithoutTorch(t, 'the PyTorch export checks')) return;
  const worst = await torchExportSubtests(t, await tfReady, cases);
  console.log(`sequence attention PyTorch exports: ${cases.length} cases, max |Δ| ${worst.toExponential(2)}`);
});
