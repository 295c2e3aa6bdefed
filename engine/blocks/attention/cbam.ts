// CBAM (Woo et al. 2018) and its two halves, each a block of its own.
import { defineBlock } from '../contract.js';
import { unlessDefault } from './ops/emit.js';
import { imageInput, oddKernel, reductionParam } from './vision-ops/gates.js';
import { cbam as cbamModule, channelAttention, spatialAttention } from './vision-ops/vision-attention.js';
import {
  batchNormWeights,
  convWeights,
  KERAS_CBAM,
  KERAS_CHANNEL_ATTENTION,
  KERAS_SPATIAL_ATTENTION,
  linearWeights,
  pyTargets,
  TORCH_CBAM,
  TORCH_CHANNEL_ATTENTION,
  TORCH_SPATIAL_ATTENTION,
  TS_HELPERS,
  tsCall,
  under,
} from './vision-ops/emit.js';
import { pyArgs } from '../emit/snippets.js';
import type { TorchWeight } from '../contract.js';

const channelTorchWeights = (bias: boolean): TorchWeight[] => [...linearWeights('fc1', 'fc1', bias), ...linearWeights('fc2', 'fc2', bias)];
const spatialTorchWeights = (bn: boolean): TorchWeight[] => [...convWeights('conv', 'conv', false), ...(bn ? batchNormWeights('bn', 'bn') : [])];
/** Renames tfjs weights `_x` to `_${prefix}_x`, for the halves inside the full CBAM. */
const nested = (prefix: string, ws: TorchWeight[]): TorchWeight[] => under(prefix, ws).map((w) => ({ ...w, tfjs: `_${prefix}${w.tfjs}` }));

const paper = 'Woo, Park, Lee & Kweon (2018). CBAM: Convolutional Block Attention Module.';

const channelParams = {
  reduction: reductionParam,
  bias: { type: 'bool', default: true, doc: "Biases in the shared MLP (the authors' code uses nn.Linear with bias)." },
} as const;

const spatialParams = {
  kernel: { type: 'int', default: 7, min: 1, max: 15, doc: "Size k of the spatial gate's k×k convolution (odd; the paper uses 7)." },
  batchNorm: {
    type: 'bool',
    default: true,
    doc: "BatchNorm after the spatial convolution, as in the authors' code (the paper's formula has none).",
  },
  bnMomentum: {
    type: 'float',
    default: 0.1,
    min: 0,
    max: 1,
    label: 'BatchNorm momentum',
    doc: "Momentum of the spatial gate's BatchNorm in PyTorch's sense (the weight of each new batch): 0.1 is PyTorch's default, the authors' code uses 0.01.",
  },
} as const;

const input = [{ name: 'in', doc: 'Feature map [B, H, W, C].', rank: 4 }] as const;
const out = { name: 'out', doc: 'The refined feature map [B, H, W, C].' };
const channelWeights = { name: 'channelWeights', doc: 'Channel weights M_c [B, C], in (0, 1).', attention: 'channel', axes: 'batch, channel' } as const;
const spatialMap = { name: 'spatialMap', doc: 'Spatial map M_s [B, H, W], in (0, 1).', attention: 'spatial', axes: 'batch, height, width' } as const;

const conventions =
  "Conventions (the authors' code): the channel MLP is FC C→⌊C/r⌋ → ReLU → FC →C with biases, 2·C·⌊C/r⌋ + ⌊C/r⌋ + C " +
  'parameters; the spatial convolution 2→1 has no bias and is followed by BatchNorm(1), 2·k² + 2 trainable ' +
  "parameters (+2 running statistics), or 2·k² without it. The pooled maps are stacked [mean; max] in the paper's " +
  "order (the authors' code stacks max first).";

export const cbamChannel = defineBlock({
  type: 'attention.cbamChannel',
  label: 'CBAM channel attention',
  category: 'Attention',
  doc:
    "CBAM's channel attention module: the average- and max-pooled channel descriptors go through one shared MLP, " +
    'are summed and squashed, M_c = σ(MLP(AvgPool(x)) + MLP(MaxPool(x))), and every channel is scaled, y = M_c ⊙ x. ' +
    conventions,
  paper,
  params: channelParams,
  inputs: input,
  outputs: [out, channelWeights],
  inferShape({ inputs }) {
    const [h, w, c] = imageInput(inputs.in, 'in');
    return { out: [null, h, w, c], channelWeights: [null, c] };
  },
  build(tf, { params: p, inputs, name, init }) {
    const g = channelAttention(tf, inputs.in, { reduction: p.reduction, useBias: p.bias, name }, init);
    return { out: g.out, channelWeights: g.weights };
  },
  emit: {
    tfjs: ({ params: p, inputs, outputs, layer }) => ({
      body: [
        tsCall('channelAttention', { out: outputs.out, weights: outputs.channelWeights }, [inputs.in], {
          reduction: p.reduction,
          useBias: p.bias ? undefined : false,
          name: layer,
        }),
      ],
      helpers: TS_HELPERS.channelAttention,
    }),
    keras: ({ params: p, inputs, outputs, layer }) => ({
      body: [
        `${pyTargets([outputs.out, outputs.channelWeights])} = ChannelAttention(${pyArgs([], { reduction: p.reduction, use_bias: p.bias ? undefined : false, name: layer })})(${inputs.in})`,
      ],
      helpers: [KERAS_CHANNEL_ATTENTION],
    }),
    pytorch: ({ params: p, inputs, inputShapes, outputs, name }) => ({
      init: [`self.${name} = ChannelAttention(${pyArgs([], { channels: inputShapes.in[3], reduction: p.reduction, bias: p.bias ? undefined : false })})`],
      body: [`${pyTargets([outputs.out, outputs.channelWeights])} = self.${name}(${inputs.in})`],
      helpers: [TORCH_CHANNEL_ATTENTION],
      torchWeights: channelTorchWeights(p.bias),
    }),
  },
  examples: [{ params: { reduction: 4 }, inputs: { in: [null, 6, 6, 8] } }],
});

export const cbamSpatial = defineBlock({
  type: 'attention.cbamSpatial',
  label: 'CBAM spatial attention',
  category: 'Attention',
  doc:
    "CBAM's spatial attention module: average and max over the channels give two maps, a k×k convolution turns " +
    'them into one, M_s = σ(f^{k×k}([AvgPool(x); MaxPool(x)])), and every position is scaled, y = M_s ⊙ x. ' +
    conventions,
  paper,
  params: spatialParams,
  inputs: input,
  outputs: [out, spatialMap],
  inferShape({ params: p, inputs }) {
    oddKernel(p.kernel);
    const [h, w, c] = imageInput(inputs.in, 'in');
    return { out: [null, h, w, c], spatialMap: [null, h, w] };
  },
  build(tf, { params: p, inputs, name, init }) {
    const g = spatialAttention(tf, inputs.in, { kernelSize: p.kernel, batchNorm: p.batchNorm, bnMomentum: p.bnMomentum, name }, init);
    return { out: g.out, spatialMap: g.map };
  },
  emit: {
    tfjs: ({ params: p, inputs, outputs, layer }) => ({
      body: [
        tsCall('spatialAttention', { out: outputs.out, map: outputs.spatialMap }, [inputs.in], {
          kernelSize: p.kernel === 7 ? undefined : p.kernel,
          batchNorm: p.batchNorm ? undefined : false,
          bnMomentum: unlessDefault(p.bnMomentum, 0.1),
          name: layer,
        }),
      ],
      helpers: TS_HELPERS.spatialAttention,
    }),
    keras: ({ params: p, inputs, outputs, layer }) => ({
      body: [
        `${pyTargets([outputs.out, outputs.spatialMap])} = SpatialAttention(${pyArgs([], { kernel_size: p.kernel === 7 ? undefined : p.kernel, batch_norm: p.batchNorm ? undefined : false, bn_momentum: unlessDefault(p.bnMomentum, 0.1), name: layer })})(${inputs.in})`,
      ],
      helpers: [KERAS_SPATIAL_ATTENTION],
    }),
    pytorch: ({ params: p, inputs, outputs, name }) => ({
      init: [
        `self.${name} = SpatialAttention(${pyArgs([], { kernel_size: p.kernel === 7 ? undefined : p.kernel, batch_norm: p.batchNorm ? undefined : false, bn_momentum: unlessDefault(p.bnMomentum, 0.1) })})`,
      ],
      body: [`${pyTargets([outputs.out, outputs.spatialMap])} = self.${name}(${inputs.in})`],
      helpers: [TORCH_SPATIAL_ATTENTION],
      torchWeights: spatialTorchWeights(p.batchNorm),
    }),
  },
  examples: [{ inputs: { in: [null, 6, 6, 8] } }, { params: { kernel: 3, batchNorm: false }, inputs: { in: [null, 5, 4, 3] } }],
});

export const cbam = defineBlock({
  type: 'attention.cbam',
  label: 'CBAM',
  category: 'Attention',
  doc:
    'Convolutional Block Attention Module: channel attention, then spatial attention on its result, ' +
    'F′ = M_c(F) ⊙ F, F″ = M_s(F′) ⊙ F′. Outputs the refined map, the channel weights [B, C] and the spatial map ' +
    '[B, H, W]. Placed inside a residual unit before the addition in the paper. ' +
    conventions,
  paper,
  params: { ...channelParams, ...spatialParams },
  inputs: input,
  outputs: [out, channelWeights, spatialMap],
  inferShape({ params: p, inputs }) {
    oddKernel(p.kernel);
    const [h, w, c] = imageInput(inputs.in, 'in');
    return { out: [null, h, w, c], channelWeights: [null, c], spatialMap: [null, h, w] };
  },
  build(tf, { params: p, inputs, name, init }) {
    const { reduction, kernel: kernelSize, bias: useBias, batchNorm, bnMomentum } = p;
    return cbamModule(tf, inputs.in, { reduction, kernelSize, useBias, batchNorm, bnMomentum, name }, init);
  },
  emit: {
    tfjs: ({ params: p, inputs, outputs, layer }) => ({
      body: [
        tsCall('cbam', outputs, [inputs.in], {
          reduction: p.reduction,
          kernelSize: p.kernel === 7 ? undefined : p.kernel,
          useBias: p.bias ? undefined : false,
          batchNorm: p.batchNorm ? undefined : false,
          bnMomentum: unlessDefault(p.bnMomentum, 0.1),
          name: layer,
        }),
      ],
      helpers: TS_HELPERS.cbam,
    }),
    keras: ({ params: p, inputs, outputs, layer }) => ({
      body: [
        `${pyTargets([outputs.out, outputs.channelWeights, outputs.spatialMap])} = CBAM(${pyArgs([], { reduction: p.reduction, kernel_size: p.kernel === 7 ? undefined : p.kernel, use_bias: p.bias ? undefined : false, batch_norm: p.batchNorm ? undefined : false, bn_momentum: unlessDefault(p.bnMomentum, 0.1), name: layer })})(${inputs.in})`,
      ],
      helpers: [KERAS_CHANNEL_ATTENTION, KERAS_SPATIAL_ATTENTION, KERAS_CBAM],
    }),
    pytorch: ({ params: p, inputs, inputShapes, outputs, name }) => ({
      init: [
        `self.${name} = CBAM(${pyArgs([], { channels: inputShapes.in[3], reduction: p.reduction, kernel_size: p.kernel === 7 ? undefined : p.kernel, bias: p.bias ? undefined : false, batch_norm: p.batchNorm ? undefined : false, bn_momentum: unlessDefault(p.bnMomentum, 0.1) })})`,
      ],
      body: [`${pyTargets([outputs.out, outputs.channelWeights, outputs.spatialMap])} = self.${name}(${inputs.in})`],
      helpers: [TORCH_CHANNEL_ATTENTION, TORCH_SPATIAL_ATTENTION, TORCH_CBAM],
      torchWeights: [...nested('channel', channelTorchWeights(p.bias)), ...nested('spatial', spatialTorchWeights(p.batchNorm))],
    }),
  },
  examples: [
    { params: { reduction: 4 }, inputs: { in: [null, 6, 6, 8] } },
    { params: { reduction: 3, kernel: 3, batchNorm: false, bias: false }, inputs: { in: [null, 4, 5, 7] } },
  ],
});
