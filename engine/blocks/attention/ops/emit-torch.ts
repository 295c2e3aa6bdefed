// PyTorch helpers of the sequence attention blocks: one documented nn.Module per
// block, emitted once per file. They reproduce the tfjs model exactly: hidden keys
// score -1e9 (not -inf), heads are contiguous slices of the projections, LayerNorm
// ε = 1e-5, and every Dense kernel [in, out] becomes a Linear weight [out, in].
import { torchHelper } from '../../emit/torch-helper.js';
import type { TorchWeight } from '../../contract.js';
import { CONV_KERNEL_TO_TORCH, DENSE_KERNEL_TO_TORCH } from '../../emit/snippets.js';

export const TORCH_MASKED_SOFTMAX = torchHelper('masked_softmax', 'sequence_attention.py');

export const TORCH_SCALED_DOT_PRODUCT = torchHelper('ScaledDotProductAttention', 'sequence_attention.py');

export const TORCH_MULTI_HEAD = torchHelper('MultiHeadAttention', 'sequence_attention.py');

export const TORCH_ENCODER = torchHelper('TransformerEncoderLayer', 'sequence_attention.py');

export const TORCH_DECODER = torchHelper('TransformerDecoderLayer', 'sequence_attention.py');

export const TORCH_ADDITIVE = torchHelper('AdditiveAttention', 'sequence_attention.py');
export const TORCH_ATTENTION_POOLING = torchHelper('AttentionPooling', 'sequence_attention.py');

export const TORCH_LUONG = torchHelper('LuongAttention', 'sequence_attention.py');

export const TORCH_MEMORY = torchHelper('MemoryNetwork', 'sequence_attention.py');

export const TORCH_PATCH = torchHelper('PatchEmbedding', 'sequence_attention.py');

/** A Dense layer of the node (`${layer}_${suffix}`) as the Linear at `torch`. */
export function linearWeights(torch: string, suffix: string, bias: boolean): TorchWeight[] {
  return [
    { torch: `${torch}.weight`, tfjs: `_${suffix}/kernel`, permute: DENSE_KERNEL_TO_TORCH },
    ...(bias ? [{ torch: `${torch}.bias`, tfjs: `_${suffix}/bias` }] : []),
  ];
}

/** The four projections of a MultiHeadAttention at `torch` (tfjs layers `${layer}${prefix}_query`, ...). */
export function multiHeadWeights(torch: string, prefix: string, bias: boolean): TorchWeight[] {
  const at = torch ? `${torch}.` : '';
  return (
    [
      ['q_proj', 'query'],
      ['k_proj', 'key'],
      ['v_proj', 'value'],
      ['out_proj', 'output'],
    ] as const
  ).flatMap(([t, s]) => linearWeights(`${at}${t}`, `${prefix}${s}`, bias));
}

export function layerNormWeights(torch: string, suffix: string): TorchWeight[] {
  return [
    { torch: `${torch}.weight`, tfjs: `_${suffix}/gamma` },
    { torch: `${torch}.bias`, tfjs: `_${suffix}/beta` },
  ];
}

export function convWeights(torch: string, suffix: string): TorchWeight[] {
  return [
    { torch: `${torch}.weight`, tfjs: `_${suffix}/kernel`, permute: CONV_KERNEL_TO_TORCH },
    { torch: `${torch}.bias`, tfjs: `_${suffix}/bias` },
  ];
}
