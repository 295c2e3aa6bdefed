// What the trainer and its data-parallel replicas (engine/worker/replica.ts)
// say to each other. Weights and gradients do not travel in messages: they sit
// in SharedArrayBuffers that both sides view, laid out weight after weight.
import type { GraphFile } from '../graph/types.js';
import type { TrainConfig } from '../schemas/train-config.js';
import type { TrainedOutput } from './shard-gradients.js';

export interface ReplicaInit {
  /** Which replica (1, 2, …; the trainer's own shard is 0). */
  rank: number;
  backend: string;
  /** The trained graph (its head already replaced) and the settings that mark weights trainable. */
  graph: GraphFile;
  config: TrainConfig;
  trained: Pick<TrainedOutput, 'index' | 'loss' | 'weight'>[];
  classes: number;
  /** Element counts of every model weight (model.weights order), then of the trainable ones (trainableWeights order). */
  weightSizes: number[];
  varSizes: number[];
  /** The trainer's weights, written before each step; this replica's gradients, written by it. */
  weights: SharedArrayBuffer;
  grads: SharedArrayBuffer;
}

export interface StepRequest {
  type: 'step';
  /** The dropout clock for this shard: distinct from every step's clock on the trainer's own shard. */
  clock: number;
  x: { data: Float32Array | Int32Array; shape: number[] };
  labels: Int32Array;
}

export type ReplicaReply =
  | { type: 'ready' }
  | { type: 'error'; message: string }
  | {
      type: 'grads';
      /** Wall time of the shard here, from the request's arrival to the reply. */
      ms: number;
      labelled: number;
      total: number;
      /** Per trained output. */
      losses: number[];
      probs: Float32Array[];
    };

/** Float32 offsets of consecutive blocks of these sizes, and the total. */
export function layout(sizes: number[]): { offsets: number[]; total: number } {
  const offsets: number[] = [];
  let total = 0;
  for (const n of sizes) {
    offsets.push(total);
    total += n;
  }
  return { offsets, total };
}
