import { defineBlock } from '../contract.js';
import { linear } from './ops/build.js';
import { scoredAttentionLayer } from './ops/attend.js';
import { checkMask, maskPort, sequence } from './ops/shapes.js';
import { torchModule, tsNew, kerasCall } from './ops/emit.js';
import { linearWeights, TORCH_MASKED_SOFTMAX, TORCH_ATTENTION_POOLING } from './ops/emit-torch.js';
import { KERAS_ATTENTION_POOLING, KERAS_MASKED_SOFTMAX } from './ops/emit-keras.js';
import { TS_ATTENTION_POOLING, TS_SCORED } from './ops/emit-tfjs.js';

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
    const site = { tf, name, init };
    const [, t, d] = inputs.in.shape as (number | null)[];
    const steps = t ?? -1;
    const hidden = linear(site, 'proj', inputs.in, p.units, { useBias: true, activation: 'tanh' });
    const scores = linear(site, 'context', hidden, 1, { useBias: false });
    // ScoredAttention takes scores [B, Tq, Tk, 1]: the pooled vector is one query over T keys.
    const asQuery = tf.layers.reshape({ targetShape: [1, steps, 1], name: `${name}_query` }).apply(scores) as never;
    const attend = new (scoredAttentionLayer(tf))({ masked: inputs.mask !== undefined, name: `${name}_attend` });
    const [context, weights] = attend.apply(inputs.mask ? [asQuery, inputs.in, inputs.mask] : [asQuery, inputs.in]) as never[];
    return {
      out: tf.layers.reshape({ targetShape: [d as number], name: `${name}_out` }).apply(context) as never,
      weights: tf.layers.reshape({ targetShape: [steps], name: `${name}_weights` }).apply(weights) as never,
    };
  },
  emit: {
    tfjs: ({ params: p, inputs: i, outputs: o, layer }) => ({
      body: [tsNew('AttentionPooling', { units: p.units, name: layer }, [o.out, o.weights], i.mask ? `${i.in}, ${i.mask}` : i.in)],
      helpers: [TS_SCORED, TS_ATTENTION_POOLING],
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
