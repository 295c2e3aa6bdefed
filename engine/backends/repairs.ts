// What tfjs 4.22 gets wrong or leaves out for training, put right once per tfjs
// instance whatever the backend: gradients it lacks (comparisons, dilated
// convolutions) and the cpu backend's wrong resize gradients.
import type { TF } from '../blocks/contract.js';
import { registerComparisonGradients } from './gradients.js';
import { registerDilatedConv2d } from './dilated-conv.js';
import { registerCpuResizeGrads } from './resize-grads.js';

export function repairTfjs(tf: TF): TF {
  registerComparisonGradients(tf);
  registerDilatedConv2d(tf);
  registerCpuResizeGrads(tf);
  return tf;
}
