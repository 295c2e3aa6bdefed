// A model saved as model.json and loaded back with tf.loadLayersModel, in memory:
// what a tfjs user gets from an exported or checkpointed model.
import type * as tfjs from '@tensorflow/tfjs';
import type { TF } from '../../engine/blocks/contract.js';

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
