import { defineBlock, ShapeError } from '../contract.js';
import { augmentedConv2d } from './structured-ops/structured-attention.js';
import { expectRank } from '../shape-rules.js';
import { KERAS_AUGMENTED_CONV, TORCH_AUGMENTED_CONV, TS_HELPERS } from './structured-ops/emit.js';
import { convWeights, pyTargets, tsCall } from './vision-ops/emit.js';
import { pyArgs } from '../emit/snippets.js';

export default defineBlock({
  type: 'attention.augmentedConv',
  label: 'Attention-augmented convolution',
  category: 'Attention',
  doc:
    'Attention-augmented convolution (Bello et al. 2019): the output channels are split between a k×k convolution ' +
    '(filters − dv channels) and multi-head self-attention over all positions (dv channels), concatenated. The ' +
    'attention half projects the input with one 1×1 convolution to queries, keys (dk channels each) and values (dv), ' +
    "split into heads; logits are qᵀk/√(dk/heads) plus, with relative positions on, the query's dot product with " +
    'learned embeddings of the row offset and the column offset to each key (shared by the heads, as in the ' +
    "paper's code); a softmax over all H·W keys weighs the values, and a 1×1 convolution mixes the heads. With " +
    'dv = filters the layer is fully attentional. The attention output is the weight matrix per head over query and ' +
    'key positions (row-major, h·W + w).',
  paper: 'Bello, I., Zoph, B., Vaswani, A., Shlens, J., Le, Q. V. (2019). Attention Augmented Convolutional Networks. ICCV.',
  params: {
    filters: { type: 'int', default: 16, min: 1, max: 4096, doc: 'Output channels F_out (convolution and attention together).' },
    kernel: { type: 'int', default: 3, min: 1, max: 15, doc: 'Kernel size of the convolution.' },
    dk: { type: 'int', default: 8, min: 1, max: 4096, doc: 'Total query/key depth over all heads.' },
    dv: { type: 'int', default: 8, min: 1, max: 4096, doc: "Total value depth over all heads: the attention's share of the output channels." },
    heads: { type: 'int', default: 2, min: 1, max: 64, doc: 'Attention heads; must divide dk and dv.' },
    relative: { type: 'bool', default: true, doc: 'Add 2-D relative position logits (height and width offsets).' },
  },
  inputs: [{ name: 'in', doc: 'Feature map [B, H, W, C].', rank: 4 }],
  outputs: [
    { name: 'out', doc: 'Feature map [B, H, W, filters]: convolution channels, then attention channels.' },
    {
      name: 'attention',
      doc: 'Attention weights [B, heads, H·W, H·W].',
      attention: 'matrix',
      axes: 'batch, head, query position (h·W + w), key position (h·W + w)',
    },
  ],
  inferShape({ params: p, inputs }) {
    const [b, h, w] = expectRank(inputs.in, 'in', 4, 'an NHWC feature map');
    if (p.dk % p.heads !== 0) throw new ShapeError(`heads ${p.heads} must divide dk ${p.dk}`);
    if (p.dv % p.heads !== 0) throw new ShapeError(`heads ${p.heads} must divide dv ${p.dv}`);
    if (p.dv > p.filters) throw new ShapeError(`dv ${p.dv} is more than the ${p.filters} output filters; the attention's share must fit in them`);
    if (p.relative && (h === null || w === null)) throw new ShapeError('relative position logits need a known height and width', 'in');
    const n = h === null || w === null ? null : h * w;
    return { out: [b, h, w, p.filters], attention: [b, p.heads, n, n] };
  },
  build(tf, { params: p, inputs, name, init }) {
    const { filters, kernel: kernelSize, dk, dv, heads, relative } = p;
    return augmentedConv2d(tf, inputs.in, { filters, kernelSize, dk, dv, heads, relative, name }, init);
  },
  emit: {
    tfjs: ({ params: p, inputs, outputs, layer }) => ({
      body: [
        tsCall('augmentedConv2d', outputs, [inputs.in], {
          filters: p.filters,
          kernelSize: p.kernel,
          dk: p.dk,
          dv: p.dv,
          heads: p.heads,
          relative: p.relative ? undefined : false,
          name: layer,
        }),
      ],
      helpers: TS_HELPERS.augmentedConv,
    }),
    keras: ({ params: p, inputs, outputs, layer }) => ({
      body: [
        `${pyTargets([outputs.out, outputs.attention])} = AugmentedConv2d(${pyArgs([p.filters, p.kernel], { dk: p.dk, dv: p.dv, heads: p.heads, relative: p.relative ? undefined : false, name: layer })})(${inputs.in})`,
      ],
      helpers: [KERAS_AUGMENTED_CONV],
    }),
    pytorch({ params: p, inputs, inputShapes, outputs, name }) {
      const [, h, w, c] = inputShapes.in;
      const size = p.relative ? { height: h, width: w } : { relative: false };
      return {
        init: [
          `self.${name} = AugmentedConv2d(${pyArgs([], { in_channels: c, filters: p.filters, kernel_size: p.kernel, dk: p.dk, dv: p.dv, heads: p.heads, ...size })})`,
        ],
        body: [`${pyTargets([outputs.out, outputs.attention])} = self.${name}(${inputs.in})`],
        helpers: [TORCH_AUGMENTED_CONV],
        torchWeights: [
          ...(p.dv < p.filters ? convWeights('conv', 'conv') : []),
          ...convWeights('qkv', 'qkv'),
          ...convWeights('attn_out', 'attn_out'),
          ...(p.relative
            ? [
                { torch: 'key_rel_w', tfjs: '_attention/key_rel_w' },
                { torch: 'key_rel_h', tfjs: '_attention/key_rel_h' },
              ]
            : []),
        ],
      };
    },
  },
  examples: [
    { params: { filters: 8, kernel: 3, dk: 4, dv: 4, heads: 2 }, inputs: { in: [null, 4, 5, 3] } },
    { params: { filters: 6, dk: 4, dv: 6, heads: 2, relative: false }, inputs: { in: [null, 3, 3, 4] } },
  ],
});
