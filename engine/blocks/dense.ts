import { defineBlock } from './contract.js';
import { expectRank } from '../shapes/rules.js';

export default defineBlock({
  type: 'core.dense',
  label: 'Dense',
  category: 'Core',
  doc:
    'A fully connected layer, y = activation(xW + b), applied to the last axis: on a vector it is the classic dense ' +
    'layer, on a sequence [T, F] it acts on every step with the same weights (a position-wise linear layer).',
  params: {
    units: { type: 'int', default: 64, min: 1, max: 1000000, doc: 'Output features.' },
    activation: {
      type: 'enum',
      options: ['linear', 'relu', 'gelu', 'sigmoid', 'tanh', 'swish', 'softmax'],
      default: 'linear',
      doc: 'Activation applied after the affine map.',
    },
    useBias: { type: 'bool', default: true, doc: 'Add a learned bias.' },
  },
  inputs: [{ name: 'in', doc: 'Features on the last axis.', rank: [2, 3, 4] }],
  outputs: [{ name: 'out', doc: 'Same leading axes, last axis = units.' }],
  inferShape({ params, inputs }) {
    const x = expectRank(inputs.in, 'in', [2, 3, 4]);
    return { out: [...x.slice(0, -1), params.units] };
  },
  build(tf, { params, inputs, name, init }) {
    const layer = tf.layers.dense({
      units: params.units,
      activation: params.activation === 'swish' ? 'swish' : params.activation,
      useBias: params.useBias,
      kernelInitializer: init.glorotUniform(),
      name,
    });
    return { out: layer.apply(inputs.in) as never };
  },
  examples: [
    { params: { units: 10 }, inputs: { in: [null, 20] } },
    { params: { units: 16, useBias: false }, inputs: { in: [null, 5, 8] } },
  ],
});
