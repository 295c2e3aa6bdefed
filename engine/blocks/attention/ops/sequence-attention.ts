// The sequence attention blocks that wire standard tfjs layers around the attention
// layers of attend.ts, in one implementation: the engine's builders call these
// functions and the TypeScript export copies them (see engine/blocks/tfjs-kit.ts).
// Every layer is named `${name}_…`, so trained weights load by name.
import type * as tf from '@tensorflow/tfjs';
import { apply, type Init, type TF } from '../../tfjs-kit.js';
import type { DropoutSeed } from '../../seeded-dropout.js';
import { dotProductAttentionLayer } from './attend.js';

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
