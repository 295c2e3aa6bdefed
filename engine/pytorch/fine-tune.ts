// The fine-tuning settings (freeze, frozenBatchNorm, lrMultipliers) as the
// PyTorch worker applies them: by the module's own parameter and module names,
// which the export ties to the graph's nodes.
import type { PytorchExport } from '../export/pytorch.js';
import type { TrainConfig } from '../schemas/train-config.js';
import { isFrozen, lrMultiplierOf } from '../train/fine-tune.js';

export interface TorchFineTuning {
  /** Parameters (and buffers) of frozen nodes: no gradient, no update. */
  frozen: string[];
  /** BatchNorm modules of frozen nodes, held in eval mode. */
  batchNormEval: string[];
  /** Learning-rate multiplier of each parameter whose multiplier is not 1. */
  lrScale: Record<string, number>;
}

export function torchFineTuning(weights: PytorchExport['weights'], c: Pick<TrainConfig, 'freeze' | 'frozenBatchNorm' | 'lrMultipliers'>): TorchFineTuning {
  const frozen = weights.filter((w) => isFrozen(w.nodeId, c));
  const lrScale: Record<string, number> = {};
  for (const w of weights) {
    const m = lrMultiplierOf(w.nodeId, c.lrMultipliers);
    if (m !== 1 && m !== 0) lrScale[w.torch] = m;
  }
  const batchNormEval =
    c.frozenBatchNorm === 'inference' ? frozen.filter((w) => w.torch.endsWith('.running_mean')).map((w) => w.torch.slice(0, -'.running_mean'.length)) : [];
  return { frozen: frozen.map((w) => w.torch), batchNormEval, lrScale };
}
