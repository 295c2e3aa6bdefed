import { defineBlock } from './contract.js';
import { expectRank } from './shape-rules.js';
import { kerasLayer, tsLayer } from './emit/snippets.js';

export default defineBlock({
  type: 'core.embedding',
  label: 'Embedding',
  category: 'Sequence',
  doc:
    'A lookup table of learned vectors: each integer token id in [0, vocabSize) is replaced by its row of a ' +
    'vocabSize × dim matrix, turning token ids [B, T] into a sequence of vectors [B, T, dim] that attention and ' +
    "recurrent blocks can read. vocabSize · dim parameters, as PyTorch's nn.Embedding; rows start uniform in " +
    '[−0.05, 0.05] (the Keras default). Wire it after an Input of kind "tokens" with the same vocabulary size.',
  params: {
    vocabSize: { type: 'int', default: 32, min: 2, max: 10000000, doc: 'Number of distinct token ids (ids run from 0 to vocabSize − 1).' },
    dim: { type: 'int', default: 32, min: 1, max: 100000, doc: 'Length of each embedding vector.' },
  },
  inputs: [{ name: 'in', doc: 'Token ids [B, T] (or [B, S, T]: sentences of words), int32.', rank: [2, 3], dtype: 'int32' }],
  outputs: [{ name: 'out', doc: 'Vectors [B, T, dim] (or [B, S, T, dim]).' }],
  inferShape({ params: p, inputs }) {
    const ids = expectRank(inputs.in, 'in', [2, 3], 'token ids [B, T] or [B, S, T]');
    return { out: [...ids, p.dim] };
  },
  build(tf, { params: p, inputs, name, init }) {
    const layer = tf.layers.embedding({ inputDim: p.vocabSize, outputDim: p.dim, embeddingsInitializer: init.uniform(-0.05, 0.05), name });
    return { out: layer.apply(inputs.in) as never };
  },
  emit: {
    tfjs: ({ params: p, inputs, outputs, layer }) => ({
      body: [tsLayer(outputs.out, 'embedding', { inputDim: p.vocabSize, outputDim: p.dim, name: layer }, inputs.in)],
    }),
    keras: ({ params: p, inputs, outputs, layer }) => ({ body: [kerasLayer(outputs.out, 'Embedding', [p.vocabSize, p.dim], { name: layer }, inputs.in)] }),
    pytorch: ({ params: p, inputs, inputShapes, outputs, name }) => ({
      init: [`self.${name} = nn.Embedding(${p.vocabSize}, ${p.dim})`],
      // Sentences of words embed to a rank-4 tensor, which PyTorch code keeps NCHW: [B, dim, S, T].
      body: [`${outputs.out} = self.${name}(${inputs.in})${inputShapes.in.length === 3 ? '.permute(0, 3, 1, 2)' : ''}`],
      torchWeights: [{ torch: 'weight', tfjs: 'embeddings' }],
    }),
  },
  examples: [
    { params: { vocabSize: 20, dim: 8 }, inputs: { in: [null, 12] } },
    { params: { vocabSize: 1000, dim: 3 }, inputs: { in: [null, 5] } },
    { params: { vocabSize: 30, dim: 4 }, inputs: { in: [null, 3, 5] } },
  ],
});
