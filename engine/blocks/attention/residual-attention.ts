import { defineBlock, ShapeError } from '../contract.js';
import { expectRank } from '../shape-rules.js';
import { residualAttention } from './structured-ops/structured-attention.js';
import {
  bottleneckWeights,
  KERAS_PRE_ACT_BOTTLENECK,
  KERAS_RESIDUAL_ATTENTION,
  TORCH_PRE_ACT_BOTTLENECK,
  TORCH_RESIDUAL_ATTENTION,
  TS_HELPERS,
} from './structured-ops/emit.js';
import { batchNormWeights, convWeights, pyTargets, tsCall } from './vision-ops/emit.js';
import { pyArgs } from '../emit/snippets.js';
import type { TorchWeight } from '../contract.js';

/** Where the module's tfjs weights go in the PyTorch ResidualAttention module. */
function residualAttentionWeights(p: { p: number; t: number; r: number; levels: number }): TorchWeight[] {
  const units = (torch: string, tfjs: string, n: number) => Array.from({ length: n }, (_, i) => bottleneckWeights(`${torch}.${i}`, `${tfjs}${i + 1}`)).flat();
  const levels = Array.from({ length: p.levels }, (_, i) => i + 1);
  return [
    ...units('pre', 'pre', p.p),
    ...units('trunk', 'trunk', p.t),
    ...levels.flatMap((l) => units(`down.${l - 1}`, `mask_down${l}_`, p.r)),
    ...levels.slice(0, -1).flatMap((l) => bottleneckWeights(`skips.${l - 1}`, `mask_skip${l}`)),
    ...units('bottom', 'mask_bottom', p.r),
    ...levels.slice(0, -1).flatMap((l) => units(`up.${l - 1}`, `mask_up${l}_`, p.r)),
    ...[1, 2].flatMap((k) => [...batchNormWeights(`mask_bn${k}`, `mask_bn${k}`), ...convWeights(`mask_conv${k}`, `mask_conv${k}`, false)]),
    ...units('post', 'post', p.p),
  ];
}

export default defineBlock({
  type: 'attention.residualAttention',
  label: 'Residual attention module',
  category: 'Attention',
  doc:
    'The attention module of the Residual Attention Network (Wang et al. 2017). After p pre-processing residual ' +
    'units the input splits in two. The trunk branch T(x) is t residual units. The soft-mask branch is an hourglass: ' +
    'bottom-up, `levels` times a 3×3 stride-2 max-pool followed by r residual units (and, on every level but the ' +
    'lowest, one more unit that feeds a skip connection); r more units at the bottom; top-down, each level is ' +
    'upsampled, added to its skip connection and passed through r units; a last upsampling to the input size, then ' +
    'BN-ReLU-conv1×1-BN-ReLU-conv1×1 and a sigmoid give the mask M(x) ∈ (0, 1) with one value per position and ' +
    'channel. The output is (1 + M(x)) · T(x) — attention residual learning, so a mask near zero keeps the trunk ' +
    'features instead of erasing them — followed by p post-processing units. Residual units are pre-activation ' +
    "bottlenecks (BN-ReLU-conv1×1-BN-ReLU-conv3×3-BN-ReLU-conv1×1, width C/4, no biases) as in the authors' code, " +
    "so C must be divisible by 4. The paper's Attention-56 uses p = 1, t = 2, r = 1 with 3, 2 and 1 levels in its " +
    'three stages. Max-pooling pads like TensorFlow\'s "same" (PyTorch\'s padding=1 places the windows one pixel ' +
    "earlier on even sizes); bilinear upsampling aligns corners as Caffe's Interp layer does. The full mask is a " +
    'spatial map per channel; panels that draw one map per sample should use `maskMean`, its mean over channels.',
  paper: 'Wang, F., Jiang, M., Qian, C., Yang, S., Li, C., Zhang, H., Wang, X., Tang, X. (2017). Residual Attention Network for Image Classification. CVPR.',
  params: {
    p: { type: 'int', default: 1, min: 0, max: 8, doc: 'Pre-processing residual units before the split, and post-processing units after the merge.' },
    t: { type: 'int', default: 2, min: 1, max: 8, doc: 'Residual units in the trunk branch.' },
    r: { type: 'int', default: 1, min: 1, max: 8, doc: 'Residual units between adjacent pooling layers in the mask branch.' },
    levels: {
      type: 'int',
      default: 2,
      min: 1,
      max: 6,
      doc: 'Down-sampling steps of the mask branch (the paper: 3, 2, 1 for 56², 28², 14² maps); levels − 1 skip connections.',
    },
    upsample: { type: 'enum', options: ['bilinear', 'nearest'], default: 'bilinear', doc: 'Interpolation of the top-down path (the paper: bilinear).' },
  },
  inputs: [{ name: 'in', doc: 'Feature map [B, H, W, C], C divisible by 4.', rank: 4 }],
  outputs: [
    { name: 'out', doc: 'Features [B, H, W, C]: (1 + M) · T after the post-processing units.' },
    { name: 'mask', doc: 'The soft mask M(x) ∈ (0, 1), [B, H, W, C].', attention: 'spatial', axes: 'batch, height, width, channel' },
    { name: 'maskMean', doc: 'The mask averaged over channels, [B, H, W]: one map per sample for panels.', attention: 'spatial', axes: 'batch, height, width' },
  ],
  inferShape({ inputs }) {
    const [b, h, w, c] = expectRank(inputs.in, 'in', 4, 'an NHWC feature map');
    if (h === null || w === null)
      throw new ShapeError('the residual attention module needs a known height and width (its mask is upsampled back to them)', 'in');
    if (c === null || c < 4 || c % 4 !== 0)
      throw new ShapeError(`input "in" has ${c ?? 'unknown'} channels; the bottleneck residual units need a channel count divisible by 4 (width C/4)`, 'in');
    return { out: [b, h, w, c], mask: [b, h, w, c], maskMean: [b, h, w] };
  },
  build(tf, { params: p, inputs, name, init }) {
    return residualAttention(tf, inputs.in, { p: p.p, t: p.t, r: p.r, levels: p.levels, upsample: p.upsample, name }, init);
  },
  emit: {
    tfjs: ({ params: p, inputs, outputs, layer }) => ({
      body: [
        tsCall('residualAttention', outputs, [inputs.in], {
          p: p.p,
          t: p.t,
          r: p.r,
          levels: p.levels,
          upsample: p.upsample === 'bilinear' ? undefined : p.upsample,
          name: layer,
        }),
      ],
      helpers: TS_HELPERS.residualAttention,
    }),
    keras: ({ params: p, inputs, outputs, layer }) => ({
      body: [
        `${pyTargets([outputs.out, outputs.mask, outputs.maskMean])} = ResidualAttention(${pyArgs([], { p: p.p, t: p.t, r: p.r, levels: p.levels, upsample: p.upsample === 'bilinear' ? undefined : p.upsample, name: layer })})(${inputs.in})`,
      ],
      helpers: [KERAS_PRE_ACT_BOTTLENECK, KERAS_RESIDUAL_ATTENTION],
    }),
    pytorch: ({ params: p, inputs, inputShapes, outputs, name }) => ({
      init: [
        `self.${name} = ResidualAttention(${pyArgs([], { channels: inputShapes.in[3], p: p.p, t: p.t, r: p.r, levels: p.levels, upsample: p.upsample === 'bilinear' ? undefined : p.upsample })})`,
      ],
      body: [`${pyTargets([outputs.out, outputs.mask, outputs.maskMean])} = self.${name}(${inputs.in})`],
      helpers: [TORCH_PRE_ACT_BOTTLENECK, TORCH_RESIDUAL_ATTENTION],
      torchWeights: residualAttentionWeights(p),
    }),
  },
  examples: [
    { inputs: { in: [null, 8, 8, 8] } },
    { params: { p: 0, t: 1, r: 1, levels: 1, upsample: 'nearest' }, inputs: { in: [null, 5, 7, 4] } },
    { params: { levels: 3, r: 2 }, inputs: { in: [null, 9, 9, 8] } },
  ],
});
