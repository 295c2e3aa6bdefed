import { defineBlock } from './contract.js';
import { expectRank } from '../shapes/rules.js';

export default defineBlock({
  type: 'core.layerNorm',
  label: 'LayerNorm',
  category: 'Normalisation',
  doc:
    'Layer normalisation (Ba et al. 2016): every position is normalised over its own last axis (the features of a ' +
    'sequence step, the channels of a pixel) to mean 0 and variance 1, then scaled and shifted by a learned gamma ' +
    'and beta of size F. It does not depend on the batch, which is why Transformers use it around every attention ' +
    'and feed-forward sub-layer (Vaswani et al. 2017). 2·F trainable parameters, as PyTorch\'s nn.LayerNorm(F).',
  paper: 'Ba, Kiros & Hinton (2016). Layer Normalization.',
  params: {
    epsilon: { type: 'float', default: 1e-5, min: 1e-12, max: 0.1, doc: 'Added to the variance before the square root (PyTorch default).' },
    center: { type: 'bool', default: true, doc: 'Learn a shift beta.' },
    scale: { type: 'bool', default: true, doc: 'Learn a scale gamma.' },
  },
  inputs: [{ name: 'in', doc: 'Any tensor [B, ..., F].', rank: [2, 3, 4, 5] }],
  outputs: [{ name: 'out', doc: 'Same shape as the input.' }],
  inferShape({ inputs }) {
    return { out: [...expectRank(inputs.in, 'in', [2, 3, 4, 5])] };
  },
  build(tf, { params: p, inputs, name }) {
    const layer = tf.layers.layerNormalization({ axis: -1, epsilon: p.epsilon, center: p.center, scale: p.scale, name });
    return { out: layer.apply(inputs.in) as never };
  },
  examples: [
    { inputs: { in: [null, 7, 16] } },
    { params: { epsilon: 1e-3, center: false }, inputs: { in: [null, 10] } },
    { params: { scale: false }, inputs: { in: [null, 3, 3, 4] } },
  ],
});
