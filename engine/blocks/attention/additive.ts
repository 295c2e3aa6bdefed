import { defineBlock } from '../contract.js';
import { additiveAttention } from './ops/build.js';
import { alignmentPorts, alignmentShape } from './ops/ports.js';
import { alignmentPy, alignmentTs, kerasCall, torchModule, unlessDefault } from './ops/emit.js';
import { linearWeights, TORCH_ADDITIVE, TORCH_MASKED_SOFTMAX } from './ops/emit-torch.js';
import { KERAS_ADDITIVE, KERAS_MASKED_SOFTMAX } from './ops/emit-keras.js';
import { TS_ADDITIVE } from './ops/emit-tfjs.js';

export default defineBlock({
  type: 'attention.additive',
  label: 'Additive attention (Bahdanau)',
  category: 'Attention',
  paper: 'Bahdanau, D., Cho, K. & Bengio, Y. (2014). Neural Machine Translation by Jointly Learning to Align and Translate. arXiv:1409.0473 (ICLR 2015).',
  doc:
    'Additive attention (Bahdanau, Cho & Bengio 2014, "Neural Machine Translation by Jointly Learning to Align and ' +
    'Translate"): each query (decoder state s) scores every key (encoder annotation h_j) with a one-hidden-layer ' +
    'network, e_j = vᵀ tanh(W₁s + W₂h_j); the alignment weights are softmax(e) and the context is Σ_j α_j h_j. ' +
    'Works when query and key sizes differ. "units" is the hidden size of the scoring network. The paper has no ' +
    'biases; turn them on to match implementations with Linear layers (the PyTorch seq2seq tutorial), minus the ' +
    'bias of v, which cannot change a softmax. Parameters: Dq·units + Dk·units + units (+ 2·units with biases).',
  params: {
    units: { type: 'int', default: 32, min: 1, max: 100000, doc: 'Hidden size of the scoring network (the size of v).' },
    useBias: { type: 'bool', default: false, doc: 'Biases on W₁ and W₂ (not in the paper).' },
  },
  ...alignmentPorts,
  inferShape({ inputs }) {
    const { out, weights } = alignmentShape(inputs);
    return { out, weights };
  },
  build(tf, { params: p, inputs, name, init }) {
    const r = additiveAttention({ tf, name, init }, inputs.query, inputs.keys, inputs.values ?? inputs.keys, inputs.mask, p);
    return { out: r.context, weights: r.weights };
  },
  emit: {
    tfjs: ({ params: p, inputs: i, outputs: o, layer }) => ({
      body: [alignmentTs('additiveAttention', i, o, { units: p.units, useBias: unlessDefault(p.useBias, false), name: layer })],
      helpers: [TS_ADDITIVE],
    }),
    keras: ({ params: p, inputs: i, outputs: o, layer }) => ({
      body: [
        kerasCall('AdditiveAttention', [], { units: p.units, use_bias: unlessDefault(p.useBias, false), name: layer }, ...alignmentPy(i, o, 'padding_mask')),
      ],
      helpers: [KERAS_MASKED_SOFTMAX, KERAS_ADDITIVE],
    }),
    pytorch: ({ params: p, inputs: i, outputs: o, inputShapes: s, name }) => ({
      ...torchModule(
        name,
        'AdditiveAttention',
        [],
        { query_dim: s.query[2], key_dim: s.keys[2], units: p.units, bias: unlessDefault(p.useBias, false) },
        ...alignmentPy(i, o, 'mask'),
      ),
      helpers: [TORCH_MASKED_SOFTMAX, TORCH_ADDITIVE],
      torchWeights: [...linearWeights('w_query', 'wq', p.useBias), ...linearWeights('w_key', 'wk', p.useBias), ...linearWeights('v', 'v', false)],
    }),
  },
  examples: [
    { params: { units: 8 }, inputs: { query: [null, 1, 6], keys: [null, 5, 4] } },
    { params: { units: 4, useBias: true }, inputs: { query: [null, 3, 6], keys: [null, 5, 4], values: [null, 5, 7], mask: [null, 5] } },
  ],
});
