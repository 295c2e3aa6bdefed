import { defineBlock } from '../contract.js';
import { imageInput, reductionParam } from './vision-ops/gates.js';
import { squeezeExcitation } from './vision-ops/vision-attention.js';
import { KERAS_SQUEEZE_EXCITATION, linearWeights, pyTargets, TORCH_SQUEEZE_EXCITATION, TS_HELPERS, tsCall } from './vision-ops/emit.js';
import { pyArgs } from '../emit/snippets.js';

export default defineBlock({
  type: 'attention.squeezeExcitation',
  label: 'Squeeze-and-Excitation',
  category: 'Attention',
  doc:
    'Channel attention: squeeze each channel of the feature map to one number by global average pooling, excite with ' +
    'a bottleneck MLP (FC to ⌊C/r⌋, ReLU, FC to C, sigmoid) and rescale every channel by its weight, y = x · s. ' +
    'The channel weights s [B, C] are an attention output. Parameters as in the reference SE module (nn.Linear with ' +
    'bias): 2·C·⌊C/r⌋ + ⌊C/r⌋ + C, or 2·C·⌊C/r⌋ without biases (the 1×1-conv variants that omit them).',
  paper: 'Hu, Shen, Albanie, Sun & Wu (2018). Squeeze-and-Excitation Networks.',
  params: {
    reduction: reductionParam,
    bias: { type: 'bool', default: true, doc: 'Biases in the two FC layers (the reference implementation has them).' },
  },
  inputs: [{ name: 'in', doc: 'Feature map [B, H, W, C].', rank: 4 }],
  outputs: [
    { name: 'out', doc: 'The recalibrated feature map [B, H, W, C].' },
    { name: 'weights', doc: 'Channel weights s [B, C], in (0, 1).', attention: 'channel', axes: 'batch, channel' },
  ],
  inferShape({ inputs }) {
    const [h, w, c] = imageInput(inputs.in, 'in');
    return { out: [null, h, w, c], weights: [null, c] };
  },
  build(tf, { params: p, inputs, name, init }) {
    return squeezeExcitation(tf, inputs.in, { reduction: p.reduction, useBias: p.bias, name }, init);
  },
  emit: {
    tfjs: ({ params: p, inputs, outputs, layer }) => ({
      body: [tsCall('squeezeExcitation', outputs, [inputs.in], { reduction: p.reduction, useBias: p.bias ? undefined : false, name: layer })],
      helpers: TS_HELPERS.squeezeExcitation,
    }),
    keras: ({ params: p, inputs, outputs, layer }) => ({
      body: [
        `${pyTargets([outputs.out, outputs.weights])} = SqueezeExcitation(${pyArgs([], { reduction: p.reduction, use_bias: p.bias ? undefined : false, name: layer })})(${inputs.in})`,
      ],
      helpers: [KERAS_SQUEEZE_EXCITATION],
    }),
    pytorch: ({ params: p, inputs, inputShapes, outputs, name }) => ({
      init: [`self.${name} = SqueezeExcitation(${pyArgs([], { channels: inputShapes.in[3], reduction: p.reduction, bias: p.bias ? undefined : false })})`],
      body: [`${pyTargets([outputs.out, outputs.weights])} = self.${name}(${inputs.in})`],
      helpers: [TORCH_SQUEEZE_EXCITATION],
      torchWeights: [...linearWeights('fc1', 'fc1', p.bias), ...linearWeights('fc2', 'fc2', p.bias)],
    }),
  },
  examples: [
    { params: { reduction: 4 }, inputs: { in: [null, 6, 6, 8] } },
    { params: { reduction: 16, bias: false }, inputs: { in: [null, 5, 7, 12] } },
  ],
});
