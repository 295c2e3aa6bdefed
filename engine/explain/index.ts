// Explanations of one sample by a compiled model: Grad-CAM, Grad-CAM++,
// attention rollout or attention flow, with the layer (or the attention layers) chosen from the
// graph. The CLI, the inspection process and the bench call this.
import type { Tensor, TF } from '../blocks/contract.js';
import type { CompiledGraph } from '../compile/compile.js';
import type { GraphFile } from '../graph/types.js';
import { CAM_METHODS, classActivationMaps, shownCam, type CamMethod } from './gradcam.js';
import { attentionFlow } from './flow.js';
import { attentionRollout, rollout, type HeadFusion } from './rollout.js';
import { chooseTarget, ExplainError } from './target.js';

export { attentionGrid, HEAD_FUSIONS, type HeadFusion, type HeadMatrices } from './rollout.js';
export { chooseTarget, defaultLayer, ExplainError, targetLayers } from './target.js';
export { overlay, upsample, normalise } from './overlay.js';

export type ExplainMethod = CamMethod | 'rollout' | 'flow';
/** What can be asked for: a method, or `auto`, the class activation map the app shows (see shownCam). */
export type ExplainChoice = ExplainMethod | 'auto';
export const EXPLAIN_METHODS: readonly ExplainChoice[] = ['auto', ...CAM_METHODS, 'rollout', 'flow'];

export interface ExplainRequest {
  method: ExplainChoice;
  /** Grad-CAM: the class to explain (default: the predicted one). */
  classIndex?: number;
  /** Grad-CAM: "NODE" or "NODE:PORT" (default: chosen from the graph). */
  layer?: string;
  /** Rollout. */
  fusion?: HeadFusion;
  discardRatio?: number;
}

/** One explanation: a map over rows × cols of the input, and what it was computed on. */
export interface Explanation {
  /** The method that made the map (for `auto`, the one it chose). */
  method: ExplainMethod;
  /** Grad-CAM: the layer; rollout: the attention outputs multiplied, first to last. */
  layers: { nodeId: string; port: string }[];
  rows: number;
  cols: number;
  map: Float32Array;
  /** Grad-CAM: the class explained, the predicted one and the output. */
  classIndex?: number;
  predicted?: number;
  probs?: Float32Array;
  /** Rollout: R over all tokens, [tokens, tokens]. */
  tokens?: number;
  joint?: Float32Array;
}

/** Explains sample x [1, ...]. */
export async function explain(tf: TF, graph: GraphFile, compiled: CompiledGraph, x: Tensor, req: ExplainRequest): Promise<Explanation> {
  if (req.method === 'rollout' || req.method === 'flow') {
    const r = await attentionRollout(tf, graph, compiled, x, req, req.method === 'flow' ? attentionFlow : rollout);
    return { method: req.method, layers: r.layers, rows: r.rows, cols: r.cols, map: r.map, tokens: r.tokens, joint: r.joint };
  }
  if (req.method !== 'auto' && !CAM_METHODS.includes(req.method))
    throw new ExplainError(`unknown method "${req.method}": one of ${EXPLAIN_METHODS.join(', ')}`);
  const target = chooseTarget(graph, compiled, req.layer);
  const r = await classActivationMaps(tf, compiled, target, x, { classIndex: req.classIndex });
  const method = req.method === 'auto' ? shownCam(r.maps) : req.method;
  return {
    method,
    layers: [{ nodeId: r.node, port: r.port }],
    rows: r.rows,
    cols: r.cols,
    map: r.maps[method],
    classIndex: r.classIndex,
    predicted: r.predicted,
    probs: r.probs,
  };
}
