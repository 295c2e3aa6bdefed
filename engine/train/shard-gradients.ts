// One shard's forward pass, loss and gradients in training mode: the trainer's
// step runs it on the whole batch, or on its own part of the batch when
// data-parallel replicas (engine/train/data-parallel.ts) take the other parts.
import type * as tfjs from '@tensorflow/tfjs';
import type { LossName, Tensor, TF } from '../blocks/contract.js';
import type { ModelOutput } from '../compile/compile.js';
import { maskedLoss, oneHot } from './losses.js';

type Variable = ReturnType<TF['variable']>;

export interface TrainedOutput extends ModelOutput {
  loss: LossName;
  /** Position among the model's outputs. */
  index: number;
}

export interface ShardGradients {
  /** The weighted sum of the outputs' losses. */
  value: tfjs.Scalar;
  /** Per variable, in the variables' order (zeros for a variable the loss does not reach). */
  grads: Tensor[];
  /** Per trained output: its probabilities [positions, classes], then its loss (kept: the caller disposes them). */
  probs: Tensor[];
  losses: Tensor[];
  /** Labelled positions (labels other than IGNORE): the weight of this shard's mean loss in the batch's. */
  labelled: number;
}

/** Loss and gradients of `x` against `labels`; x stays the caller's. */
export function shardGradients(
  tf: TF,
  model: tfjs.LayersModel,
  trained: readonly TrainedOutput[],
  classes: number,
  vars: Variable[],
  x: Tensor,
  labels: Int32Array,
): ShardGradients {
  const { y, mask } = oneHot(labels, classes);
  const yT = tf.tensor2d(y, [labels.length, classes]);
  const maskT = tf.tensor1d(mask);
  let probs: Tensor[] = [];
  let losses: Tensor[] = [];
  const { value, grads } = tf.variableGrads(() => {
    // The batch's labels go along for layers that read the truth in training (a decoder's teacher forcing).
    const out = model.apply(x, { training: true, targets: labels }) as Tensor | Tensor[];
    const list = Array.isArray(out) ? out : [out];
    const p = trained.map((o) => list[o.index].reshape([-1, classes]));
    const l = trained.map((o, i) => maskedLoss(tf, o.loss, yT, p[i], maskT));
    probs = p.map((t) => tf.keep(t));
    losses = l.map((t) => tf.keep(t));
    return tf.addN(l.map((t, i) => t.mul(trained[i].weight))) as tfjs.Scalar;
  }, vars);
  const ordered = vars.map((v) => grads[v.name] ?? tf.zerosLike(v));
  // Gradients the variables' order did not take (none in practice) would leak.
  const taken = new Set(ordered);
  tf.dispose([yT, maskT, ...Object.values(grads).filter((g) => !taken.has(g))]);
  return { value, grads: ordered, probs, losses, labelled: mask.reduce((a, b) => a + b, 0) };
}
