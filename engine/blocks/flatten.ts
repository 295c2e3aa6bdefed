import { defineBlock } from './contract.js';
import { expectRank, product } from '../shapes/rules.js';

export default defineBlock({
  type: 'core.flatten',
  label: 'Flatten',
  category: 'Reshaping',
  doc: 'Flattens every axis but the batch axis into one, e.g. a [B, 7, 7, 32] feature map into [B, 1568], before a Dense layer.',
  params: {},
  inputs: [{ name: 'in', doc: 'Any tensor of rank 3 or more.', rank: [2, 3, 4, 5] }],
  outputs: [{ name: 'out', doc: '[B, product of the other axes].' }],
  inferShape({ inputs }) {
    const x = expectRank(inputs.in, 'in', [2, 3, 4, 5]);
    return { out: [x[0], product(x.slice(1))] };
  },
  build(tf, { inputs, name }) {
    return { out: tf.layers.flatten({ name }).apply(inputs.in) as never };
  },
  examples: [{ inputs: { in: [null, 7, 7, 32] } }, { inputs: { in: [null, 5, 3] } }],
});
