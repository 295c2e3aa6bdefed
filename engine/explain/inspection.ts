// What Inspect shows besides the attention maps, when asked: the class
// activation maps of the predicted (or a chosen) class on the default (or a
// chosen) layer, every CAM method from one gradient; the attention rollout;
// and the layer × head grid of attention matrices, each where the model has
// what it needs.
import type { Tensor, TF } from '../blocks/contract.js';
import type { CompiledGraph } from '../compile/compile.js';
import type { GraphFile } from '../graph/types.js';
import { classActivationMaps, type CamMethod } from './gradcam.js';
import { attentionGrid, attentionRollout, type HeadMatrices } from './rollout.js';
import { chooseTarget, ExplainError, targetLayers } from './target.js';
import type { ExplainOptions } from '../schemas/inspection.js';

type LayerRef = { nodeId: string; port: string };

export interface InspectExplanations {
  cam?: {
    nodeId: string;
    port: string;
    classIndex: number;
    predicted: number;
    /** Every layer the maps can be computed on. */
    layers: LayerRef[];
    rows: number;
    cols: number;
    maps: Record<CamMethod, Float32Array<ArrayBuffer>>;
  };
  rollout?: { layers: LayerRef[]; rows: number; cols: number; map: Float32Array<ArrayBuffer> };
  grid?: (Omit<HeadMatrices, 'path' | 'copy' | 'data'> & { data: Float32Array<ArrayBuffer> })[];
  /** Why one is missing (no spatial layer, no self-attention). */
  notes: string[];
}

/** An explanation the model cannot give becomes a note; anything else is an error. */
async function orNote<T>(notes: string[], f: () => Promise<T>): Promise<T | undefined> {
  try {
    return await f();
  } catch (err) {
    if (!(err instanceof ExplainError)) throw err;
    notes.push(err.message);
    return undefined;
  }
}

/** The grid is left out above this many matrix entries in all (a ViT-B/16 has 12 × 12 × 197² ≈ 5.6M). */
export const GRID_LIMIT = 2_000_000;

export async function inspectExplanations(
  tf: TF,
  graph: GraphFile,
  compiled: CompiledGraph,
  x: Tensor,
  opts: ExplainOptions = {},
): Promise<InspectExplanations> {
  const notes: string[] = [];
  const cam = await orNote(notes, async () => {
    const r = await classActivationMaps(tf, compiled, chooseTarget(graph, compiled, opts.layer), x, { classIndex: opts.classIndex });
    const layers = targetLayers(graph, compiled).map((t) => ({ nodeId: t.node, port: t.port }));
    return { nodeId: r.node, port: r.port, classIndex: r.classIndex, predicted: r.predicted, layers, rows: r.rows, cols: r.cols, maps: r.maps };
  });
  const grid = await headGrid(tf, compiled, x, notes);
  const rollout = await orNote(notes, async () => {
    const r = await attentionRollout(tf, graph, compiled, x);
    return { layers: r.layers, rows: r.rows, cols: r.cols, map: r.map };
  });
  return { ...(cam && { cam }), ...(rollout && { rollout }), ...(grid && { grid }), notes };
}

/** Every attention matrix of the model for x, unless there are none or too many to send. */
async function headGrid(tf: TF, compiled: CompiledGraph, x: Tensor, notes: string[]): Promise<InspectExplanations['grid']> {
  const matrices = compiled.attention.filter((a) => a.kind === 'matrix' && a.shape.length >= 3);
  if (matrices.length === 0) return undefined;
  const size = matrices.reduce((n, a) => n + a.shape.slice(1).reduce<number>((p, d) => p * (d ?? 1), 1), 0);
  if (size > GRID_LIMIT) {
    notes.push(
      `the layer × head grid is left out: its ${matrices.length} attention outputs hold ${size.toLocaleString('en')} weights, more than ${GRID_LIMIT.toLocaleString('en')}`,
    );
    return undefined;
  }
  return (await attentionGrid(tf, compiled, x)).map(({ nodeId, port, heads, queries, keys, data }) => ({
    nodeId,
    port,
    heads,
    queries,
    keys,
    data: Float32Array.from(data),
  }));
}
