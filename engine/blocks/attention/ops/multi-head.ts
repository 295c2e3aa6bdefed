// Multi-head attention (Vaswani et al. 2017, §3.2.2) as a reusable piece: the
// parameters, the shape rule and the builder that the multi-head block and the
// Transformer layers share. Layout and parameter count follow PyTorch's
// nn.MultiheadAttention: Dense projections `_query`, `_key`, `_value` (heads are
// contiguous slices of their outputs), the attention step `_attend`, and the
// output projection `_output` back to the query's size.
import type { Dim, Shape, SymbolicTensor } from '../../contract.js';
import { checkMask, perHead, sameDim, sequence } from './shapes.js';
import type { Site } from './build.js';
import { multiHeadAttention } from './sequence-attention.js';

export const headsParam = { type: 'int', default: 4, min: 1, max: 1024, doc: 'Attention heads.' } as const;
export const attnDropoutParam = {
  type: 'float',
  default: 0,
  min: 0,
  max: 0.95,
  doc: 'Dropout on the attention weights while training (the weights output is taken before it).',
} as const;

export interface MultiHeadOptions {
  heads: number;
  /** Per-head query/key size; 0: the query size / heads (PyTorch). */
  keyDim: number;
  /** Per-head value size; 0: the query size / heads (PyTorch). */
  valueDim: number;
  useBias: boolean;
  dropout: number;
  causal: boolean;
}

export interface MultiHeadShapes {
  query: Shape;
  key: Shape;
  value: Shape;
  mask?: Shape;
}

/** Shapes of y [B, Tq, E] and the weights [B, heads, Tq, Tk]; port names as given in `ports`. */
export function multiHeadShape(
  s: MultiHeadShapes,
  o: Pick<MultiHeadOptions, 'heads' | 'keyDim' | 'valueDim'>,
  ports: { query: string; key: string; value: string; mask: string } = { query: 'query', key: 'key', value: 'value', mask: 'mask' },
): { out: Shape; weights: Shape; dims: { e: number; dk: number; dv: number } } {
  const [tq, e] = sequence(s.query, ports.query);
  const [tk] = sequence(s.key, ports.key);
  const [tv] = sequence(s.value, ports.value);
  sameDim(tk, tv, ports.value, `"${ports.key}" and "${ports.value}" must have the same number of steps`);
  checkMask(s.mask, tk, ports.mask, ports.key);
  const dk = perHead(e, o.heads, o.keyDim, ports.query, 'query size (embedding dimension)');
  const dv = perHead(e, o.heads, o.valueDim, ports.query, 'query size (embedding dimension) for the value heads');
  const b: Dim = s.query[0];
  return { out: [b, tq, e], weights: [b, o.heads, tq, tk], dims: { e, dk, dv } };
}

/** Builds multi-head attention; `key` and `value` may be the query itself (self-attention). */
export function buildMultiHead(
  { tf, name, init }: Site,
  x: { query: SymbolicTensor; key: SymbolicTensor; value: SymbolicTensor; mask?: SymbolicTensor },
  o: MultiHeadOptions,
): { out: SymbolicTensor; weights: SymbolicTensor } {
  return multiHeadAttention(tf, x, { ...o, name }, init);
}
