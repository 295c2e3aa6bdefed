// Trained tfjs weights -> a state_dict file for the exported PyTorch module,
// with each kernel permuted into PyTorch's layout.
import type * as tfjs from '@tensorflow/tfjs';
import type { PytorchExport } from './pytorch.js';
import { encodeSafetensors, type NamedArray } from './safetensors.js';

type LayersModel = tfjs.LayersModel;

/** Permutes a row-major array of `shape` by `perm` (like np.transpose). */
export function permuteArray(data: Float32Array, shape: number[], perm: number[]): { data: Float32Array; shape: number[] } {
  const rank = shape.length;
  const outShape = perm.map((p) => shape[p]);
  const inStrides = new Array<number>(rank);
  for (let i = rank - 1, s = 1; i >= 0; i--) {
    inStrides[i] = s;
    s *= shape[i];
  }
  const out = new Float32Array(data.length);
  const idx = new Array<number>(rank).fill(0);
  const strides = perm.map((p) => inStrides[p]);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let k = 0; k < rank; k++) src += idx[k] * strides[k];
    out[o] = data[src];
    for (let k = rank - 1; k >= 0; k--) {
      if (++idx[k] < outShape[k]) break;
      idx[k] = 0;
    }
  }
  return { data: out, shape: outShape };
}

export function torchStateDict(model: LayersModel, exported: PytorchExport): NamedArray[] {
  const byName = new Map<string, tfjs.LayerVariable>();
  for (const layer of model.layers) for (const w of layer.weights) byName.set(w.originalName, w);
  return exported.weights.map((w) => {
    const full = w.tfjs.startsWith('_') ? `${w.layer}${w.tfjs}` : `${w.layer}/${w.tfjs}`;
    const v = byName.get(full);
    if (!v) throw new Error(`node "${w.nodeId}": the model has no weight ${full} for ${w.torch}`);
    const data = v.read().dataSync() as Float32Array;
    const shape = v.shape as number[];
    const moved = w.permute ? permuteArray(data, shape, w.permute) : { data: Float32Array.from(data), shape };
    if (w.reshape) {
      const size = w.reshape.reduce((a, b) => a * b, 1);
      if (size !== moved.data.length)
        throw new Error(`node "${w.nodeId}": cannot reshape ${full} [${moved.shape.join(', ')}] to [${w.reshape.join(', ')}] for ${w.torch}`);
      moved.shape = w.reshape;
    }
    return { name: w.torch, ...moved };
  });
}

export function torchWeightsFile(model: LayersModel, exported: PytorchExport): Uint8Array {
  return encodeSafetensors(torchStateDict(model, exported), { format: 'pt', source: 'Attention Studio' });
}
