// What Inspect shows besides the attention maps: the class activation maps of
// the predicted class on the default layer (every CAM method, from one
// gradient), and the attention rollout, each where the model has what it needs.
import type { Tensor, TF } from '../blocks/contract.js';
import type { CompiledGraph } from '../compile/compile.js';
import type { GraphFile } from '../graph/types.js';
import { classActivationMaps, type CamMethod } from './gradcam.js';
import { attentionRollout } from './rollout.js';
import { chooseTarget, ExplainError } from './target.js';

export interface InspectExplanations {
  cam?: { nodeId: string; port: string; classIndex: number; rows: number; cols: number; maps: Record<CamMethod, Float32Array<ArrayBuffer>> };
  rollout?: { layers: { nodeId: string; port: string }[]; rows: number; cols: number; map: Float32Array<ArrayBuffer> };
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

export async function inspectExplanations(tf: TF, graph: GraphFile, compiled: CompiledGraph, x: Tensor): Promise<InspectExplanations> {
  const notes: string[] = [];
  const cam = await orNote(notes, async () => {
    const r = await classActivationMaps(tf, compiled, chooseTarget(graph, compiled), x);
    return { nodeId: r.node, port: r.port, classIndex: r.classIndex, rows: r.rows, cols: r.cols, maps: r.maps };
  });
  const rollout = await orNote(notes, async () => {
    const r = await attentionRollout(tf, graph, compiled, x);
    return { layers: r.layers, rows: r.rows, cols: r.cols, map: r.map };
  });
  return { ...(cam && { cam }), ...(rollout && { rollout }), notes };
}
