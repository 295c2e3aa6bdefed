import { defineBlock } from '../contract.js';
import { dotAttention } from './ops/build.js';
import { checkMask, maskPort, sameDim, sequence } from './ops/shapes.js';
import { kerasCall, torchModule, tsNew, unlessDefault } from './ops/emit.js';
import { TORCH_MASKED_SOFTMAX, TORCH_SCALED_DOT_PRODUCT } from './ops/emit-torch.js';
import { KERAS_MASKED_SOFTMAX, KERAS_SCALED_DOT_PRODUCT } from './ops/emit-keras.js';
import { TS_DOT_PRODUCT } from './ops/emit-tfjs.js';

export default defineBlock({
  type: 'attention.scaledDotProduct',
  label: 'Scaled dot-product attention',
  category: 'Attention',
  paper: 'Vaswani, A. et al. (2017). Attention Is All You Need. NeurIPS.',
  doc:
    'Scaled dot-product attention (Vaswani et al. 2017, "Attention Is All You Need", eq. 1): ' +
    'Attention(Q, K, V) = softmax(QKᵀ/√d_k)·V. Each query step takes a weighted average of the value steps, ' +
    'weighted by how well it matches each key. It has no weights of its own: put Dense layers before it for the ' +
    'projections, or use Multi-head attention. A causal mask stops query i from seeing keys after i (decoders); ' +
    'the optional padding mask hides padded key steps. Outputs the context and the attention weights.',
  params: {
    causal: { type: 'bool', default: false, doc: 'Mask out keys after the query position (autoregressive decoding).' },
  },
  inputs: [
    { name: 'query', doc: 'Queries Q [B, Tq, d_k].', rank: 3 },
    { name: 'key', doc: 'Keys K [B, Tk, d_k].', rank: 3 },
    { name: 'value', doc: 'Values V [B, Tk, d_v].', rank: 3 },
    maskPort,
  ],
  outputs: [
    { name: 'out', doc: 'Context softmax(QKᵀ/√d_k)V [B, Tq, d_v].' },
    { name: 'weights', doc: 'Attention weights [B, Tq, Tk]; each row sums to 1.', attention: 'matrix', axes: 'batch, query, key' },
  ],
  inferShape({ inputs }) {
    const [tq, dq] = sequence(inputs.query, 'query');
    const [tk, dk] = sequence(inputs.key, 'key');
    const [tv, dv] = sequence(inputs.value, 'value');
    sameDim(dq, dk, 'key', 'queries and keys must have the same feature size d_k');
    sameDim(tk, tv, 'value', 'keys and values must have the same number of steps');
    checkMask(inputs.mask, tk);
    const b = inputs.query[0];
    return { out: [b, tq, dv], weights: [b, tq, tk] };
  },
  build(tf, { params: p, inputs, name, init }) {
    const { context, weights } = dotAttention({ tf, name, init }, 'attend', inputs.query, inputs.key, inputs.value, inputs.mask, {
      causal: p.causal,
    });
    return { out: context, weights };
  },
  emit: {
    tfjs: ({ params: p, inputs: i, outputs: o, layer }) => {
      const args = [i.query, i.key, i.value, ...(i.mask ? [i.mask] : [])].join(', ');
      return {
        body: [
          tsNew(
            '(dotProductAttentionLayer(tf))',
            { causal: unlessDefault(p.causal, false), masked: i.mask ? true : undefined, name: `${layer}_attend` },
            [o.out, o.weights],
            `[${args}]`,
            ' as tf.SymbolicTensor[]',
          ),
        ],
        helpers: [TS_DOT_PRODUCT],
      };
    },
    keras: ({ params: p, inputs: i, outputs: o, layer }) => ({
      body: [
        kerasCall(
          'ScaledDotProductAttention',
          [],
          { causal: unlessDefault(p.causal, false), name: `${layer}_attend` },
          [o.out, o.weights],
          [i.query, i.key, i.value],
          { padding_mask: i.mask },
        ),
      ],
      helpers: [KERAS_MASKED_SOFTMAX, KERAS_SCALED_DOT_PRODUCT],
    }),
    pytorch: ({ params: p, inputs: i, outputs: o, name }) => ({
      ...torchModule(name, 'ScaledDotProductAttention', [], { causal: unlessDefault(p.causal, false) }, [o.out, o.weights], [i.query, i.key, i.value], {
        mask: i.mask,
      }),
      helpers: [TORCH_MASKED_SOFTMAX, TORCH_SCALED_DOT_PRODUCT],
    }),
  },
  examples: [
    { inputs: { query: [null, 5, 8], key: [null, 5, 8], value: [null, 5, 8] } },
    { params: { causal: true }, inputs: { query: [null, 3, 4], key: [null, 6, 4], value: [null, 6, 2], mask: [null, 6] } },
  ],
});
