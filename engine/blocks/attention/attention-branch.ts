import { defineBlock, ShapeError } from '../contract.js';
import { imageInput } from './vision-ops/gates.js';
import { attentionBranch } from './vision-ops/vision-attention.js';
import { batchNormWeights, convWeights, KERAS_ATTENTION_BRANCH, pyTargets, TORCH_ATTENTION_BRANCH, TS_HELPERS, tsCall } from './vision-ops/emit.js';
import { pyArgs } from '../emit/snippets.js';

export default defineBlock({
  type: 'attention.attentionBranch',
  label: 'Attention branch',
  category: 'Attention',
  doc:
    'The attention branch of an Attention Branch Network. From the feature map g(x): `convLayers` 3×3 conv–BN–ReLU ' +
    'layers, BatchNorm, a 1×1 conv to K class maps, BN, ReLU; then (a) a 1×1 conv K→K, global average pooling and ' +
    "softmax give class scores, the branch's own prediction, and (b) a conv K→1, BN and sigmoid give the attention " +
    'map M. The features out, g′(x) = (1 + M)·g(x), go on to the perception branch. Wire `scores` into an Output: ' +
    'its "auto" loss is categorical cross-entropy, so the model trains on L_att + L_per. As in the authors\' code, ' +
    'the convolutions have no bias and each is followed by BatchNorm; their residual units are plain conv–BN–ReLU ' +
    'layers here. Trainable parameters: n·(9C² + 2C) + 2C + CK + 2K + K² + k²K + 2 for n conv layers and a k×k map ' +
    "convolution, plus the BatchNorms' running statistics.",
  paper: 'Fukui, Hirakawa, Yamashita & Fujiyoshi (2019). Attention Branch Network: Learning of Attention Mechanism for Visual Explanation.',
  params: {
    classes: { type: 'int', default: 10, min: 2, max: 100000, doc: 'Number of classes K.' },
    convLayers: { type: 'int', default: 1, min: 0, max: 8, doc: 'Feature layers (3×3 conv, BN, ReLU, C channels) before the class maps.' },
    mapKernel: { type: 'int', default: 1, min: 1, max: 7, doc: "Kernel of the conv K→1 that makes the map (odd; 1 in the paper, 3 in the authors' code)." },
  },
  inputs: [{ name: 'in', doc: 'Feature map g(x) [B, H, W, C].', rank: 4 }],
  outputs: (p) => [
    { name: 'out', doc: 'Attended features (1 + M)·g(x) [B, H, W, C].' },
    { name: 'map', doc: 'Attention map M [B, H, W], in (0, 1).', attention: 'spatial', axes: 'batch, height, width' },
    { name: 'scores', doc: `Class probabilities of the attention branch [B, ${p.classes}].`, loss: 'categoricalCrossentropy' },
  ],
  inferShape({ params: p, inputs }) {
    const [h, w, c] = imageInput(inputs.in, 'in');
    if (p.mapKernel % 2 === 0) throw new ShapeError(`mapKernel ${p.mapKernel} is even: use an odd kernel so that the map keeps its alignment with the input`);
    return { out: [null, h, w, c], map: [null, h, w], scores: [null, p.classes] };
  },
  build(tf, { params: p, inputs, name, init }) {
    return attentionBranch(tf, inputs.in, { classes: p.classes, convLayers: p.convLayers, mapKernel: p.mapKernel, name }, init);
  },
  emit: {
    tfjs: ({ params: p, inputs, outputs, layer }) => ({
      body: [tsCall('attentionBranch', outputs, [inputs.in], { classes: p.classes, convLayers: p.convLayers, mapKernel: p.mapKernel, name: layer })],
      helpers: TS_HELPERS.attentionBranch,
    }),
    keras: ({ params: p, inputs, outputs, layer }) => ({
      body: [
        `${pyTargets([outputs.out, outputs.map, outputs.scores])} = AttentionBranch(${pyArgs([p.classes], { conv_layers: p.convLayers, map_kernel: p.mapKernel, name: layer })})(${inputs.in})`,
      ],
      helpers: [KERAS_ATTENTION_BRANCH],
    }),
    pytorch({ params: p, inputs, inputShapes, outputs, name }) {
      const layers = Array.from({ length: p.convLayers }, (_, i) => i);
      return {
        init: [
          `self.${name} = AttentionBranch(${pyArgs([], { channels: inputShapes.in[3], classes: p.classes, conv_layers: p.convLayers, map_kernel: p.mapKernel })})`,
        ],
        body: [`${pyTargets([outputs.out, outputs.map, outputs.scores])} = self.${name}(${inputs.in})`],
        helpers: [TORCH_ATTENTION_BRANCH],
        torchWeights: [
          ...layers.flatMap((i) => [...convWeights(`convs.${i}`, `conv${i + 1}`, false), ...batchNormWeights(`bns.${i}`, `bn${i + 1}`)]),
          ...batchNormWeights('bn', 'bn'),
          ...convWeights('class_conv', 'class_conv', false),
          ...batchNormWeights('class_bn', 'class_bn'),
          ...convWeights('score_conv', 'score_conv', false),
          ...convWeights('map_conv', 'map_conv', false),
          ...batchNormWeights('map_bn', 'map_bn'),
        ],
      };
    },
  },
  examples: [
    { params: { classes: 5 }, inputs: { in: [null, 6, 6, 8] } },
    { params: { classes: 3, convLayers: 0, mapKernel: 3 }, inputs: { in: [null, 4, 5, 2] } },
  ],
});
