// Convolution filters rewritten for reference computations.
import type { TF } from '../../engine/blocks/contract.js';

type T4 = ReturnType<TF['tensor4d']>;

/** A k×k filter spread d apart by zeros: the undilated filter of the same convolution. */
export function spreadFilter(tf: TF, f: T4, d: number): T4 {
  const [k, , ci, co] = f.shape;
  const e = (k - 1) * d + 1;
  const spaced = tf.pad(f.reshape([k, 1, k, 1, ci, co]), [
    [0, 0],
    [0, d - 1],
    [0, 0],
    [0, d - 1],
    [0, 0],
    [0, 0],
  ]);
  return tf.slice(spaced.reshape([k * d, k * d, ci, co]), 0, [e, e, ci, co]) as T4;
}
