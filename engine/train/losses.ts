// Losses over class targets, with positions labelled IGNORE left out (as
// PyTorch's ignore_index), and the accuracy metrics computed from predictions.
import type { LossName, Tensor, TF } from '../blocks/contract.js';
import { IGNORE } from '../data/dataset.js';

const EPS = 1e-7;

/** One-hot targets [n·positions, classes] and the mask of labelled positions, built on the JS side. */
export function oneHot(labels: Int32Array, classes: number): { y: Float32Array; mask: Float32Array } {
  const y = new Float32Array(labels.length * classes);
  const mask = new Float32Array(labels.length);
  labels.forEach((l, i) => {
    if (l === IGNORE) return;
    if (l < 0 || l >= classes) throw new Error(`label ${l} is outside the model's ${classes} classes`);
    y[i * classes + l] = 1;
    mask[i] = 1;
  });
  return { y, mask };
}

/** Loss per position (the last axis holds the classes), before masking and averaging. */
function perPosition(tf: TF, loss: LossName, y: Tensor, p: Tensor): Tensor {
  switch (loss) {
    case 'categoricalCrossentropy':
    case 'sparseCategoricalCrossentropy':
      return y
        .mul(p.clipByValue(EPS, 1 - EPS).log())
        .sum(-1)
        .neg();
    case 'binaryCrossentropy': {
      const q = p.clipByValue(EPS, 1 - EPS);
      return y
        .mul(q.log())
        .add(tf.sub(1, y).mul(tf.sub(1, q).log()))
        .mean(-1)
        .neg();
    }
    case 'meanSquaredError':
      return y.sub(p).square().mean(-1);
    case 'meanAbsoluteError':
      return y.sub(p).abs().mean(-1);
  }
}

/** Mean loss over labelled positions; y and p are [..., classes], mask is [...] (flattened alike). */
export function maskedLoss(tf: TF, loss: LossName, y: Tensor, p: Tensor, mask: Tensor): Tensor {
  const l = perPosition(tf, loss, y, p).reshape([-1]);
  return l.mul(mask).sum().div(mask.sum().maximum(1));
}

export interface Counts {
  /** Labelled positions. */
  n: number;
  correct: number;
  topK: number;
}

/** Correct and top-k-correct predictions among labelled positions of probabilities [positions × classes]. */
export function countCorrect(probs: Float32Array | Int32Array | Uint8Array, labels: Int32Array, classes: number, k: number): Counts {
  const c: Counts = { n: 0, correct: 0, topK: 0 };
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (l === IGNORE) continue;
    c.n++;
    const row = probs.subarray(i * classes, (i + 1) * classes);
    const target = row[l];
    // Classes ranked before the target (ties go to the lower index, as argmax does).
    let above = 0;
    for (let j = 0; j < classes; j++) if (row[j] > target || (row[j] === target && j < l)) above++;
    if (above === 0) c.correct++;
    if (above < k) c.topK++;
  }
  return c;
}
