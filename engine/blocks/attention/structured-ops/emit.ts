// Export code for the structured attention blocks (residual attention module,
// Attend and Rectify with its global gate, local self-attention 2D, attention-
// augmented convolution): one documented helper per block for each target, and
// the weight maps from the tfjs model to the PyTorch modules.
//
// tfjs: the export calls the very functions the blocks build with, so trained
// weights load by name and a trained model.json deserialises. PyTorch reproduces tfjs's semantics where
// they differ from the stock modules (TensorFlow "same" padding).
import { kerasHelper, tfjsHelper, torchHelper } from '../../emit/torch-helper.js';
import type { TorchWeight } from '../../contract.js';
import { batchNormWeights, convWeights } from '../vision-ops/emit.js';

/** The six weights groups of a pre-activation bottleneck unit: torch path `torch`, tfjs prefix `_${suffix}`. */
export const bottleneckWeights = (torch: string, suffix: string): TorchWeight[] =>
  [1, 2, 3].flatMap((k) => [...batchNormWeights(`${torch}.bn${k}`, `${suffix}_bn${k}`), ...convWeights(`${torch}.conv${k}`, `${suffix}_conv${k}`, false)]);

// ---------------------------------------------------------------------------
// PyTorch

export const TORCH_PRE_ACT_BOTTLENECK = torchHelper('PreActBottleneck', 'structured_attention.py');

export const TORCH_RESIDUAL_ATTENTION = torchHelper('ResidualAttention', 'structured_attention.py');

export const TORCH_ATTEND_RECTIFY = torchHelper('AttendRectify', 'structured_attention.py');

export const TORCH_GLOBAL_GATE = torchHelper('GlobalGate', 'structured_attention.py');

export const TORCH_LOCAL_SELF_ATTENTION = torchHelper('LocalSelfAttention2d', 'structured_attention.py');

export const TORCH_AUGMENTED_CONV = torchHelper('AugmentedConv2d', 'structured_attention.py');

// ---------------------------------------------------------------------------
// Keras 3 (channels-last, like the graph). Sublayers are named as the tfjs model's layers.

export const KERAS_PRE_ACT_BOTTLENECK = kerasHelper('PreActBottleneck', 'structured_attention.py');

export const KERAS_RESIDUAL_ATTENTION = kerasHelper('ResidualAttention', 'structured_attention.py');

export const KERAS_ATTEND_RECTIFY = kerasHelper('AttendRectify', 'structured_attention.py');

export const KERAS_GLOBAL_GATE = kerasHelper('GlobalGate', 'structured_attention.py');

export const KERAS_LOCAL_SELF_ATTENTION = kerasHelper('LocalSelfAttention2d', 'structured_attention.py');

export const KERAS_AUGMENTED_CONV = kerasHelper('AugmentedConv2d', 'structured_attention.py');

// ---------------------------------------------------------------------------
// tfjs (TypeScript): the functions the engine builds with (structured-attention.ts).

const tfjs = (name: string) => [tfjsHelper(name, 'attention/structured-ops/structured-attention.ts')];

export const TS_HELPERS = {
  residualAttention: tfjs('residualAttention'),
  attendRectify: tfjs('attendRectify'),
  globalGate: tfjs('globalGate'),
  localSelfAttention: tfjs('localSelfAttention2d'),
  augmentedConv: tfjs('augmentedConv2d'),
};
