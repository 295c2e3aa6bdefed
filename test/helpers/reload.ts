// A model saved as model.json and loaded back with tf.loadLayersModel, in memory:
// what a tfjs user gets from an exported or checkpointed model.
import assert from 'node:assert/strict';
import type * as tfjs from '@tensorflow/tfjs';
import type { TF } from '../../engine/blocks/contract.js';
import { relativeGap } from './numeric.js';

/** `model` saved to memory and loaded back by tfjs's own loader. */
export async function reloaded(tf: TF, model: tfjs.LayersModel): Promise<tfjs.LayersModel> {
  let saved: ReturnType<typeof tf.io.fromMemory> | undefined;
  await model.save(
    tf.io.withSaveHandler(
      async (artifacts) => ((saved = tf.io.fromMemory(artifacts)), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }),
    ),
  );
  return tf.loadLayersModel(saved!);
}

/** The model and its reloaded copy give the same outputs on `x` (to float rounding); then all three are disposed. */
export function assertSameOutputsThenDispose(tf: TF, model: tfjs.LayersModel, loaded: tfjs.LayersModel, x: tfjs.Tensor): void {
  const [a, b] = [model.predict(x), loaded.predict(x)] as tfjs.Tensor[];
  const gap = relativeGap(a.dataSync(), b.dataSync());
  assert.ok(gap <= 1e-5, `relative gap ${gap.toExponential(2)}`);
  tf.dispose([x, a, b]);
  model.dispose();
  loaded.dispose();
}
