// Export code for the vision attention blocks: one documented helper per block
// for each target (a PyTorch nn.Module, a Keras layer, the tfjs function the
// engine itself builds with), and the weight maps from tfjs to PyTorch.
//
// tfjs: the export calls the very functions the blocks build with, which create
// standard layers named as the compiled model's (a single tfjs custom layer
// would scope its weights as `name/...`, and trained weights load by layer name).
import { kerasHelper, tfjsHelper, torchHelper } from '../../emit/torch-helper.js';
import type { TorchWeight } from '../../contract.js';
import { CONV_KERNEL_TO_TORCH, DENSE_KERNEL_TO_TORCH, tsObject } from '../../emit/snippets.js';

// ---------------------------------------------------------------------------
// Weight maps (tfjs weight names below the node's layer prefix)

/** nn.Linear `torch` <- tfjs Dense `${layer}_${suffix}`. */
export const linearWeights = (torch: string, suffix: string, bias = true): TorchWeight[] => [
  { torch: `${torch}.weight`, tfjs: `_${suffix}/kernel`, permute: DENSE_KERNEL_TO_TORCH },
  ...(bias ? [{ torch: `${torch}.bias`, tfjs: `_${suffix}/bias` }] : []),
];

/** nn.Conv2d `torch` <- tfjs Conv2D `${layer}_${suffix}`. */
export const convWeights = (torch: string, suffix: string, bias = true): TorchWeight[] => [
  { torch: `${torch}.weight`, tfjs: `_${suffix}/kernel`, permute: CONV_KERNEL_TO_TORCH },
  ...(bias ? [{ torch: `${torch}.bias`, tfjs: `_${suffix}/bias` }] : []),
];

/** nn.BatchNorm2d `torch` <- tfjs BatchNormalization `${layer}_${suffix}`, running statistics included. */
export const batchNormWeights = (torch: string, suffix: string): TorchWeight[] => [
  { torch: `${torch}.weight`, tfjs: `_${suffix}/gamma` },
  { torch: `${torch}.bias`, tfjs: `_${suffix}/beta` },
  { torch: `${torch}.running_mean`, tfjs: `_${suffix}/moving_mean` },
  { torch: `${torch}.running_var`, tfjs: `_${suffix}/moving_variance` },
];

/** Prefixes every TorchWeight's attribute path with a submodule. */
export const under = (prefix: string, ws: TorchWeight[]): TorchWeight[] => ws.map((w) => ({ ...w, torch: `${prefix}.${w.torch}` }));

/** `a, b, c = ` for a statement that assigns several outputs (Python). */
export const pyTargets = (names: string[]) => names.join(', ');

/** `const { out: a, weights: b } = ` (TypeScript). */
export const tsTargets = (pairs: Record<string, string>) =>
  `{ ${Object.entries(pairs)
    .map(([k, v]) => (k === v ? k : `${k}: ${v}`))
    .join(', ')} }`;

/** `const { out: a, … } = fn(tf, x, …, { options });`: the call of a tfjs function the engine builds with. */
export const tsCall = (fn: string, outputs: Record<string, string>, inputs: (string | undefined)[], options: Record<string, unknown>) =>
  `const ${tsTargets(outputs)} = ${fn}(tf, ${inputs.join(', ')}, ${tsObject(options)});`;

// ---------------------------------------------------------------------------
// PyTorch

export const TORCH_SQUEEZE_EXCITATION = torchHelper('SqueezeExcitation', 'vision_attention.py');

export const TORCH_CHANNEL_ATTENTION = torchHelper('ChannelAttention', 'vision_attention.py');

export const TORCH_SPATIAL_ATTENTION = torchHelper('SpatialAttention', 'vision_attention.py');

export const TORCH_CBAM = torchHelper('CBAM', 'vision_attention.py');

export const TORCH_NON_LOCAL = torchHelper('NonLocalBlock', 'vision_attention.py');

export const TORCH_ATTENTION_BRANCH = torchHelper('AttentionBranch', 'vision_attention.py');

export const TORCH_HIGHWAY = torchHelper('HighwayGate', 'vision_attention.py');

export const TORCH_LEARNED_GATE = torchHelper('LearnedGate', 'vision_attention.py');

// ---------------------------------------------------------------------------
// Keras 3 (channels-last, like the graph). Sublayers are named as the tfjs model's layers.

export const KERAS_SQUEEZE_EXCITATION = kerasHelper('SqueezeExcitation', 'vision_attention.py');

export const KERAS_CHANNEL_ATTENTION = kerasHelper('ChannelAttention', 'vision_attention.py');

export const KERAS_SPATIAL_ATTENTION = kerasHelper('SpatialAttention', 'vision_attention.py');

export const KERAS_CBAM = kerasHelper('CBAM', 'vision_attention.py');

export const KERAS_NON_LOCAL = kerasHelper('NonLocalBlock', 'vision_attention.py');

export const KERAS_ATTENTION_BRANCH = kerasHelper('AttentionBranch', 'vision_attention.py');

export const KERAS_HIGHWAY = kerasHelper('HighwayGate', 'vision_attention.py');

export const KERAS_LEARNED_GATE = kerasHelper('LearnedGate', 'vision_attention.py');

// ---------------------------------------------------------------------------
// tfjs (TypeScript): the functions the engine builds with (vision-attention.ts).

const tfjs = (name: string) => [tfjsHelper(name, 'attention/vision-ops/vision-attention.ts')];

export const TS_HELPERS = {
  squeezeExcitation: tfjs('squeezeExcitation'),
  channelAttention: tfjs('channelAttention'),
  spatialAttention: tfjs('spatialAttention'),
  cbam: tfjs('cbam'),
  nonLocal: tfjs('nonLocalBlock'),
  attentionBranch: tfjs('attentionBranch'),
  highway: tfjs('highwayGate'),
  learnedGate: tfjs('learnedGate'),
};
