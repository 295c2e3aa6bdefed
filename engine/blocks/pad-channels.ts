// Zero channels around a feature map: the parameter-free shortcut of He et al.'s
// CIFAR ResNets (option A), which widens the identity to the next stage's width.
import { defineBlock } from './contract.js';
import { expectRank } from './shape-rules.js';
import { kerasLayer, tsLayer } from './emit/snippets.js';

export default defineBlock({
  type: 'core.padChannels',
  label: 'Pad channels',
  category: 'Reshaping',
  doc:
    'Adds `before` and `after` channels of zeros to an NHWC image, with no parameters. With a stride-2 subsampling ' +
    '(a 1×1 max pool, stride 2, valid) it is the option A shortcut of He et al. (2016) for the CIFAR ResNets: ' +
    'x[:, ::2, ::2] padded with C/2 zero channels, half on each side, as in F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, C/4, C/4)).',
  paper: 'He, Zhang, Ren & Sun (2016). Deep Residual Learning for Image Recognition. CVPR (option A shortcuts, §3.3 and §4.2).',
  params: {
    before: { type: 'int', default: 0, min: 0, max: 100000, doc: "Zero channels in front of the input's." },
    after: { type: 'int', default: 0, min: 0, max: 100000, doc: "Zero channels after the input's." },
  },
  inputs: [{ name: 'in', doc: 'Image [B, H, W, C].', rank: 4 }],
  outputs: [{ name: 'out', doc: 'Image [B, H, W, before + C + after].' }],
  inferShape({ params: p, inputs }) {
    const [b, h, w, c] = expectRank(inputs.in, 'in', 4, 'an NHWC image');
    return { out: [b, h, w, c === null ? null : p.before + c + p.after] };
  },
  build(tf, { params: p, inputs, name }) {
    // Channels to axis 1, zero-pad that axis with the 2-D padding layer, and back: standard, serialisable layers only.
    const first = tf.layers.permute({ dims: [3, 1, 2], name: `${name}_cfirst` }).apply(inputs.in);
    const padded = tf.layers
      .zeroPadding2d({
        padding: [
          [p.before, p.after],
          [0, 0],
        ],
        name: `${name}_pad`,
      })
      .apply(first);
    return { out: tf.layers.permute({ dims: [2, 3, 1], name }).apply(padded) as never };
  },
  emit: {
    tfjs: ({ params: p, inputs, outputs, layer }) => ({
      body: [
        tsLayer(`${outputs.out}First`, 'permute', { dims: [3, 1, 2], name: `${layer}_cfirst` }, inputs.in),
        tsLayer(
          `${outputs.out}Padded`,
          'zeroPadding2d',
          {
            padding: [
              [p.before, p.after],
              [0, 0],
            ],
            name: `${layer}_pad`,
          },
          `${outputs.out}First`,
        ),
        tsLayer(outputs.out, 'permute', { dims: [2, 3, 1], name: layer }, `${outputs.out}Padded`),
      ],
    }),
    keras: ({ params: p, inputs, outputs, layer }) => ({
      body: [
        kerasLayer(`${outputs.out}_first`, 'Permute', [[3, 1, 2]], { name: `${layer}_cfirst` }, inputs.in),
        kerasLayer(
          `${outputs.out}_padded`,
          'ZeroPadding2D',
          [],
          {
            padding: [
              [p.before, p.after],
              [0, 0],
            ],
            name: `${layer}_pad`,
          },
          `${outputs.out}_first`,
        ),
        kerasLayer(outputs.out, 'Permute', [[2, 3, 1]], { name: layer }, `${outputs.out}_padded`),
      ],
    }),
    pytorch: ({ params: p, inputs, outputs }) => ({
      body: [`${outputs.out} = F.pad(${inputs.in}, (0, 0, 0, 0, ${p.before}, ${p.after}))`],
    }),
  },
  examples: [
    { params: { before: 2, after: 2 }, inputs: { in: [null, 4, 4, 4] } },
    { params: { before: 0, after: 3 }, inputs: { in: [null, 3, 5, 2] } },
  ],
});
