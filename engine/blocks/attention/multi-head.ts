import { defineBlock } from '../contract.js';
import { attnDropoutParam, buildMultiHead, headsParam, multiHeadShape, type MultiHeadOptions } from './ops/multi-head.js';
import { maskPort } from './ops/shapes.js';
import { kerasCall, torchModule, tsTensors, unlessDefault } from './ops/emit.js';
import { multiHeadWeights, TORCH_MASKED_SOFTMAX, TORCH_MULTI_HEAD } from './ops/emit-torch.js';
import { KERAS_MASKED_SOFTMAX, KERAS_MULTI_HEAD } from './ops/emit-keras.js';
import { TS_MULTI_HEAD } from './ops/emit-tfjs.js';
import { tsObject } from '../emit/snippets.js';

/** The options that differ from the defaults, as tfjs's multiHeadAttention takes them. */
const exportOptions = (p: MultiHeadOptions) => ({
  heads: p.heads,
  keyDim: p.keyDim || undefined,
  valueDim: p.valueDim || undefined,
  useBias: unlessDefault(p.useBias, true),
  dropout: p.dropout || undefined,
  causal: unlessDefault(p.causal, false),
});

/** The same as the Python helpers take them: the bias flag is `bias` in PyTorch and `use_bias` in Keras. */
function pythonOptions(p: MultiHeadOptions, bias: 'bias' | 'use_bias') {
  const { heads, keyDim, valueDim, useBias, dropout, causal } = exportOptions(p);
  return { num_heads: heads, head_dim: keyDim, value_head_dim: valueDim, [bias]: useBias, dropout, causal };
}

export default defineBlock({
  type: 'attention.multiHead',
  label: 'Multi-head attention',
  category: 'Attention',
  paper: 'Vaswani, A. et al. (2017). Attention Is All You Need. NeurIPS.',
  doc:
    'Multi-head attention (Vaswani et al. 2017, §3.2.2): the query, key and value are each projected to `heads` ' +
    'subspaces, scaled dot-product attention runs in every head, and the heads are concatenated and projected back ' +
    'to the query size E. Wire only "query" for self-attention; wire "key" (and "value", else the key is used) for ' +
    "cross-attention, e.g. a decoder attending over an encoder. Laid out like PyTorch's nn.MultiheadAttention " +
    '(embed_dim = E, kdim/vdim = the key/value sizes) with the same parameter count, 2E² + E·(kdim + vdim) + 4E ' +
    'with biases; "key dim"/"value dim" set Keras-style per-head sizes instead of E/heads.',
  params: {
    heads: headsParam,
    keyDim: { type: 'int', default: 0, min: 0, max: 100000, label: 'key dim', doc: 'Per-head query/key size; 0 = E / heads (PyTorch).' },
    valueDim: { type: 'int', default: 0, min: 0, max: 100000, label: 'value dim', doc: 'Per-head value size; 0 = E / heads (PyTorch).' },
    useBias: { type: 'bool', default: true, doc: 'Biases on the four projections (PyTorch bias=True).' },
    dropout: attnDropoutParam,
    causal: { type: 'bool', default: false, doc: 'Mask out keys after the query position (autoregressive self-attention).' },
  },
  inputs: [
    { name: 'query', doc: 'Queries [B, Tq, E]; alone, it is also the key and value (self-attention).', rank: 3 },
    { name: 'key', doc: 'Keys [B, Tk, kdim] for cross-attention.', rank: 3, optional: true },
    { name: 'value', doc: 'Values [B, Tk, vdim]; defaults to the key.', rank: 3, optional: true },
    maskPort,
  ],
  outputs: [
    { name: 'out', doc: 'Attended features [B, Tq, E].' },
    { name: 'weights', doc: 'Attention weights per head [B, heads, Tq, Tk].', attention: 'matrix', axes: 'batch, head, query, key' },
  ],
  inferShape({ params: p, inputs }) {
    const key = inputs.key ?? inputs.query;
    const { out, weights } = multiHeadShape({ query: inputs.query, key, value: inputs.value ?? key, mask: inputs.mask }, p);
    return { out, weights };
  },
  build(tf, { params: p, inputs, name, init }) {
    const key = inputs.key ?? inputs.query;
    return buildMultiHead({ tf, name, init }, { query: inputs.query, key, value: inputs.value ?? key, mask: inputs.mask }, p);
  },
  emit: {
    tfjs({ params: p, inputs: i, outputs: o, layer }) {
      const x = { query: i.query, key: i.key, value: i.value, mask: i.mask };
      return {
        body: [`const { out: ${o.out}, weights: ${o.weights} } = multiHeadAttention(tf, ${tsTensors(x)}, ${tsObject({ ...exportOptions(p), name: layer })});`],
        helpers: [TS_MULTI_HEAD],
      };
    },
    keras: ({ params: p, inputs: i, outputs: o, inputShapes, layer }) => ({
      body: [
        kerasCall('MultiHeadAttention', [], { embed_dim: inputShapes.query[2], ...pythonOptions(p, 'use_bias'), name: layer }, [o.out, o.weights], [i.query], {
          key: i.key,
          value: i.value,
          padding_mask: i.mask,
        }),
      ],
      helpers: [KERAS_MASKED_SOFTMAX, KERAS_MULTI_HEAD],
    }),
    pytorch({ params: p, inputs: i, outputs: o, inputShapes: s, name }) {
      const e = s.query[2] as number;
      const kdim = s.key ? (s.key[2] as number) : e;
      const vdim = s.value ? (s.value[2] as number) : kdim;
      const { num_heads, ...rest } = pythonOptions(p, 'bias');
      const keywords = { embed_dim: e, num_heads, kdim: unlessDefault(kdim, e), vdim: unlessDefault(vdim, kdim), ...rest };
      const call = torchModule(name, 'MultiHeadAttention', [], keywords, [o.out, o.weights], [i.query], { key: i.key, value: i.value, mask: i.mask });
      return {
        init: call.init,
        body: call.body,
        helpers: [TORCH_MASKED_SOFTMAX, TORCH_MULTI_HEAD],
        torchWeights: multiHeadWeights('', '', p.useBias),
      };
    },
  },
  examples: [
    { params: { heads: 2 }, inputs: { query: [null, 5, 8] } },
    { params: { heads: 2, causal: true }, inputs: { query: [null, 4, 6], mask: [null, 4] } },
    { params: { heads: 3, keyDim: 4, valueDim: 5, useBias: false }, inputs: { query: [null, 3, 6], key: [null, 7, 5], value: [null, 7, 2] } },
  ],
});
