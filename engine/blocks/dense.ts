import { defineBlock } from './contract.js';
import { expectRank } from './shape-rules.js';
import { channelsFirst, channelsLast, DENSE_KERNEL_TO_TORCH, kerasLayer, torchActivation, tsLayer } from './emit/snippets.js';

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
  emit: {
    tfjs: ({ params: p, inputs, outputs, layer }) => ({
      body: [
        tsLayer(
          outputs.out,
          'dense',
          { units: p.units, activation: p.activation === 'linear' ? undefined : p.activation, useBias: p.useBias ? undefined : false, name: layer },
          inputs.in,
        ),
      ],
    }),
    keras: ({ params: p, inputs, outputs, layer }) => ({
      body: [
        kerasLayer(
          outputs.out,
          'Dense',
          [p.units],
          {
            activation: p.activation === 'linear' ? undefined : p.activation === 'swish' ? 'silu' : p.activation,
            use_bias: p.useBias ? undefined : false,
            name: layer,
          },
          inputs.in,
        ),
      ],
    }),
    pytorch({ params: p, inputs, inputShapes, outputs, name, logits }) {
      const x = inputShapes.in;
      const image = x.length === 4;
      const call = `self.${name}(${image ? channelsLast(inputs.in) : inputs.in})`;
      const asLogits = p.activation === 'softmax' && !!logits?.includes('out');
      const y = torchActivation(asLogits ? 'linear' : p.activation, image ? channelsFirst(call) : call, image ? 1 : -1);
      return {
        logits: asLogits ? { out: image ? 1 : -1 } : undefined,
        init: [`self.${name} = nn.Linear(${x[x.length - 1]}, ${p.units}${p.useBias ? '' : ', bias=False'})`],
        body: [`${outputs.out} = ${y}`],
        torchWeights: [{ torch: 'weight', tfjs: 'kernel', permute: DENSE_KERNEL_TO_TORCH }, ...(p.useBias ? [{ torch: 'bias', tfjs: 'bias' }] : [])],
      };
    },
  },
  examples: [
    { params: { units: 10 }, inputs: { in: [null, 20] } },
    { params: { units: 16, useBias: false }, inputs: { in: [null, 5, 8] } },
  ],
});
