import { defineBlock, ShapeError } from '../contract.js';
import { localSelfAttention2d } from './structured-ops/structured-attention.js';
import { expectRank } from '../shape-rules.js';
import { KERAS_LOCAL_SELF_ATTENTION, TORCH_LOCAL_SELF_ATTENTION, TS_HELPERS } from './structured-ops/emit.js';
import { convWeights, pyTargets, tsCall } from './vision-ops/emit.js';
import { pyArgs } from '../emit/snippets.js';

export default defineBlock({
  type: 'attention.localSelfAttention2d',
  label: 'Local self-attention 2D',
  category: 'Attention',
  doc:
    'Stand-alone self-attention (Ramachandran et al. 2019), a drop-in replacement for a k×k convolution: every ' +
    'position ij attends to its k×k neighbourhood N(ij), y_ij = Σ_ab∈N softmax_ab(q_ijᵀ k_ab + q_ijᵀ r_(a−i, b−j)) v_ab, ' +
    'with q, k, v bias-free 1×1 projections split into heads. The relative position embedding r of an offset is the ' +
    'concatenation of a row-offset embedding and a column-offset embedding, each half of the output channels, split ' +
    'over the heads like the keys. As in the paper the logits are not scaled by 1/√d. Neighbours that fall outside ' +
    'the image are masked out of the softmax (rather than attending to zero padding). The attention output gives, ' +
    'per head and query position (row-major, h·W + w), the weights of the k×k window (row-major offsets, the centre ' +
    'at index (k·k − 1)/2); weights of masked neighbours are 0.',
  paper: 'Ramachandran, P., Parmar, N., Vaswani, A., Bello, I., Levskaya, A., Shlens, J. (2019). Stand-Alone Self-Attention in Vision Models. NeurIPS.',
  params: {
    channels: { type: 'int', default: 16, min: 2, max: 4096, doc: 'Output channels d_out (even: half row, half column embedding).' },
    heads: { type: 'int', default: 4, min: 1, max: 64, doc: 'Attention heads; must divide the output channels.' },
    kernel: { type: 'int', default: 3, min: 1, max: 15, doc: 'Neighbourhood size k (odd; the paper uses 7).' },
  },
  inputs: [{ name: 'in', doc: 'Feature map [B, H, W, C].', rank: 4 }],
  outputs: [
    { name: 'out', doc: 'Feature map [B, H, W, channels].' },
    {
      name: 'attention',
      doc: "Weights over each position's k×k window, [B, heads, H·W, k·k].",
      attention: 'matrix',
      axes: 'batch, head, query position (h·W + w), window offset (row-major k×k)',
    },
  ],
  inferShape({ params: p, inputs }) {
    const [b, h, w] = expectRank(inputs.in, 'in', 4, 'an NHWC feature map');
    if (p.kernel % 2 === 0) throw new ShapeError(`kernel ${p.kernel} must be odd so that the window is centred on its position`);
    if (p.channels % 2 !== 0) throw new ShapeError(`channels ${p.channels} must be even: half carry the row-offset embedding, half the column-offset one`);
    if (p.channels % p.heads !== 0) throw new ShapeError(`heads ${p.heads} must divide channels ${p.channels}`);
    return { out: [b, h, w, p.channels], attention: [b, p.heads, h === null || w === null ? null : h * w, p.kernel * p.kernel] };
  },
  build(tf, { params: p, inputs, name, init }) {
    return localSelfAttention2d(tf, inputs.in, { channels: p.channels, heads: p.heads, kernel: p.kernel, name }, init);
  },
  emit: {
    tfjs: ({ params: p, inputs, outputs, layer }) => ({
      body: [tsCall('localSelfAttention2d', outputs, [inputs.in], { channels: p.channels, heads: p.heads, kernel: p.kernel, name: layer })],
      helpers: TS_HELPERS.localSelfAttention,
    }),
    keras: ({ params: p, inputs, outputs, layer }) => ({
      body: [
        `${pyTargets([outputs.out, outputs.attention])} = LocalSelfAttention2d(${pyArgs([p.channels], { heads: p.heads, kernel_size: p.kernel, name: layer })})(${inputs.in})`,
      ],
      helpers: [KERAS_LOCAL_SELF_ATTENTION],
    }),
    pytorch: ({ params: p, inputs, inputShapes, outputs, name }) => ({
      init: [
        `self.${name} = LocalSelfAttention2d(${pyArgs([], { in_channels: inputShapes.in[3], channels: p.channels, heads: p.heads, kernel_size: p.kernel })})`,
      ],
      body: [`${pyTargets([outputs.out, outputs.attention])} = self.${name}(${inputs.in})`],
      helpers: [TORCH_LOCAL_SELF_ATTENTION],
      torchWeights: [
        ...['query', 'key', 'value'].flatMap((c) => convWeights(c, c, false)),
        { torch: 'row_embedding', tfjs: '_attention/row_embedding' },
        { torch: 'col_embedding', tfjs: '_attention/col_embedding' },
      ],
    }),
  },
  examples: [
    { params: { channels: 8, heads: 2, kernel: 3 }, inputs: { in: [null, 6, 5, 4] } },
    { params: { channels: 16, heads: 4, kernel: 5 }, inputs: { in: [null, 4, 4, 3] } },
  ],
});
