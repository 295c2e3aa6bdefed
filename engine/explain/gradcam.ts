// Grad-CAM (Selvaraju et al., ICCV 2017) and Grad-CAM++ (Chattopadhay et al.,
// WACV 2018) on a compiled model: the class score's gradient with respect to a
// layer's activation A, by tf.grad, weighs A's channels.
//   Grad-CAM:   L = ReLU(Σ_k α_k A_k),  α_k = mean_ij ∂y/∂A_k(ij)
//   Grad-CAM++: α_k = Σ_ij a_k(ij) · ReLU(∂y/∂A_k(ij)),
//               a_k(ij) = g² / (2g² + Σ_ab A_k(ab) · g³ + ε)   (g = ∂y/∂A_k(ij); 0 where g = 0)
//   HiResCAM (Draelos & Carin 2020): L = ReLU(Σ_k ∂y/∂A_k ⊙ A_k), the gradient
//               not averaged: with a flatten + dense head the score's own
//               decomposition, where Grad-CAM's averaged gradient can be < 0
//               for every channel and leave an empty map.
// The score y is the class's logit: for a softmax head, the head's input times
// its kernel plus its bias (the softmax left out), as the papers use it.
import type * as tfjs from '@tensorflow/tfjs';
import type { Tensor, TF } from '../blocks/contract.js';
import type { CompiledGraph } from '../compile/compile.js';
import { runFrom } from './execute.js';
import { ExplainError, type TargetLayer } from './target.js';

import { CAM_METHODS, type CamMethod } from '../schemas/inspection.js';

export { CAM_METHODS, type CamMethod };

export interface CamResult {
  method: CamMethod;
  node: string;
  port: string;
  /** The class explained, and whether the model predicted it. */
  classIndex: number;
  predicted: number;
  /** The model's output (class probabilities) for the sample. */
  probs: Float32Array;
  /** The map over the layer's rows × columns, before any normalisation (ReLU applied). */
  rows: number;
  cols: number;
  map: Float32Array;
}

/** The function from the target's activation to the score of `classIndex` (the logit for a softmax head). */
export function classScore(tf: TF, compiled: CompiledGraph, target: TargetLayer, x: Tensor, classIndex: number, outputIndex = 0): (a: Tensor) => Tensor {
  const output = compiled.model.outputs[outputIndex] as tfjs.SymbolicTensor;
  // The output is a named identity layer over what the block produced.
  let produced = output.inputs.length === 1 && output.sourceLayer.getClassName() === 'Activation' ? output.inputs[0] : output;
  const head = produced.sourceLayer;
  const softmaxDense = head.getClassName() === 'Dense' && (head.getConfig() as { activation?: string }).activation === 'softmax';
  if (softmaxDense) produced = produced.inputs[0];
  const feeds = (a: Tensor) =>
    new Map([
      [compiled.model.inputs[0], x],
      [target.tensor, a],
    ]);
  return (a) => {
    let y = runFrom(produced, feeds(a));
    if (softmaxDense) {
      const [kernel, bias] = head.getWeights();
      y = bias ? tf.add(tf.matMul(y as tfjs.Tensor2D, kernel as tfjs.Tensor2D), bias) : tf.matMul(y as tfjs.Tensor2D, kernel as tfjs.Tensor2D);
    }
    return tf.sum(tf.slice(y, [0, classIndex], [1, 1]));
  };
}

/** The activation as [rows·cols, channels]: a feature map as it is, tokens with the leading (class) tokens dropped. */
function onGrid(values: Float32Array, target: TargetLayer): { data: Float32Array; channels: number } {
  const channels = target.shape[target.shape.length - 1]!;
  const skip = target.tokens?.skip ?? 0;
  return { data: values.subarray(skip * channels, (skip + target.rows * target.cols) * channels), channels };
}

/** The CAM from an activation and its gradient, both [positions, channels] (exported for the tests' direct computation). */
export function camFromGradients(method: CamMethod, a: Float32Array, g: Float32Array, positions: number, channels: number): Float32Array<ArrayBuffer> {
  if (method === 'hirescam')
    return Float32Array.from({ length: positions }, (_, p) => {
      let s = 0;
      for (let k = 0; k < channels; k++) s += g[p * channels + k] * a[p * channels + k];
      return Math.max(s, 0);
    });
  const weights = new Float32Array(channels);
  for (let k = 0; k < channels; k++) {
    if (method === 'gradcam') {
      let s = 0;
      for (let p = 0; p < positions; p++) s += g[p * channels + k];
      weights[k] = s / positions;
    } else {
      let sumA = 0;
      for (let p = 0; p < positions; p++) sumA += a[p * channels + k];
      let w = 0;
      for (let p = 0; p < positions; p++) {
        const gi = g[p * channels + k];
        if (gi === 0) continue;
        const g2 = gi * gi;
        const alpha = g2 / (2 * g2 + sumA * g2 * gi + 1e-7);
        w += alpha * Math.max(gi, 0);
      }
      weights[k] = w;
    }
  }
  const cam = new Float32Array(positions);
  for (let p = 0; p < positions; p++) {
    let s = 0;
    for (let k = 0; k < channels; k++) s += weights[k] * a[p * channels + k];
    cam[p] = Math.max(s, 0);
  }
  return cam;
}

/** The class scores' gradient at `target` for sample x [1, ...], turned into every CAM method's map (they share one backward pass). */
export async function classActivationMaps(
  tf: TF,
  compiled: CompiledGraph,
  target: TargetLayer,
  x: Tensor,
  opts: { classIndex?: number } = {},
): Promise<Omit<CamResult, 'method' | 'map'> & { maps: Record<CamMethod, Float32Array<ArrayBuffer>> }> {
  if (x.shape[0] !== 1) throw new ExplainError(`Grad-CAM explains one sample at a time; got a batch of ${x.shape[0]}`);
  const output = compiled.outputs[0];
  if (output.shape.length !== 2)
    throw new ExplainError(
      `output "${output.nodeId}" is [${output.shape.map((d) => d ?? 'B').join(', ')}]: Grad-CAM explains a class score, one per class [B, classes]`,
      output.nodeId,
    );
  const classes = output.shape[1]!;
  const probsT = tf.tidy(() => {
    const out = compiled.model.predict(x);
    return (Array.isArray(out) ? out[0] : out).clone();
  });
  const probs = Float32Array.from(await probsT.data());
  probsT.dispose();
  const predicted = probs.indexOf(Math.max(...probs));
  const classIndex = opts.classIndex ?? predicted;
  if (!Number.isInteger(classIndex) || classIndex < 0 || classIndex >= classes)
    throw new ExplainError(`class ${classIndex} does not exist: output "${output.nodeId}" has ${classes} classes (0…${classes - 1})`, output.nodeId);

  const [aT, gT] = tf.tidy(() => {
    const a = runFrom(target.tensor, new Map([[compiled.model.inputs[0], x]]));
    const g = tf.grad(classScore(tf, compiled, target, x, classIndex))(a);
    return [a.clone(), g];
  });
  const [aAll, gAll] = [(await aT.data()) as Float32Array, (await gT.data()) as Float32Array];
  tf.dispose([aT, gT]);
  const a = onGrid(aAll, target);
  const g = onGrid(gAll, target);
  const positions = target.rows * target.cols;
  const maps = Object.fromEntries(CAM_METHODS.map((m) => [m, camFromGradients(m, a.data, g.data, positions, a.channels)])) as Record<
    CamMethod,
    Float32Array<ArrayBuffer>
  >;
  return { node: target.node, port: target.port, classIndex, predicted, probs, rows: target.rows, cols: target.cols, maps };
}

/**
 * The map the app shows when no method is asked for: Grad-CAM, or HiResCAM
 * where Grad-CAM's averaged gradient leaves nothing after the ReLU (as behind a
 * flatten + dense head, whose class weights can average to ≤ 0 for every
 * channel; there HiResCAM is the score's own decomposition).
 */
export function shownCam(maps: Record<CamMethod, Float32Array>): 'gradcam' | 'hirescam' {
  return maps.gradcam.some((v) => v > 0) ? 'gradcam' : 'hirescam';
}

/** Grad-CAM (or another CAM method) of one sample x [1, ...] on `target`, for `classIndex` (default: the predicted class). */
export async function gradCam(
  tf: TF,
  compiled: CompiledGraph,
  target: TargetLayer,
  x: Tensor,
  opts: { method?: CamMethod; classIndex?: number } = {},
): Promise<CamResult> {
  const method = opts.method ?? 'gradcam';
  const { maps, ...rest } = await classActivationMaps(tf, compiled, target, x, opts);
  return { method, ...rest, map: maps[method] };
}
