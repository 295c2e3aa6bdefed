import { defineBlock } from '../contract.js';
import { attentionPooling } from './ops/sequence-attention.js';
import { tsObject } from '../emit/snippets.js';
import { checkMask, maskPort, sequence } from './ops/shapes.js';
import { torchModule, kerasCall } from './ops/emit.js';
import { linearWeights, TORCH_MASKED_SOFTMAX, TORCH_ATTENTION_POOLING } from './ops/emit-torch.js';
import { KERAS_ATTENTION_POOLING, KERAS_MASKED_SOFTMAX } from './ops/emit-keras.js';
import { TS_ATTENTION_POOLING } from './ops/emit-tfjs.js';

export default defineBlock({
  type: 'attention.pooling',
  label: 'Attention pooling (word / sentence attention)',
  category: 'Attention',
  paper: 'Yang, Z., Yang, D., Dyer, C., He, X., Smola, A. & Hovy, E. (2016). Hierarchical Attention Networks for Document Classification. NAACL-HLT.',
  doc:
    'Attention pooling (Yang et al. 2016, "Hierarchical Attention Networks for Document Classification"): a sequence ' +
    'of states h_t [B, T, D] becomes one vector. Each state gets a hidden representation u_t = tanh(W h_t + b), its ' +
    'weight is the softmax of its similarity with a learned context vector u_w, α_t = softmax(u_tᵀ u_w), and the ' +
    'output is Σ_t α_t h_t. The weights [B, T] show which words (or sentences) the classifier read. Connect the token ' +
    'ids to "mask" to leave padding (id 0) out. Parameters: D·units + units + units.',
  params: {
    units: { type: 'int', default: 64, min: 1, max: 100000, doc: 'Size of u_t and of the context vector u_w.' },
  },
  inputs: [{ name: 'in', doc: "States h [B, T, D] (e.g. a bidirectional GRU's).", rank: 3 }, maskPort],
  outputs: [
    { name: 'out', doc: 'The attention-weighted sum [B, D].' },
    { name: 'weights', doc: 'Attention weights α [B, T]; each row sums to 1.', attention: 'matrix', axes: 'batch, word' },
  ],
  inferShape({ inputs }) {
    const [t, d] = sequence(inputs.in, 'in');
    checkMask(inputs.mask, t, 'mask', 'in');
    return { out: [inputs.in[0], d], weights: [inputs.in[0], t] };
  },
  build(tf, { params: p, inputs, name, init }) {
    return attentionPooling(tf, { states: inputs.in, mask: inputs.mask }, { units: p.units, name }, init);
  },
  emit: {
    tfjs: ({ params: p, inputs: i, outputs: o, layer }) => ({
      body: [
        `const { out: ${o.out}, weights: ${o.weights} } = attentionPooling(tf, { states: ${i.in}${i.mask ? `, mask: ${i.mask}` : ''} }, ${tsObject({ units: p.units, name: layer })});`,
      ],
      helpers: [TS_ATTENTION_POOLING],
    }),
    keras: ({ params: p, inputs: i, outputs: o, layer }) => ({
      body: [kerasCall('AttentionPooling', [], { units: p.units, name: layer }, [o.out, o.weights], [i.in], { padding_mask: i.mask })],
      helpers: [KERAS_MASKED_SOFTMAX, KERAS_ATTENTION_POOLING],
    }),
    pytorch: ({ params: p, inputs: i, outputs: o, inputShapes: s, name }) => ({
      ...torchModule(name, 'AttentionPooling', [], { dim: s.in[2], units: p.units }, [o.out, o.weights], [i.in], { mask: i.mask }),
      helpers: [TORCH_MASKED_SOFTMAX, TORCH_ATTENTION_POOLING],
      torchWeights: [...linearWeights('proj', 'proj', true), ...linearWeights('context', 'context', false)],
    }),
  },
  examples: [
    { params: { units: 8 }, inputs: { in: [null, 6, 4] } },
    { params: { units: 5 }, inputs: { in: [null, 7, 6], mask: [null, 7] } },
  ],
});
