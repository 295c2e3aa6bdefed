// The explanation the probes send while a model trains: one fixed probe sample,
// explained with the weights of the moment, at the probe steps only. A ViT-style
// model (self-attention over a patch grid) gets attention rollout; a model with
// a spatial feature map gets Grad-CAM of its predicted class on the default
// layer (HiResCAM, from the same gradient, where Grad-CAM's averaged gradient
// leaves the map empty, as it can behind a flatten + dense head); a text model with self-attention gets rollout over its tokens; any
// other model gets none. The method is chosen once, when training starts.
import type { Tensor, TF } from '../blocks/contract.js';
import type { CompiledGraph } from '../compile/compile.js';
import type { GraphFile } from '../graph/types.js';
import type { ProbeExplainer } from '../train/probes.js';
import type { LiveExplainPlan, ProbeExplanation } from '../schemas/train-events.js';
import { classActivationMaps, shownCam } from './gradcam.js';
import { attentionRollout, selfAttentionLayers } from './rollout.js';
import { chooseTarget, ExplainError, tokenGridOf } from './target.js';

/** Whether `f` works on this model: an ExplainError says it does not. */
function possible(f: () => unknown): boolean {
  try {
    f();
    return true;
  } catch (err) {
    if (err instanceof ExplainError) return false;
    throw err;
  }
}

/** What the probes explain with on this model, or undefined when it has neither a spatial map nor self-attention. */
export function liveMethod(graph: GraphFile, compiled: CompiledGraph): 'gradcam' | 'rollout' | undefined {
  let selfAttention: ReturnType<typeof selfAttentionLayers> = [];
  possible(() => (selfAttention = selfAttentionLayers(compiled)));
  const onGrid = selfAttention.length > 0 && tokenGridOf(graph, compiled, selfAttention[selfAttention.length - 1].nodeId) !== undefined;
  if (onGrid) return 'rollout';
  // Grad-CAM explains a class score: one per class, [B, classes].
  if (compiled.outputs[0]?.shape.length === 2 && possible(() => chooseTarget(graph, compiled))) return 'gradcam';
  return selfAttention.length ? 'rollout' : undefined;
}

/**
 * The same explanation, planned for a PyTorch run's worker: the layer Grad-CAM
 * weighs (the tfjs default, which the export's forward_features() ends at), or
 * the self-attention outputs rollout multiplies and the grid they lie on.
 */
export function liveExplainPlan(graph: GraphFile, compiled: CompiledGraph): LiveExplainPlan | undefined {
  const method = liveMethod(graph, compiled);
  if (method === 'gradcam') {
    const t = chooseTarget(graph, compiled);
    return { method, layer: { nodeId: t.node, port: t.port }, rows: t.rows, cols: t.cols };
  }
  if (method !== 'rollout') return undefined;
  const layers = selfAttentionLayers(compiled);
  const tokens = layers[layers.length - 1].shape.at(-1)!;
  const grid = tokenGridOf(graph, compiled, layers[layers.length - 1].nodeId);
  return {
    method,
    layers: layers.map((a) => ({ nodeId: a.nodeId, port: a.port })),
    ...(grid ? { rows: grid.rows, cols: grid.cols, skip: grid.skip } : { rows: 1, cols: tokens, skip: 0 }),
  };
}

/** The training process's explainer (a ProbeExplainerFactory): undefined when the model has nothing to explain with. */
export function probeExplainer(tf: TF, graph: GraphFile, compiled: CompiledGraph): ProbeExplainer | undefined {
  const method = liveMethod(graph, compiled);
  if (!method) return undefined;
  const target = method === 'gradcam' ? chooseTarget(graph, compiled) : undefined;
  const explainOne = async (sample: Tensor): Promise<Omit<ProbeExplanation, 'sample' | 'ms'>> => {
    if (!target) {
      const r = await attentionRollout(tf, graph, compiled, sample);
      return { method: 'rollout', layers: r.layers, rows: r.rows, cols: r.cols, data: r.map };
    }
    const r = await classActivationMaps(tf, compiled, target, sample);
    const cam = shownCam(r.maps);
    return { method: cam, layers: [{ nodeId: r.node, port: r.port }], classIndex: r.classIndex, rows: r.rows, cols: r.cols, data: r.maps[cam] };
  };
  // A sample the model cannot be explained on ends the explanations, not the run.
  let failed = false;
  return {
    async explain(sample: Tensor) {
      if (failed) return undefined;
      const t0 = performance.now();
      try {
        return { ...(await explainOne(sample)), ms: performance.now() - t0 };
      } catch (err) {
        if (!(err instanceof ExplainError)) throw err;
        failed = true;
        return undefined;
      }
    },
  };
}
