import { defineBlock } from './contract.js';
import { layerNormLayer } from './layer-norm-layer.js';
import { tfjsHelper } from './emit/torch-helper.js';
import { channelsFirst, channelsLast, kerasLayer, numberArg, pyNumber, tsObject } from './emit/snippets.js';
import { expectRank } from './shape-rules.js';

export default defineBlock({
  type: 'core.layerNorm',
  label: 'LayerNorm',
  category: 'Normalisation',
  doc:
    'Layer normalisation (Ba et al. 2016): every position is normalised over its own last axis (the features of a ' +
    'sequence step, the channels of a pixel) to mean 0 and variance 1, then scaled and shifted by a learned gamma ' +
    'and beta of size F. It does not depend on the batch, which is why Transformers use it around every attention ' +
    "and feed-forward sub-layer (Vaswani et al. 2017). 2·F trainable parameters, as PyTorch's nn.LayerNorm(F).",
  paper: 'Ba, Kiros & Hinton (2016). Layer Normalization.',
  params: {
    epsilon: { type: 'float', default: 1e-5, min: 1e-12, max: 0.1, doc: 'Added to the variance before the square root (PyTorch default).' },
  },
  inputs: [{ name: 'in', doc: 'Any tensor [B, ..., F].', rank: [2, 3, 4] }],
  outputs: [{ name: 'out', doc: 'Same shape as the input.' }],
  inferShape({ inputs }) {
    return { out: [...expectRank(inputs.in, 'in', [2, 3, 4])] };
  },
  build(tf, { params: p, inputs, name }) {
    const layer = new (layerNormLayer(tf))({ axis: -1, epsilon: p.epsilon, name });
    return { out: layer.apply(inputs.in) as never };
  },
  emit: {
    tfjs: ({ params: p, inputs, outputs, layer }) => ({
      body: [
        `const ${outputs.out} = new (layerNormLayer(tf))(${tsObject({ epsilon: numberArg(p.epsilon), name: layer })}).apply(${inputs.in}) as tf.SymbolicTensor;`,
      ],
      helpers: [tfjsHelper('layerNormLayer', 'layer-norm-layer.ts')],
    }),
    keras: ({ params: p, inputs, outputs, layer }) => ({
      body: [kerasLayer(outputs.out, 'LayerNormalization', [], { epsilon: numberArg(p.epsilon), name: layer }, inputs.in)],
    }),
    pytorch({ params: p, inputs, inputShapes, outputs, name }) {
      const x = inputShapes.in;
      const args = [`${x[x.length - 1]}`];
      if (p.epsilon !== 1e-5) args.push(`eps=${pyNumber(p.epsilon)}`);
      const init = [`self.${name} = nn.LayerNorm(${args.join(', ')})`];
      // The graph normalises the last axis, which is the channel axis 1 of an NCHW image.
      const call =
        x.length === 4 ? `${channelsFirst(`self.${name}(${channelsLast(inputs.in)})`)}  # over the channels of each pixel` : `self.${name}(${inputs.in})`;
      return {
        init,
        body: [`${outputs.out} = ${call}`],
        torchWeights: [
          { torch: 'weight', tfjs: 'gamma' },
          { torch: 'bias', tfjs: 'beta' },
        ],
      };
    },
  },
  examples: [{ inputs: { in: [null, 7, 16] } }, { params: { epsilon: 1e-3 }, inputs: { in: [null, 10] } }, { inputs: { in: [null, 3, 3, 4] } }],
});
