// A graph's compiled model with a run's trained weights: the one path by which
// the app's Inspect, `attn predict` and anything else that runs a trained model
// get it, so that they all compute the same thing.
import type { Tensor, TF } from '../blocks/contract.js';
import { compileGraph, type CompiledGraph } from '../compile/compile.js';
import type { GraphFile } from '../graph/types.js';
import { loadCheckpoint, resolveCheckpoint } from '../train/checkpoint.js';

export interface TrainedModel {
  compiled: CompiledGraph;
  /** The checkpoint folder the weights came from. */
  checkpoint: string;
}

/** Compiles the graph and sets the weights of `from` (a run folder, its checkpoints/ or one checkpoint); refuses weights of another graph. */
export async function loadTrainedModel(tf: TF, graph: GraphFile, from: string): Promise<TrainedModel> {
  const compiled = compileGraph(tf, graph);
  try {
    const checkpoint = await resolveCheckpoint(from);
    const ck = await loadCheckpoint(tf, checkpoint);
    try {
      const want = compiled.model.weights;
      if (ck.weights.length !== want.length)
        throw new Error(`checkpoint ${checkpoint} holds ${ck.weights.length} weights, the model has ${want.length}: it is from another graph`);
      ck.weights.forEach((w, i) => {
        if (w.shape.join() !== want[i].shape.join())
          throw new Error(
            `checkpoint ${checkpoint}: weight ${i} (${want[i].originalName}) is [${w.shape.join(', ')}], the model's is [${want[i].shape.join(', ')}]: it is from another graph`,
          );
      });
      compiled.model.setWeights(ck.weights);
    } finally {
      tf.dispose([...ck.weights, ...ck.optimizer]);
    }
    return { compiled, checkpoint };
  } catch (err) {
    compiled.model.dispose();
    throw err;
  }
}

/** The model's outputs on `x` in inference mode (BatchNorm on its moving statistics, no dropout), in batches of `batchSize`. */
export function predictOutputs(tf: TF, compiled: CompiledGraph, x: Tensor, batchSize = 8): Tensor[] {
  const out = compiled.model.predict(x, { batchSize });
  return Array.isArray(out) ? out : [out];
}
