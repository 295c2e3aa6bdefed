import { defineBlock, ShapeError } from '../contract.js';
import { luongAttention } from './ops/sequence-attention.js';
import { alignmentPorts, alignmentShape } from './ops/ports.js';
import { alignmentPy, alignmentTs, kerasCall, torchModule } from './ops/emit.js';
import { linearWeights, TORCH_LUONG, TORCH_MASKED_SOFTMAX } from './ops/emit-torch.js';
import { KERAS_LUONG, KERAS_MASKED_SOFTMAX } from './ops/emit-keras.js';
import { TS_LUONG } from './ops/emit-tfjs.js';

export default defineBlock({
  type: 'attention.luong',
  label: 'Luong attention',
  category: 'Attention',
  paper: 'Luong, M.-T., Pham, H. & Manning, C. D. (2015). Effective Approaches to Attention-based Neural Machine Translation. EMNLP.',
  doc:
    'Global attention of Luong, Pham & Manning (2015, "Effective Approaches to Attention-based Neural Machine ' +
    'Translation", §3.1) with its three score functions between the decoder state h_t and each encoder state h̄_s: ' +
    'dot, h_tᵀh̄_s (no weights; the sizes must match); general, h_tᵀW_a h̄_s (Dq·Dk weights); concat, ' +
    'v_aᵀ tanh(W_a[h_t; h̄_s]) ((Dq + Dk)·units + units weights). The alignment weights are the softmax of the ' +
    "scores over the source and the context is their average of the values. For the paper's attentional state " +
    'h̃_t = tanh(W_c[c_t; h_t]) follow it with Concatenate and a tanh Dense.',
  params: {
    score: { type: 'enum', options: ['dot', 'general', 'concat'], default: 'general', doc: 'Score function.' },
    units: { type: 'int', default: 32, min: 1, max: 100000, doc: 'Hidden size of the concat score (concat only).' },
  },
  ...alignmentPorts,
  inferShape({ params: p, inputs }) {
    const { out, weights, dq, dk } = alignmentShape(inputs);
    if (p.score === 'dot' && dq !== dk)
      throw new ShapeError(`the dot score needs queries and keys of the same size: ${dq} vs ${dk} (use "general" or "concat")`, 'keys');
    return { out, weights };
  },
  build(tf, { params: p, inputs, name, init }) {
    const { context, weights } = luongAttention(tf, { query: inputs.query, keys: inputs.keys, values: inputs.values, mask: inputs.mask }, { ...p, name }, init);
    return { out: context, weights };
  },
  emit: {
    tfjs: ({ params: p, inputs: i, outputs: o, layer }) => ({
      body: [alignmentTs('luongAttention', i, o, { score: p.score, units: p.score === 'concat' ? p.units : undefined, name: layer })],
      helpers: [TS_LUONG],
    }),
    keras: ({ params: p, inputs: i, outputs: o, inputShapes: s, layer }) => ({
      body: [
        kerasCall(
          'LuongAttention',
          [],
          { key_dim: s.keys[2], score: p.score, units: p.score === 'concat' ? p.units : undefined, name: layer },
          ...alignmentPy(i, o, 'padding_mask'),
        ),
      ],
      helpers: [KERAS_MASKED_SOFTMAX, KERAS_LUONG],
    }),
    pytorch: ({ params: p, inputs: i, outputs: o, inputShapes: s, name }) => ({
      ...torchModule(
        name,
        'LuongAttention',
        [],
        { query_dim: s.query[2], key_dim: s.keys[2], score: p.score, units: p.score === 'concat' ? p.units : undefined },
        ...alignmentPy(i, o, 'mask'),
      ),
      helpers: [TORCH_MASKED_SOFTMAX, TORCH_LUONG],
      torchWeights:
        p.score === 'general'
          ? linearWeights('w_a', 'wa', false)
          : p.score === 'concat'
            ? [...linearWeights('w_query', 'wq', false), ...linearWeights('w_key', 'wk', false), ...linearWeights('v_a', 'v', false)]
            : [],
    }),
  },
  examples: [
    { params: { score: 'dot' }, inputs: { query: [null, 2, 6], keys: [null, 5, 6] } },
    { params: { score: 'general' }, inputs: { query: [null, 3, 6], keys: [null, 5, 4], values: [null, 5, 3], mask: [null, 5] } },
    { params: { score: 'concat', units: 4 }, inputs: { query: [null, 1, 3], keys: [null, 4, 5] } },
  ],
});
