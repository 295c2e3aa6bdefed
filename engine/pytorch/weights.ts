// Weights between the compiled tfjs model and the exported PyTorch module, in
// both directions, through the exporter's own mapping (engine/export/
// torch-weights.ts): torch -> tfjs undoes its reshape and permutation. The
// optimizer's moments follow their parameters the same way, so a run can
// continue on either side.
import type * as tfjs from '@tensorflow/tfjs';
import type { Tensor, TF } from '../blocks/contract.js';
import type { PytorchExport } from '../export/pytorch.js';
import type { NamedArray } from '../export/safetensors.js';
import { permuteArray, torchStateDict } from '../export/torch-weights.js';

type Mapping = PytorchExport['weights'][number];

const tfjsName = (w: Mapping) => (w.tfjs.startsWith('_') ? `${w.layer}${w.tfjs}` : `${w.layer}/${w.tfjs}`);

function variablesByName(model: tfjs.LayersModel): Map<string, tfjs.LayerVariable> {
  const byName = new Map<string, tfjs.LayerVariable>();
  for (const layer of model.layers) for (const v of layer.weights) byName.set(v.originalName, v);
  return byName;
}

/** A torch-layout array back in the tfjs variable's layout. */
function toTfjsLayout(w: Mapping, tfShape: number[], a: NamedArray): Float32Array {
  const size = tfShape.reduce((p, q) => p * q, 1);
  if (a.data.length !== size)
    throw new Error(`node "${w.nodeId}": ${a.name} has ${a.data.length} values, the model's ${tfjsName(w)} [${tfShape.join(', ')}] needs ${size}`);
  if (!w.permute) return a.data;
  const permutedShape = w.permute.map((p) => tfShape[p]);
  const inverse = new Array<number>(w.permute.length);
  w.permute.forEach((p, i) => (inverse[p] = i));
  return permuteArray(a.data, permutedShape, inverse).data;
}

/** Sets the model's weights from a torch state_dict (by the export's names); names the first weight missing. */
export function loadTorchState(tf: TF, model: tfjs.LayersModel, exported: PytorchExport, state: NamedArray[]): void {
  const byTorch = new Map(state.map((a) => [a.name, a]));
  const vars = variablesByName(model);
  for (const w of exported.weights) {
    const v = vars.get(tfjsName(w));
    if (!v) throw new Error(`node "${w.nodeId}": the model has no weight ${tfjsName(w)} for ${w.torch}`);
    const a = byTorch.get(w.torch);
    if (!a) throw new Error(`node "${w.nodeId}": the PyTorch checkpoint has no ${w.torch}`);
    const shape = v.shape as number[];
    const t = tf.tensor(toTfjsLayout(w, shape, a), shape);
    v.write(t);
    t.dispose();
  }
}

/**
 * The torch optimizer's moments (`<param>.m`, `<param>.v`) as the tfjs
 * Optimizer's slots: per trainable variable in the model's order, [m] for SGD
 * with momentum, [m, v] for Adam(W). The caller disposes the tensors.
 */
export function tfjsSlots(tf: TF, model: tfjs.LayersModel, exported: PytorchExport, moments: NamedArray[], slots: string[]): Tensor[] {
  const byTorch = new Map(moments.map((a) => [a.name, a]));
  const byVar = new Map(exported.weights.map((w) => [tfjsName(w), w]));
  return model.trainableWeights.flatMap((v) => {
    const w = byVar.get(v.originalName);
    if (!w) throw new Error(`the PyTorch export has no parameter for ${v.originalName}`);
    const shape = v.shape as number[];
    return slots.map((slot) => {
      const a = byTorch.get(`${w.torch}.${slot}`);
      return a ? tf.tensor(toTfjsLayout(w, shape, a), shape) : tf.zeros(shape);
    });
  });
}

/** The tfjs Optimizer's slots (same order as tfjsSlots) as torch moments. */
export function torchMoments(model: tfjs.LayersModel, exported: PytorchExport, slotTensors: Tensor[], slots: string[]): NamedArray[] {
  const byVar = new Map(exported.weights.map((w) => [tfjsName(w), w]));
  const out: NamedArray[] = [];
  model.trainableWeights.forEach((v, i) => {
    const w = byVar.get(v.originalName)!;
    slots.forEach((slot, k) => {
      const t = slotTensors[i * slots.length + k];
      const data = t.dataSync() as Float32Array;
      const shape = t.shape as number[];
      const moved = w.permute ? permuteArray(data, shape, w.permute) : { data: Float32Array.from(data), shape };
      out.push({ name: `${w.torch}.${slot}`, data: moved.data, shape: w.reshape ?? moved.shape });
    });
  });
  return out;
}

export { torchStateDict };
