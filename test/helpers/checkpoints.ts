// Reading what a training run left on disk, for the fine-tuning tests.
import { loadCheckpoint, resolveCheckpoint } from '../../engine/train/checkpoint.js';
import { tfReady } from './tf.js';

/** A run's newest checkpoint, weight by name. */
export async function runWeights(dir: string): Promise<Map<string, Float32Array>> {
  const tf = await tfReady;
  const ck = await loadCheckpoint(tf, await resolveCheckpoint(dir));
  const out = new Map(ck.weightNames.map((n, i) => [n, ck.weights[i].dataSync() as Float32Array]));
  tf.dispose([...ck.weights, ...ck.optimizer]);
  return out;
}

/** The same numbers, bit for bit (NaN equals NaN, 0 differs from −0). */
export const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
