import { defineBlock, ShapeError } from './contract.js';
import { axisSoftmaxLayer } from './core-layers.js';
import { tfjsHelper } from './emit/torch-helper.js';
import { kerasLayer, torchActivation, tsLayer } from './emit/snippets.js';
import { torchDim } from './emit/format.js';

export default defineBlock({
  type: 'core.activation',
  label: 'Activation',
  category: 'Core',
  doc:
    'An element-wise nonlinearity: ReLU, GELU (Hendrycks & Gimpel 2016), sigmoid, tanh or swish/SiLU ' +
    '(Ramachandran et al. 2017), or a softmax that normalises along the chosen axis (-1 is the last axis).',
  params: {
    fn: { type: 'enum', options: ['relu', 'gelu', 'sigmoid', 'tanh', 'swish', 'softmax'], default: 'relu', doc: 'The function.' },
    axis: { type: 'int', default: -1, min: -8, max: 8, doc: 'Softmax axis (softmax only); negative counts from the end, 0 is the batch axis and not allowed.' },
  },
  inputs: [{ name: 'in', doc: 'Any tensor.' }],
  outputs: [{ name: 'out', doc: 'Same shape as the input.' }],
  inferShape({ params: p, inputs }) {
    const x = inputs.in;
    if (p.fn === 'softmax') {
      const a = p.axis < 0 ? x.length + p.axis : p.axis;
      if (a < 1 || a >= x.length) throw new ShapeError(`softmax axis ${p.axis} is outside the non-batch axes of a rank-${x.length} input`, 'in');
    }
    return { out: [...x] };
  },
  build(tf, { params: p, inputs, name }) {
    const rank = inputs.in.shape.length;
    const lastAxis = p.axis === -1 || p.axis === rank - 1;
    const layer =
      p.fn !== 'softmax'
        ? tf.layers.activation({ activation: p.fn, name })
        : lastAxis
          ? tf.layers.softmax({ axis: -1, name })
          : new (axisSoftmaxLayer(tf))({ axis: p.axis, name });
    return { out: layer.apply(inputs.in) as never };
  },
  emit: {
    tfjs({ params: p, inputs, inputShapes, outputs, layer }) {
      const rank = inputShapes.in.length;
      if (p.fn !== 'softmax') return { body: [tsLayer(outputs.out, 'activation', { activation: p.fn, name: layer }, inputs.in)] };
      if (p.axis === -1 || p.axis === rank - 1) return { body: [tsLayer(outputs.out, 'softmax', { name: layer }, inputs.in)] };
      return {
        body: [`const ${outputs.out} = new (axisSoftmaxLayer(tf))({ axis: ${p.axis}, name: '${layer}' }).apply(${inputs.in}) as tf.SymbolicTensor;`],
        helpers: [tfjsHelper('axisSoftmaxLayer', 'core-layers.ts')],
      };
    },
    keras: ({ params: p, inputs, outputs, layer }) => ({
      body: [
        p.fn === 'softmax'
          ? kerasLayer(outputs.out, 'Softmax', [], { axis: p.axis, name: layer }, inputs.in)
          : kerasLayer(outputs.out, 'Activation', [p.fn === 'swish' ? 'silu' : p.fn], { name: layer }, inputs.in),
      ],
    }),
    pytorch: ({ params: p, inputs, inputShapes, outputs }) => ({
      body: [`${outputs.out} = ${torchActivation(p.fn, inputs.in, torchDim(p.axis, inputShapes.in.length))}`],
    }),
  },
  examples: [
    { params: { fn: 'relu' }, inputs: { in: [null, 4, 4, 3] } },
    { params: { fn: 'gelu' }, inputs: { in: [null, 7] } },
    { params: { fn: 'softmax', axis: 1 }, inputs: { in: [null, 5, 6] } },
    { params: { fn: 'swish' }, inputs: { in: [null, 3, 2] } },
  ],
});
