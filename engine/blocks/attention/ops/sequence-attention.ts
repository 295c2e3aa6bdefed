// The sequence attention blocks that wire standard tfjs layers around the attention
// layers of attend.ts (multi-head, additive, Luong, pooling, memory hops, patch
// embedding), in one implementation: the engine's builders call these
// functions and the TypeScript export copies them (see engine/blocks/tfjs-kit.ts).
// Every layer is named `${name}_…`, so trained weights load by name.
import type * as tf from '@tensorflow/tfjs';
import { apply, type Init, type TF } from '../../tfjs-kit.js';
import type { DropoutSeed } from '../../seeded-dropout.js';
import { dotProductAttentionLayer, pairwiseTanhLayer, scoredAttentionLayer } from './attend.js';
import { classTokenLayer, learnedPositionsLayer } from './tokens.js';
import { unfusedConv2dLayer } from '../../unfused-conv-layer.js';

/** The engine's seeded initialisers, with the seeds of its dropout sites. */
export interface SequenceInit extends Init {
  dropoutSeed(site: string): DropoutSeed;
}

export interface MultiHeadAttentionOptions {
  heads: number;
  /** Per-head query/key size; 0 or absent: the query size / heads (PyTorch). */
  keyDim?: number;
  /** Per-head value size; 0 or absent: the query size / heads (PyTorch). */
  valueDim?: number;
  useBias?: boolean;
  dropout?: number;
  causal?: boolean;
  name: string;
}

/**
 * Multi-head attention (Vaswani et al. 2017, "Attention Is All You Need", §3.2.2): the query, key and value are
 * projected to `heads` subspaces (contiguous slices of the Dense layers `<name>_query`, `_key`, `_value`),
 * scaled dot-product attention runs in every head, and `<name>_output` projects the concatenated heads back to
 * the query size. Laid out like PyTorch's nn.MultiheadAttention. Key and value default to the query
 * (self-attention); returns out [B,Tq,E] and the weights [B,heads,Tq,Tk].
 */
export function multiHeadAttention(
  tf: TF,
  x: { query: tf.SymbolicTensor; key?: tf.SymbolicTensor; value?: tf.SymbolicTensor; mask?: tf.SymbolicTensor },
  o: MultiHeadAttentionOptions,
  init?: SequenceInit,
): { out: tf.SymbolicTensor; weights: tf.SymbolicTensor } {
  const { heads, useBias = true, name } = o;
  const { query, key = query, value = key, mask } = x;
  const e = query.shape[2] as number;
  const dk = o.keyDim || e / heads;
  const dv = o.valueDim || e / heads;
  const dense = (h: tf.SymbolicTensor, units: number, suffix: string) =>
    apply(tf.layers.dense({ units, useBias, kernelInitializer: init?.glorotUniform(), name: `${name}_${suffix}` }), h);
  const [q, k, v] = [dense(query, heads * dk, 'query'), dense(key, heads * dk, 'key'), dense(value, heads * dv, 'value')];
  const attendName = `${name}_attend`;
  const attend = new (dotProductAttentionLayer(tf))({
    heads,
    causal: o.causal,
    dropout: o.dropout,
    headAxis: true,
    masked: mask !== undefined,
    name: attendName,
    dropoutSite: init?.dropoutSeed(attendName),
  });
  const [context, weights] = attend.apply(mask ? [q, k, v, mask] : [q, k, v]) as tf.SymbolicTensor[];
  return { out: dense(context, e, 'output'), weights };
}

/**
 * The Vision Transformer's patch embedding (Dosovitskiy et al. 2021, "An Image is Worth 16x16 Words", eq. 1): the
 * image [B,H,W,C] is cut into patch×patch patches, each projected to `dim` features (a convolution with stride =
 * kernel = patch), giving tokens [B,N,dim] in row-major order over the patch grid; an optional learned class token
 * goes in front and optional learned position embeddings are added. Returns [B, N (+1), dim].
 */
export function patchEmbedding(
  tf: TF,
  image: tf.SymbolicTensor,
  o: { dim: number; patch: number; classToken?: boolean; positions?: boolean; name: string },
  init?: Init,
): tf.SymbolicTensor {
  const { dim, patch, classToken = true, positions = true, name } = o;
  // Unfused: the input is usually the image, whose gradient the tape then leaves out.
  const proj = new (unfusedConv2dLayer(tf))({
    filters: dim,
    kernelSize: patch,
    strides: patch,
    padding: 'valid',
    kernelInitializer: init?.glorotUniform(),
    name: `${name}_proj`,
  });
  const grid = apply(proj, image);
  const [, gh, gw] = grid.shape as number[];
  let x = apply(tf.layers.reshape({ targetShape: [gh * gw, dim], name: `${name}_tokens` }), grid);
  // timm's ViT initialisation: truncated normal, σ = 0.02, for the class token and the positions.
  const initializer = () => init?.normal(0.02) ?? tf.initializers.truncatedNormal({ stddev: 0.02 });
  if (classToken) x = apply(new (classTokenLayer(tf))({ initializer: initializer(), name: `${name}_cls` }), x);
  if (positions) x = apply(new (learnedPositionsLayer(tf))({ initializer: initializer(), name: `${name}_pos` }), x);
  return x;
}

/**
 * Attention pooling (Yang et al. 2016, "Hierarchical Attention Networks for Document Classification"):
 * u_t = tanh(W h_t + b) (Dense `<name>_proj`), α = softmax(u_tᵀ u_w) (Dense `<name>_context`) over the steps,
 * out = Σ_t α_t h_t. Returns out [B,D] and the weights [B,T].
 */
export function attentionPooling(
  tf: TF,
  x: { states: tf.SymbolicTensor; mask?: tf.SymbolicTensor },
  o: { units: number; name: string },
  init?: Init,
): { out: tf.SymbolicTensor; weights: tf.SymbolicTensor } {
  const { units, name } = o;
  const { states, mask } = x;
  const [, t, d] = states.shape as (number | null)[];
  const steps = t ?? -1;
  const hidden = apply(tf.layers.dense({ units, activation: 'tanh', kernelInitializer: init?.glorotUniform(), name: `${name}_proj` }), states);
  const scores = apply(tf.layers.dense({ units: 1, useBias: false, kernelInitializer: init?.glorotUniform(), name: `${name}_context` }), hidden);
  // ScoredAttention takes scores [B, Tq, Tk, 1]: the pooled vector is one query over T keys.
  const query = apply(tf.layers.reshape({ targetShape: [1, steps, 1], name: `${name}_query` }), scores);
  const attend = new (scoredAttentionLayer(tf))({ masked: mask !== undefined, name: `${name}_attend` });
  const [context, weights] = attend.apply(mask ? [query, states, mask] : [query, states]) as tf.SymbolicTensor[];
  return {
    out: apply(tf.layers.reshape({ targetShape: [d as number], name: `${name}_out` }), context),
    weights: apply(tf.layers.reshape({ targetShape: [steps], name: `${name}_weights` }), weights),
  };
}

/**
 * Additive attention (Bahdanau, Cho & Bengio 2014, "Neural Machine Translation by Jointly Learning to Align and
 * Translate"): e_ij = vᵀ tanh(W_q q_i + W_k k_j) (Dense layers `<name>_wq`, `_wk`, `_v`), weights softmax(e) over
 * the keys, context their average of the values (the keys if none). With `useBias`, W_q and W_k get biases (v never
 * does: a constant added to every score cannot change the softmax). Returns context [B,Tq,Dv] and weights [B,Tq,Tk].
 */
export function additiveAttention(
  tf: TF,
  x: { query: tf.SymbolicTensor; keys: tf.SymbolicTensor; values?: tf.SymbolicTensor; mask?: tf.SymbolicTensor },
  o: { units: number; useBias?: boolean; name: string },
  init?: Init,
): { context: tf.SymbolicTensor; weights: tf.SymbolicTensor } {
  const { units, useBias = false, name } = o;
  const { query, keys, values = keys, mask } = x;
  const dense = (h: tf.SymbolicTensor, units: number, useBias: boolean, suffix: string) =>
    apply(tf.layers.dense({ units, useBias, kernelInitializer: init?.glorotUniform(), name: `${name}_${suffix}` }), h);
  const wq = dense(query, units, useBias, 'wq');
  const wk = dense(keys, units, useBias, 'wk');
  const hidden = apply(new (pairwiseTanhLayer(tf))({ name: `${name}_tanh` }), [wq, wk]);
  const scores = dense(hidden, 1, false, 'v');
  const attend = new (scoredAttentionLayer(tf))({ masked: mask !== undefined, name: `${name}_attend` });
  const [context, weights] = attend.apply(mask ? [scores, values, mask] : [scores, values]) as tf.SymbolicTensor[];
  return { context, weights };
}

/**
 * Global attention of Luong, Pham & Manning (2015, "Effective Approaches to Attention-based Neural Machine
 * Translation", §3.1). Scores: dot h_tᵀh̄_s; general h_tᵀW_a h̄_s (W_a is the Dense `<name>_wa` on the query, with the
 * keys' size); concat v_aᵀ tanh(W_a[h_t; h̄_s]), computed as additive attention. The context is the weights'
 * average of the values (the keys if none). Returns context [B,Tq,Dv] and weights [B,Tq,Tk].
 */
export function luongAttention(
  tf: TF,
  x: { query: tf.SymbolicTensor; keys: tf.SymbolicTensor; values?: tf.SymbolicTensor; mask?: tf.SymbolicTensor },
  o: { score: 'dot' | 'general' | 'concat'; units?: number; name: string },
  init?: SequenceInit,
): { context: tf.SymbolicTensor; weights: tf.SymbolicTensor } {
  const { score, units = 32, name } = o;
  const { query, keys, values = keys, mask } = x;
  if (score === 'concat') return additiveAttention(tf, { query, keys, values, mask }, { units, name }, init);
  const q =
    score === 'general'
      ? apply(tf.layers.dense({ units: keys.shape[2] as number, useBias: false, kernelInitializer: init?.glorotUniform(), name: `${name}_wa` }), query)
      : query;
  const attendName = `${name}_attend`;
  const attend = new (dotProductAttentionLayer(tf))({
    scaled: false,
    masked: mask !== undefined,
    name: attendName,
    dropoutSite: init?.dropoutSeed(attendName),
  });
  const [context, weights] = attend.apply(mask ? [q, keys, values, mask] : [q, keys, values]) as tf.SymbolicTensor[];
  return { context, weights };
}

/**
 * The hops of an end-to-end memory network (Sukhbaatar et al. 2015, "End-To-End Memory Networks", §2): u = Bq; hop k
 * reads p = softmax(uᵀA^k x_i), o = Σ_i p_i C^k x_i and updates u ← u + o. Weight tying (§2.2): adjacent (embeddings
 * `<name>_embed0`..`_embedK`, A^k = E_{k-1}, C^k = E_k, B = E_0) or layer-wise (one A and one C, and u ← Hu + o).
 * Returns u [B,dim] and the read weights of every hop [B,hops,N].
 */
export function memoryNetwork(
  tf: TF,
  x: { memory: tf.SymbolicTensor; query: tf.SymbolicTensor; mask?: tf.SymbolicTensor },
  o: { dim: number; hops: number; tying?: 'adjacent' | 'layerwise'; name: string },
  init?: SequenceInit,
): { out: tf.SymbolicTensor; attention: tf.SymbolicTensor } {
  const { dim, hops, tying = 'adjacent', name } = o;
  const { memory, query, mask } = x;
  const embed = (suffix: string) => tf.layers.dense({ units: dim, useBias: false, kernelInitializer: init?.glorotUniform(), name: `${name}_${suffix}` });
  const reshape = (h: tf.SymbolicTensor, targetShape: number[], suffix: string) => apply(tf.layers.reshape({ targetShape, name: `${name}_${suffix}` }), h);
  const adjacent = tying === 'adjacent';
  const embeddings = adjacent ? Array.from({ length: hops + 1 }, (_, i) => embed(`embed${i}`)) : [embed('a'), embed('c')];
  const memories = embeddings.map((layer) => apply(layer, memory));
  const B = adjacent ? embeddings[0] : embed('b');
  const H = adjacent ? undefined : embed('h');
  let u = apply(B, query);
  const reads: tf.SymbolicTensor[] = [];
  for (let k = 1; k <= hops; k++) {
    const [m, c] = adjacent ? [memories[k - 1], memories[k]] : memories;
    const q = reshape(u, [1, dim], `u${k}`);
    const readName = `${name}_hop${k}`;
    const attend = new (dotProductAttentionLayer(tf))({ scaled: false, masked: mask !== undefined, name: readName, dropoutSite: init?.dropoutSeed(readName) });
    const [context, weights] = attend.apply(mask ? [q, m, c, mask] : [q, m, c]) as tf.SymbolicTensor[];
    reads.push(weights);
    const read = reshape(context, [dim], `o${k}`);
    const carried = H ? apply(H, u) : u;
    u = apply(tf.layers.add({ name: `${name}_next${k}` }), [carried, read]);
  }
  const attention = reads.length === 1 ? reads[0] : apply(tf.layers.concatenate({ axis: 1, name: `${name}_reads` }), reads);
  return { out: u, attention };
}
