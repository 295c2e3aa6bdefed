// The fine-tuning settings (freeze, frozenBatchNorm, lrMultipliers) in a
// PyTorch module's own names: the parameters and buffers of frozen nodes, the
// BatchNorm modules held in eval mode, and the learning-rate multiplier of each
// parameter, found through the export's map from graph nodes to state_dict keys.
// The PyTorch training backend and the exported training script both apply it
// with apply_fine_tuning() and param_groups() of engine/export/torch/runtime.py.
import { isFrozen, lrMultiplierOf, type FineTuning } from '../graph/fine-tune-patterns.js';
import { byPrefix } from './prefix-groups.js';
import type { PytorchExport } from './pytorch.js';

export interface TorchFineTuning {
  /** Parameters (and buffers) of frozen nodes: no gradient, no update. */
  frozen: string[];
  /** BatchNorm modules of frozen nodes, held in eval mode. */
  batchNormEval: string[];
  /** Learning-rate multiplier of each parameter whose multiplier is not 1. */
  lrScale: Record<string, number>;
}

const RUNNING_MEAN = '.running_mean';

export function torchFineTuning(weights: PytorchExport['weights'], c: FineTuning): TorchFineTuning {
  const frozen = weights.filter((w) => isFrozen(w.nodeId, c));
  const lrScale: Record<string, number> = {};
  for (const w of weights) {
    const m = lrMultiplierOf(w.nodeId, c.lrMultipliers);
    if (m !== 1 && m !== 0) lrScale[w.torch] = m;
  }
  const batchNormEval =
    c.frozenBatchNorm === 'inference' ? frozen.filter((w) => w.torch.endsWith(RUNNING_MEAN)).map((w) => w.torch.slice(0, -RUNNING_MEAN.length)) : [];
  return { frozen: frozen.map((w) => w.torch), batchNormEval, lrScale };
}

/**
 * The same settings written by module: each name stands for itself and
 * everything below it ("stages.0" for "stages.0.conv.weight"), and a module
 * whose every parameter is frozen (or has one multiplier, or whose every
 * BatchNorm runs in eval mode) is named once instead of each of its parts.
 * What an exported script carries, so that a frozen ResNet backbone reads as
 * a few module names rather than hundreds of keys.
 */
export function torchFineTuningByModule(weights: PytorchExport['weights'], c: FineTuning): TorchFineTuning {
  const exact = torchFineTuning(weights, c);
  const names = weights.map((w) => w.torch);
  const frozen = new Set(exact.frozen);
  const bns = names.filter((n) => n.endsWith(RUNNING_MEAN)).map((n) => n.slice(0, -RUNNING_MEAN.length));
  const evalBns = new Set(exact.batchNormEval);
  return {
    frozen: byPrefix(names, (n) => (frozen.has(n) ? 'frozen' : undefined)).map(([m]) => m),
    batchNormEval: byPrefix(bns, (n) => (evalBns.has(n) ? 'eval' : undefined)).map(([m]) => m),
    lrScale: Object.fromEntries(byPrefix(names, (n) => exact.lrScale[n])),
  };
}
