// Builders the sequence attention blocks share. Every layer is named
// `${prefix}_${suffix}` so the compiler attributes its weights to the node.
import type { Initializers, SymbolicTensor, TF } from '../../contract.js';
import { dotProductAttentionLayer, type DotProductAttentionArgs } from './attend.js';
import { additiveAttention as sharedAdditiveAttention } from './sequence-attention.js';

/** Where a builder puts its layers: a name prefix and the node's seeded initialisers. */
export interface Site {
  tf: TF;
  name: string;
  init: Initializers;
}

export interface Attended {
  context: SymbolicTensor;
  weights: SymbolicTensor;
}

/** q, k, v (already projected) through DotProductAttention; the mask, when given, is its fourth input. */
export function dotAttention(
  { tf, name, init }: Site,
  suffix: string,
  q: SymbolicTensor,
  k: SymbolicTensor,
  v: SymbolicTensor,
  mask: SymbolicTensor | undefined,
  args: Omit<DotProductAttentionArgs, 'name' | 'masked' | 'dropoutSite'>,
): Attended {
  const layerName = `${name}_${suffix}`;
  const layer = new (dotProductAttentionLayer(tf))({ ...args, masked: mask !== undefined, name: layerName, dropoutSite: init.dropoutSeed(layerName) });
  const [context, weights] = layer.apply(mask ? [q, k, v, mask] : [q, k, v]) as SymbolicTensor[];
  return { context, weights };
}

/** Additive (concat) attention (sequence-attention.ts) of the query over the keys, averaging the values. */
export function additiveAttention(
  { tf, name, init }: Site,
  query: SymbolicTensor,
  keys: SymbolicTensor,
  values: SymbolicTensor,
  mask: SymbolicTensor | undefined,
  opts: { units: number; useBias: boolean },
): Attended {
  return sharedAdditiveAttention(tf, { query, keys, values, mask }, { ...opts, name }, init);
}
