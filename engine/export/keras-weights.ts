// Trained tfjs weights -> the safetensors file that an exported Keras model's
// load_weights() reads (engine/export/keras/runtime.py). Keras keeps tfjs's
// layouts (channels-last kernels [kh, kw, in, out], Dense [in, out]), so every
// weight goes as it is, under its tfjs name (`conv1/kernel`).
import type * as tfjs from '@tensorflow/tfjs';
import { encodeSafetensors, type NamedArray } from './safetensors.js';

export function kerasWeights(model: tfjs.LayersModel): NamedArray[] {
  return model.weights.map((w) => {
    if (w.dtype !== 'float32') throw new Error(`weight ${w.originalName} is ${w.dtype}; only float32 weights are exported`);
    return { name: w.originalName, shape: w.shape as number[], data: Float32Array.from(w.read().dataSync() as Float32Array) };
  });
}

export function kerasWeightsFile(model: tfjs.LayersModel): Uint8Array {
  return encodeSafetensors(kerasWeights(model), { format: 'keras', source: 'Attention Studio' });
}
