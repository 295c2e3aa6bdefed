import { defineBlock } from './contract.js';
import { expectRank } from './shape-rules.js';
import { DENSE_KERNEL_TO_TORCH, kerasLayer, tsLayer } from './emit/snippets.js';

export default defineBlock({
  type: 'core.classificationHead',
  label: 'Classification head',
  category: 'Heads',
  doc:
    'Turns features into class probabilities: a Dense layer with one unit per class followed by a softmax. ' +
    'Wire it into an Output with loss "auto" and it trains with categorical cross-entropy on one-hot labels ' +
    '(or sparse cross-entropy on integer labels, if chosen here). An image feature map is global-average-pooled first.',
  params: {
    classes: { type: 'int', default: 10, min: 2, max: 100000, doc: 'Number of classes.' },
    labels: { type: 'enum', options: ['onehot', 'sparse'], default: 'onehot', doc: 'Label encoding the loss expects.' },
  },
  inputs: [{ name: 'in', doc: 'Features [B, F] (or a feature map [B, H, W, C], pooled first).', rank: [2, 4] }],
  outputs: (p) => [
    {
      name: 'probs',
      doc: 'Class probabilities [B, classes].',
      loss: p.labels === 'sparse' ? 'sparseCategoricalCrossentropy' : 'categoricalCrossentropy',
    },
  ],
  inferShape({ params, inputs }) {
    const x = expectRank(inputs.in, 'in', [2, 4], 'features or a feature map');
    return { probs: [x[0], params.classes] };
  },
  build(tf, { params, inputs, name, init }) {
    let x = inputs.in;
    if (x.shape.length === 4) x = tf.layers.globalAveragePooling2d({ name: `${name}_pool` }).apply(x) as never;
    const dense = tf.layers.dense({ units: params.classes, activation: 'softmax', kernelInitializer: init.glorotUniform(), name });
    return { probs: dense.apply(x) as never };
  },
  emit: {
    tfjs({ params, inputs, inputShapes, outputs, layer }) {
      const image = inputShapes.in.length === 4;
      const pooled = image ? `${outputs.probs}Pooled` : inputs.in;
      return {
        body: [
          ...(image ? [tsLayer(pooled, 'globalAveragePooling2d', { name: `${layer}_pool` }, inputs.in)] : []),
          tsLayer(outputs.probs, 'dense', { units: params.classes, activation: 'softmax', name: layer }, pooled),
        ],
      };
    },
    keras({ params, inputs, inputShapes, outputs, layer }) {
      const image = inputShapes.in.length === 4;
      const pooled = image ? `${outputs.probs}_pooled` : inputs.in;
      return {
        body: [
          ...(image ? [kerasLayer(pooled, 'GlobalAveragePooling2D', [], { name: `${layer}_pool` }, inputs.in)] : []),
          kerasLayer(outputs.probs, 'Dense', [params.classes], { activation: 'softmax', name: layer }, pooled),
        ],
      };
    },
    pytorch({ params, inputs, inputShapes, outputs, name, logits }) {
      const x = inputShapes.in;
      const pooled = x.length === 4 ? `${inputs.in}.mean(dim=(2, 3))` : inputs.in;
      const asLogits = !!logits?.includes('probs');
      return {
        init: [`self.${name} = nn.Linear(${x[x.length - 1]}, ${params.classes})`],
        body: [`${outputs.probs} = ${asLogits ? `self.${name}(${pooled})` : `torch.softmax(self.${name}(${pooled}), dim=-1)`}`],
        logits: asLogits ? { probs: -1 } : undefined,
        torchWeights: [
          { torch: 'weight', tfjs: 'kernel', permute: DENSE_KERNEL_TO_TORCH },
          { torch: 'bias', tfjs: 'bias' },
        ],
      };
    },
  },
  examples: [
    { params: { classes: 10 }, inputs: { in: [null, 64] } },
    { params: { classes: 5, labels: 'sparse' }, inputs: { in: [null, 4, 4, 8] } },
  ],
});
