// TypeScript (tfjs) helpers of the sequence attention blocks. The attention steps
// are the engine's own custom layers (attend.ts, tokens.ts), which the export
// copies; a block with learned weights is a class whose apply() wires standard tfjs
// layers around them, because tfjs layers cannot contain other layers. Every layer
// is named as in the compiled model, so trained weights (model.json) load by name.
import type { CodeHelper } from '../../contract.js';
import { tfjsHelper } from '../../emit/torch-helper.js';

/** The DotProductAttention layer (and the masked softmax and dropout it uses). */
export const TS_DOT_PRODUCT = tfjsHelper('dotProductAttentionLayer', 'attention/ops/attend.ts');

/** multiHeadAttention(tf, { query, key, value, mask }, options), as the engine builds it. */
export const TS_MULTI_HEAD = tfjsHelper('multiHeadAttention', 'attention/ops/sequence-attention.ts');

const TRANSFORMER_METHODS = `  /** Residual sublayer i: post-norm LN(x + drop(f(x))), pre-norm x + drop(f(LN(x))); LayerNorm ε = normEpsilon (1e-5). */
  private residual(i: number, x: tf.SymbolicTensor, f: (h: tf.SymbolicTensor) => tf.SymbolicTensor): tf.SymbolicTensor {
    const { dropout = 0.1, norm = 'post', normEpsilon = 1e-5, name } = this.args;
    const ln = (h: tf.SymbolicTensor) => tf.layers.layerNormalization({ epsilon: normEpsilon, name: \`\${name}_norm\${i}\` }).apply(h) as tf.SymbolicTensor;
    const drop = (h: tf.SymbolicTensor) => (dropout > 0 ? (tf.layers.dropout({ rate: dropout, name: \`\${name}_drop\${i}\` }).apply(h) as tf.SymbolicTensor) : h);
    const add = (a: tf.SymbolicTensor, b: tf.SymbolicTensor) => tf.layers.add({ name: \`\${name}_add\${i}\` }).apply([a, b]) as tf.SymbolicTensor;
    return norm === 'pre' ? add(x, drop(f(ln(x)))) : ln(add(x, drop(f(x))));
  }
  /** The position-wise feed-forward network ff2(drop(act(ff1(x)))). */
  private feedForward(x: tf.SymbolicTensor): tf.SymbolicTensor {
    const { ffDim, dropout = 0.1, activation = 'relu', name } = this.args;
    let h = tf.layers.dense({ units: ffDim, activation, name: \`\${name}_ff1\` }).apply(x) as tf.SymbolicTensor;
    if (dropout > 0) h = tf.layers.dropout({ rate: dropout, name: \`\${name}_ffdrop\` }).apply(h) as tf.SymbolicTensor;
    return tf.layers.dense({ units: x.shape[2] as number, name: \`\${name}_ff2\` }).apply(h) as tf.SymbolicTensor;
  }`;

const TRANSFORMER_ARGS = `{ heads: number; ffDim: number; dropout?: number; activation?: 'relu' | 'gelu'; norm?: 'post' | 'pre'; normEpsilon?: number; causal?: boolean; name: string }`;

export const TS_ENCODER: CodeHelper = {
  name: 'TransformerEncoderLayer',
  code: `/**
 * One Transformer encoder layer (Vaswani et al. 2017, "Attention Is All You Need", §3.1): multi-head self-attention
 * and a position-wise feed-forward network, each in a residual connection with LayerNorm, after the sum (post-norm,
 * the paper) or before the sublayer (pre-norm; Xiong et al. 2020). Same sublayers as PyTorch's
 * nn.TransformerEncoderLayer. apply() returns [y [B,T,d], self-attention weights [B,heads,T,T]].
 */
class TransformerEncoderLayer {
  constructor(readonly args: ${TRANSFORMER_ARGS}) {}
  apply(x: tf.SymbolicTensor, mask?: tf.SymbolicTensor): [tf.SymbolicTensor, tf.SymbolicTensor] {
    const { heads, dropout = 0.1, causal = false, name } = this.args;
    let weights!: tf.SymbolicTensor;
    const h = this.residual(1, x, (q) => {
      const { out: y, weights: w } = multiHeadAttention(tf, { query: q, mask }, { heads, dropout, causal, name: \`\${name}_self\` });
      weights = w;
      return y;
    });
    return [this.residual(2, h, (q) => this.feedForward(q)), weights];
  }
${TRANSFORMER_METHODS}
}`,
};

export const TS_DECODER: CodeHelper = {
  name: 'TransformerDecoderLayer',
  code: `/**
 * One Transformer decoder layer (Vaswani et al. 2017, "Attention Is All You Need", §3.1): (causal) self-attention
 * over the target, cross-attention to the encoder output (memory) and a position-wise feed-forward network, each in
 * a residual connection with LayerNorm, post-norm (the paper) or pre-norm. Same sublayers as PyTorch's
 * nn.TransformerDecoderLayer. apply() returns [y [B,T,d], self-attention [B,heads,T,T], cross-attention [B,heads,T,S]].
 */
class TransformerDecoderLayer {
  constructor(readonly args: ${TRANSFORMER_ARGS}) {}
  apply(x: tf.SymbolicTensor, memory: tf.SymbolicTensor, mask?: tf.SymbolicTensor, memoryMask?: tf.SymbolicTensor): [tf.SymbolicTensor, tf.SymbolicTensor, tf.SymbolicTensor] {
    const { heads, dropout = 0.1, causal = true, name } = this.args;
    let selfWeights!: tf.SymbolicTensor;
    let crossWeights!: tf.SymbolicTensor;
    const h1 = this.residual(1, x, (q) => {
      const { out: y, weights: w } = multiHeadAttention(tf, { query: q, mask }, { heads, dropout, causal, name: \`\${name}_self\` });
      selfWeights = w;
      return y;
    });
    const h2 = this.residual(2, h1, (q) => {
      const { out: y, weights: w } = multiHeadAttention(tf, { query: q, key: memory, value: memory, mask: memoryMask }, { heads, dropout, name: \`\${name}_cross\` });
      crossWeights = w;
      return y;
    });
    return [this.residual(3, h2, (q) => this.feedForward(q)), selfWeights, crossWeights];
  }
${TRANSFORMER_METHODS}
}`,
};

/** additiveAttention(tf, { query, keys, values, mask }, options), as the engine builds it. */
export const TS_ADDITIVE = tfjsHelper('additiveAttention', 'attention/ops/sequence-attention.ts');

/** attentionPooling(tf, { states, mask }, options), as the engine builds it. */
export const TS_ATTENTION_POOLING = tfjsHelper('attentionPooling', 'attention/ops/sequence-attention.ts');

export const TS_LUONG: CodeHelper = {
  name: 'LuongAttention',
  code: `/**
 * Global attention of Luong, Pham & Manning (2015, "Effective Approaches to Attention-based Neural Machine
 * Translation", §3.1). Scores: dot h_tᵀh̄_s; general h_tᵀW_a h̄_s (W_a is the Dense \`<name>_wa\` on the query);
 * concat v_aᵀ tanh(W_a[h_t; h̄_s]), computed as additive attention. apply() returns [context, weights [B,Tq,Tk]].
 */
class LuongAttention {
  constructor(readonly args: { score: 'dot' | 'general' | 'concat'; units?: number; name: string }) {}
  apply(query: tf.SymbolicTensor, keys: tf.SymbolicTensor, values = keys, mask?: tf.SymbolicTensor): [tf.SymbolicTensor, tf.SymbolicTensor] {
    const { score, units = 32, name } = this.args;
    if (score === 'concat') {
      const { context, weights } = additiveAttention(tf, { query, keys, values, mask }, { units, name });
      return [context, weights];
    }
    const q = score === 'general' ? (tf.layers.dense({ units: keys.shape[2] as number, useBias: false, name: \`\${name}_wa\` }).apply(query) as tf.SymbolicTensor) : query;
    const attend = new (dotProductAttentionLayer(tf))({ scaled: false, masked: mask !== undefined, name: \`\${name}_attend\` });
    return attend.apply(mask ? [q, keys, values, mask] : [q, keys, values]) as [tf.SymbolicTensor, tf.SymbolicTensor];
  }
}`,
};

export const TS_MEMORY: CodeHelper = {
  name: 'MemoryNetwork',
  code: `/**
 * The hops of an end-to-end memory network (Sukhbaatar et al. 2015, "End-To-End Memory Networks", §2): u = Bq; hop k
 * reads p = softmax(uᵀA^k x_i), o = Σ_i p_i C^k x_i and updates u ← u + o. Weight tying (§2.2): adjacent (embeddings
 * E_0..E_K, A^k = E_{k-1}, C^k = E_k, B = E_0) or layer-wise (one A and one C, and u ← Hu + o).
 * apply() returns [u [B,dim], read weights of every hop [B,hops,N]].
 */
class MemoryNetwork {
  constructor(readonly args: { dim: number; hops: number; tying?: 'adjacent' | 'layerwise'; name: string }) {}
  apply(memory: tf.SymbolicTensor, query: tf.SymbolicTensor, mask?: tf.SymbolicTensor): [tf.SymbolicTensor, tf.SymbolicTensor] {
    const { dim, hops, tying = 'adjacent', name } = this.args;
    const embed = (suffix: string) => tf.layers.dense({ units: dim, useBias: false, name: \`\${name}_\${suffix}\` });
    const reshape = (x: tf.SymbolicTensor, targetShape: number[], suffix: string) => tf.layers.reshape({ targetShape, name: \`\${name}_\${suffix}\` }).apply(x) as tf.SymbolicTensor;
    const adjacent = tying === 'adjacent';
    const embeddings = adjacent ? Array.from({ length: hops + 1 }, (_, i) => embed(\`embed\${i}\`)) : [embed('a'), embed('c')];
    const memories = embeddings.map((layer) => layer.apply(memory) as tf.SymbolicTensor);
    const B = adjacent ? embeddings[0] : embed('b');
    const H = adjacent ? undefined : embed('h');
    let u = B.apply(query) as tf.SymbolicTensor;
    const reads: tf.SymbolicTensor[] = [];
    for (let k = 1; k <= hops; k++) {
      const [m, c] = adjacent ? [memories[k - 1], memories[k]] : memories;
      const read = new (dotProductAttentionLayer(tf))({ scaled: false, masked: mask !== undefined, name: \`\${name}_hop\${k}\` });
      const q = reshape(u, [1, dim], \`u\${k}\`);
      const [context, weights] = read.apply(mask ? [q, m, c, mask] : [q, m, c]) as tf.SymbolicTensor[];
      reads.push(weights);
      const carried = H ? (H.apply(u) as tf.SymbolicTensor) : u;
      u = tf.layers.add({ name: \`\${name}_next\${k}\` }).apply([carried, reshape(context, [dim], \`o\${k}\`)]) as tf.SymbolicTensor;
    }
    const attention = reads.length === 1 ? reads[0] : (tf.layers.concatenate({ axis: 1, name: \`\${name}_reads\` }).apply(reads) as tf.SymbolicTensor);
    return [u, attention];
  }
}`,
};

/** patchEmbedding(tf, image, options), as the engine builds it. */
export const TS_PATCH = tfjsHelper('patchEmbedding', 'attention/ops/sequence-attention.ts');
