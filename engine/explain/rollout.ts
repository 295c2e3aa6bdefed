// Attention rollout (Abnar & Zuidema, ACL 2020) and the layer × head grid of
// attention matrices (BertViz's model view). Rollout follows attention through
// a stack of self-attention layers: each layer's heads are fused (mean, max or
// min), the smallest weights optionally discarded (as in jacobgil's
// vit-explain), the residual added as an identity, Ã = (A + I) / 2 with rows
// renormalised to 1, and the layers multiplied: R = Ã_L · … · Ã_1. The class
// token's row of R (or, without one, the mean row) says how much each token
// flowed into the prediction.
import type { Tensor, TF } from '../blocks/contract.js';
import type { AttentionOutput, CompiledGraph } from '../compile/compile.js';
import type { GraphFile } from '../graph/types.js';
import { ExplainError, tokenGridOf, type TokenGrid } from './target.js';

export type HeadFusion = 'mean' | 'max' | 'min';
export const HEAD_FUSIONS: readonly HeadFusion[] = ['mean', 'max', 'min'];

/** One attention output's matrices for one sample: [heads, queries, keys]. */
export interface HeadMatrices {
  nodeId: string;
  port: string;
  /** Inside composites: node ids from the canvas down to the block, and the copy at each level. */
  path?: string[];
  copy?: number[];
  heads: number;
  queries: number;
  keys: number;
  data: Float32Array;
}

export interface RolloutOptions {
  fusion?: HeadFusion;
  /** Fraction of each fused matrix's smallest weights set to 0 before the identity is added (0 ≤ r < 1). */
  discardRatio?: number;
}

export interface RolloutResult {
  /** The attention outputs multiplied, first layer first. */
  layers: { nodeId: string; port: string }[];
  tokens: number;
  /** R, [tokens, tokens]. */
  joint: Float32Array;
  /** The class token's row of R over the patches (or the mean row), rows × cols; rows = 1 when the tokens have no grid. */
  rows: number;
  cols: number;
  map: Float32Array<ArrayBuffer>;
}

const isSquareMatrix = (a: AttentionOutput): boolean => {
  const s = a.shape;
  return a.kind === 'matrix' && (s.length === 3 || s.length === 4) && s[s.length - 1] !== null && s[s.length - 1] === s[s.length - 2];
};

/**
 * The self-attention outputs rollout multiplies: square attention matrices
 * (cross-attention over a memory left out) over as many tokens as the last
 * of them, in the order the model computes them.
 */
export function selfAttentionLayers(compiled: CompiledGraph): AttentionOutput[] {
  const square = compiled.attention.filter((a) => isSquareMatrix(a) && !/memory/.test(a.axes ?? ''));
  if (!square.length) {
    const have = compiled.attention.map((a) => `${a.nodeId}.${a.port} (${a.kind})`);
    throw new ExplainError(
      `the model has no self-attention layers for rollout${have.length ? `: its attention outputs are ${have.join(', ')}, none a square [B, heads, T, T] matrix` : ': it has no attention outputs at all'}`,
      compiled.attention[0]?.nodeId,
    );
  }
  const tokens = square[square.length - 1].shape.at(-1);
  return square.filter((a) => a.shape.at(-1) === tokens);
}

/** The matrices of `outputs` for sample x [1, ...]. */
export async function headMatrices(tf: TF, compiled: CompiledGraph, outputs: readonly AttentionOutput[], x: Tensor): Promise<HeadMatrices[]> {
  if (!outputs.length) return [];
  const probe = tf.model({ inputs: compiled.model.inputs, outputs: outputs.map((a) => a.tensor) });
  const out = probe.predict(x) as Tensor | Tensor[];
  const list = Array.isArray(out) ? out : [out];
  try {
    return await Promise.all(
      outputs.map(async (a, i) => {
        const s = list[i].shape;
        const heads = s.length === 4 ? s[1] : 1;
        const [queries, keys] = s.slice(-2);
        const data = Float32Array.from(((await list[i].data()) as Float32Array).subarray(0, heads * queries * keys));
        return { nodeId: a.nodeId, port: a.port, ...(a.path && { path: a.path, copy: a.copy }), heads, queries, keys, data };
      }),
    );
  } finally {
    tf.dispose(list);
  }
}

/** The layer × head grid: every attention matrix of the model (kind "matrix") for sample x. */
export function attentionGrid(tf: TF, compiled: CompiledGraph, x: Tensor): Promise<HeadMatrices[]> {
  return headMatrices(
    tf,
    compiled,
    compiled.attention.filter((a) => a.kind === 'matrix' && a.shape.length >= 3),
    x,
  );
}

/** One layer's heads fused into a [T, T] matrix, its smallest weights discarded, the identity added and its rows renormalised. */
export function residualAttention(m: HeadMatrices, fusion: HeadFusion, discardRatio: number): Float64Array {
  const t = m.queries;
  const n = t * t;
  const fused = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let v = m.data[i];
    for (let h = 1; h < m.heads; h++) {
      const w = m.data[h * n + i];
      v = fusion === 'mean' ? v + w : fusion === 'max' ? Math.max(v, w) : Math.min(v, w);
    }
    fused[i] = fusion === 'mean' ? v / m.heads : v;
  }
  const drop = Math.floor(n * discardRatio);
  if (drop > 0) {
    // The smallest weights go; entry (0, 0), the class token to itself, stays (as in vit-explain).
    const order = Array.from(fused.keys()).sort((a, b) => fused[a] - fused[b]);
    for (const i of order.slice(0, drop)) if (i !== 0) fused[i] = 0;
  }
  for (let r = 0; r < t; r++) {
    let sum = 0;
    for (let c = 0; c < t; c++) {
      fused[r * t + c] = (fused[r * t + c] + (r === c ? 1 : 0)) / 2;
      sum += fused[r * t + c];
    }
    for (let c = 0; c < t; c++) fused[r * t + c] /= sum;
  }
  return fused;
}

/** R = Ã_L · … · Ã_1 over layers given first to last. */
export function rollout(layers: readonly HeadMatrices[], opts: RolloutOptions = {}): Float64Array {
  const fusion = opts.fusion ?? 'mean';
  const ratio = opts.discardRatio ?? 0;
  if (!(ratio >= 0 && ratio < 1)) throw new ExplainError(`the discard ratio is ${ratio}; it must be at least 0 and below 1`);
  const t = layers[0].queries;
  let r: Float64Array = new Float64Array(t * t);
  for (let i = 0; i < t; i++) r[i * t + i] = 1;
  for (const m of layers) {
    const a = residualAttention(m, fusion, ratio);
    const next = new Float64Array(t * t);
    for (let i = 0; i < t; i++)
      for (let k = 0; k < t; k++) {
        const aik = a[i * t + k];
        if (aik === 0) continue;
        for (let j = 0; j < t; j++) next[i * t + j] += aik * r[k * t + j];
      }
    r = next;
  }
  return r;
}

/** What the prediction read from each patch: the class token's row over the patches, or the mean row when there is no class token or grid. */
function rolloutMap(joint: Float64Array, tokens: number, grid: TokenGrid | undefined): { rows: number; cols: number; map: Float32Array<ArrayBuffer> } {
  if (grid && grid.skip > 0) return { rows: grid.rows, cols: grid.cols, map: Float32Array.from(joint.subarray(grid.skip, grid.skip + grid.rows * grid.cols)) };
  const mean = new Float32Array(tokens);
  for (let i = 0; i < tokens; i++) for (let j = 0; j < tokens; j++) mean[j] += joint[i * tokens + j] / tokens;
  return grid ? { rows: grid.rows, cols: grid.cols, map: mean } : { rows: 1, cols: tokens, map: mean };
}

/**
 * Attention rollout of sample x [1, ...] through the model's self-attention layers; `combine` may be another
 * way of joining the layers over the same matrices (attention flow, engine/explain/flow.ts).
 */
export async function attentionRollout(
  tf: TF,
  graph: GraphFile,
  compiled: CompiledGraph,
  x: Tensor,
  opts: RolloutOptions = {},
  combine: (layers: readonly HeadMatrices[], opts: RolloutOptions) => Float64Array = rollout,
): Promise<RolloutResult> {
  const outputs = selfAttentionLayers(compiled);
  const matrices = await headMatrices(tf, compiled, outputs, x);
  const joint = combine(matrices, opts);
  const tokens = matrices[0].queries;
  const grid = tokenGridOf(graph, compiled, outputs[outputs.length - 1].nodeId);
  return { layers: outputs.map((a) => ({ nodeId: a.nodeId, port: a.port })), tokens, joint: Float32Array.from(joint), ...rolloutMap(joint, tokens, grid) };
}
