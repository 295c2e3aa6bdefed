// The explanation the probes send while a model trains: one fixed probe sample,
// explained with the weights of the moment, at the probe steps only. A ViT-style
// model (self-attention over a patch grid) gets attention rollout; a model with
// a spatial feature map gets Grad-CAM of its predicted class on the default
// layer; a text model with self-attention gets rollout over its tokens; any
// other model gets none. The method is chosen once, when training starts.
import type { Tensor, TF } from '../blocks/contract.js';
import type { CompiledGraph } from '../compile/compile.js';
import type { GraphFile } from '../graph/types.js';
import type { ProbeExplainer } from '../train/probes.js';
import type { ProbeExplanation } from '../schemas/train-events.js';
import { explain, type ExplainRequest } from './index.js';
import { selfAttentionLayers } from './rollout.js';
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
  if (possible(() => chooseTarget(graph, compiled))) return 'gradcam';
  return selfAttention.length ? 'rollout' : undefined;
}

/** The training process's explainer (a ProbeExplainerFactory): undefined when the model has nothing to explain with. */
export function probeExplainer(tf: TF, graph: GraphFile, compiled: CompiledGraph): ProbeExplainer | undefined {
  const method = liveMethod(graph, compiled);
  if (!method) return undefined;
  const request: ExplainRequest = { method };
  return {
    async explain(sample: Tensor): Promise<Omit<ProbeExplanation, 'sample'>> {
      const t0 = performance.now();
      const e = await explain(tf, graph, compiled, sample, request);
      return {
        method,
        layers: e.layers,
        ...(e.classIndex !== undefined && { classIndex: e.classIndex }),
        rows: e.rows,
        cols: e.cols,
        data: Float32Array.from(e.map),
        ms: performance.now() - t0,
      };
    },
  };
}
