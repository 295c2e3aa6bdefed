import { defineBlock } from './contract.js';
import { expectRank, product } from './shape-rules.js';
import { channelsLast, kerasLayer, tsLayer } from './emit/snippets.js';

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
  emit: {
    tfjs: ({ inputs, outputs, layer }) => ({ body: [tsLayer(outputs.out, 'flatten', { name: layer }, inputs.in)] }),
    keras: ({ inputs, outputs, layer }) => ({ body: [kerasLayer(outputs.out, 'Flatten', [], { name: layer }, inputs.in)] }),
    pytorch: ({ inputs, inputShapes, outputs }) => ({
      body:
        inputShapes.in.length === 4
          ? [`${outputs.out} = ${channelsLast(inputs.in)}.flatten(1)  # NHWC order, as the graph's trained weights expect`]
          : [`${outputs.out} = ${inputs.in}.flatten(1)`],
    }),
  },
  examples: [{ inputs: { in: [null, 7, 7, 32] } }, { inputs: { in: [null, 5, 3] } }],
});
