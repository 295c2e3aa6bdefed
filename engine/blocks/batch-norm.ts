import { defineBlock } from './contract.js';
import { unbiasedBatchNormLayer } from './batch-norm-layer.js';
import { kerasHelper, tfjsHelper } from './emit/torch-helper.js';
import { numberArg, pyArgs, pyNumber, tsObject } from './emit/snippets.js';
import { expectRank } from './shape-rules.js';

export default defineBlock({
  type: 'core.batchNorm',
  label: 'BatchNorm',
  category: 'Normalisation',
  doc:
    'Batch normalisation (Ioffe & Szegedy 2015) over the last axis (channels of an image, features of a vector or ' +
    'sequence): in training each channel is normalised with the batch mean and variance, then scaled by a learned ' +
    'gamma and shifted by a learned beta; at inference the moving averages are used. Momentum follows Keras: ' +
    "moving = momentum · moving + (1 − momentum) · batch, so PyTorch's momentum 0.1 is 0.9 here. As in PyTorch, the " +
    "moving variance takes in the batch's unbiased variance (n/(n − 1) times the one that normalises the batch, n the " +
    "values per channel), where tfjs and Keras would take in the biased one. Like PyTorch's " +
    'BatchNorm2d it holds 4·C numbers: 2·C trainable (gamma, beta) and 2·C not (moving mean and variance). ' +
    'Gamma and beta are always learned: tfjs cannot train a batch norm without them.',
  paper: 'Ioffe & Szegedy (2015). Batch Normalization: Accelerating Deep Network Training by Reducing Internal Covariate Shift.',
  params: {
    momentum: { type: 'float', default: 0.9, min: 0, max: 0.9999, doc: 'Weight of the old value in the moving averages (Keras convention).' },
    epsilon: { type: 'float', default: 1e-5, min: 1e-12, max: 0.1, doc: 'Added to the variance before the square root.' },
  },
  inputs: [{ name: 'in', doc: 'Any tensor [B, ..., C]; channels last.', rank: [2, 3, 4] }],
  outputs: [{ name: 'out', doc: 'Same shape as the input.' }],
  inferShape({ inputs }) {
    return { out: [...expectRank(inputs.in, 'in', [2, 3, 4])] };
  },
  build(tf, { params: p, inputs, name }) {
    const layer = new (unbiasedBatchNormLayer(tf))({ axis: -1, momentum: p.momentum, epsilon: p.epsilon, name });
    return { out: layer.apply(inputs.in) as never };
  },
  emit: {
    tfjs: ({ params: p, inputs, outputs, layer }) => ({
      body: [
        `const ${outputs.out} = new (unbiasedBatchNormLayer(tf))(${tsObject({ momentum: p.momentum, epsilon: numberArg(p.epsilon), name: layer })}).apply(${inputs.in}) as tf.SymbolicTensor;`,
      ],
      helpers: [tfjsHelper('unbiasedBatchNormLayer', 'batch-norm-layer.ts')],
    }),
    keras: ({ params: p, inputs, outputs, layer }) => ({
      body: [`${outputs.out} = UnbiasedBatchNormalization(${pyArgs([], { momentum: p.momentum, epsilon: numberArg(p.epsilon), name: layer })})(${inputs.in})`],
      helpers: [kerasHelper('UnbiasedBatchNormalization', 'layers.py')],
    }),
    pytorch({ params: p, inputs, inputShapes, outputs, name }) {
      const x = inputShapes.in;
      const c = x[x.length - 1];
      const rank = x.length;
      const cls = rank === 4 ? 'BatchNorm2d' : 'BatchNorm1d';
      const args = [`${c}`];
      if (p.epsilon !== 1e-5) args.push(`eps=${pyNumber(p.epsilon)}`);
      // Keras's momentum weighs the old moving average, PyTorch's the new batch statistic.
      const momentum = Number((1 - p.momentum).toPrecision(12));
      if (momentum !== 0.1) args.push(`momentum=${pyNumber(momentum)}`);
      const init = [`self.${name} = nn.${cls}(${args.join(', ')})`];
      // The graph normalises the last axis; PyTorch's BatchNorm the channel axis 1 (already there for an NCHW image).
      const call = rank === 3 ? `self.${name}(${inputs.in}.transpose(1, 2)).transpose(1, 2)  # features last, as in the graph` : `self.${name}(${inputs.in})`;
      return {
        init,
        body: [`${outputs.out} = ${call}`],
        torchWeights: [
          { torch: 'weight', tfjs: 'gamma' },
          { torch: 'bias', tfjs: 'beta' },
          { torch: 'running_mean', tfjs: 'moving_mean' },
          { torch: 'running_var', tfjs: 'moving_variance' },
        ],
      };
    },
  },
  examples: [{ inputs: { in: [null, 6, 6, 4] } }, { params: { momentum: 0.99, epsilon: 1e-3 }, inputs: { in: [null, 12] } }, { inputs: { in: [null, 5, 3] } }],
});
