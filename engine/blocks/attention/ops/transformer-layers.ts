// The Transformer encoder and decoder layers (Vaswani et al. 2017, §3.1) on tfjs, in
// one implementation: the engine's builders call these functions and the TypeScript
// export copies them (see engine/blocks/tfjs-kit.ts). Every layer is named
// `${name}_…` (`_self_…`, `_cross_…`, `_ff1`, `_norm1`, …), so trained weights load by name.
import type * as tf from '@tensorflow/tfjs';
import { apply, type TF } from '../../tfjs-kit.js';
import { seededDropoutLayer } from '../../seeded-dropout.js';
import { layerNormLayer } from '../../layer-norm-layer.js';
import { multiHeadAttention, type SequenceInit } from './sequence-attention.js';

export interface TransformerLayerOptions {
  heads: number;
  /** Hidden size of the position-wise feed-forward network (PyTorch dim_feedforward). */
  ffDim: number;
  /** On the attention weights, inside the feed-forward network and on each sublayer output; 0.1 when absent. */
  dropout?: number;
  activation?: 'relu' | 'gelu';
  /** LayerNorm after each residual sum (the paper, the default) or before each sublayer. */
  norm?: 'post' | 'pre';
  /** The LayerNorms' ε; 1e-5 (PyTorch) when absent. */
  normEpsilon?: number;
  /** Causal self-attention; off in an encoder and on in a decoder when absent. */
  causal?: boolean;
  name: string;
}

/** Dropout layer `<name>_<suffix>` on h (seeded in the engine), or h itself at rate 0. */
function sublayerDropout(tf: TF, h: tf.SymbolicTensor, rate: number, layer: string, init?: SequenceInit): tf.SymbolicTensor {
  return rate > 0 ? apply(new (seededDropoutLayer(tf))({ rate, name: layer, site: init?.dropoutSeed(layer) }), h) : h;
}

/** Residual sublayer i: post-norm LN(x + drop(f(x))), pre-norm x + drop(f(LN(x))). */
function residual(
  tf: TF,
  i: number,
  o: TransformerLayerOptions,
  x: tf.SymbolicTensor,
  f: (h: tf.SymbolicTensor) => tf.SymbolicTensor,
  init?: SequenceInit,
): tf.SymbolicTensor {
  const { dropout = 0.1, norm = 'post', normEpsilon = 1e-5, name } = o;
  const ln = (h: tf.SymbolicTensor) => apply(new (layerNormLayer(tf))({ axis: -1, epsilon: normEpsilon, name: `${name}_norm${i}` }), h);
  const drop = (h: tf.SymbolicTensor) => sublayerDropout(tf, h, dropout, `${name}_drop${i}`, init);
  const add = (a: tf.SymbolicTensor, b: tf.SymbolicTensor) => apply(tf.layers.add({ name: `${name}_add${i}` }), [a, b]);
  return norm === 'pre' ? add(x, drop(f(ln(x)))) : ln(add(x, drop(f(x))));
}

/** The position-wise feed-forward network ff2(drop(act(ff1(x)))). */
function feedForward(tf: TF, o: TransformerLayerOptions, x: tf.SymbolicTensor, init?: SequenceInit): tf.SymbolicTensor {
  const { ffDim, dropout = 0.1, activation = 'relu', name } = o;
  const dense = (h: tf.SymbolicTensor, units: number, suffix: string, act: 'relu' | 'gelu' | 'linear') =>
    apply(tf.layers.dense({ units, activation: act, kernelInitializer: init?.glorotUniform(), name: `${name}_${suffix}` }), h);
  const h = sublayerDropout(tf, dense(x, ffDim, 'ff1', activation), dropout, `${name}_ffdrop`, init);
  return dense(h, x.shape[2] as number, 'ff2', 'linear');
}

/** Residual sublayer i around multi-head attention `<name>_<suffix>` of x over kv (x itself when absent). */
function attentionSublayer(
  tf: TF,
  i: number,
  o: TransformerLayerOptions,
  x: { query: tf.SymbolicTensor; kv?: tf.SymbolicTensor; mask?: tf.SymbolicTensor },
  a: { suffix: string; causal: boolean },
  init?: SequenceInit,
): { out: tf.SymbolicTensor; weights: tf.SymbolicTensor } {
  const { heads, dropout = 0.1, name } = o;
  let weights!: tf.SymbolicTensor;
  const attend = (q: tf.SymbolicTensor) => {
    const kv = x.kv ?? q;
    const r = multiHeadAttention(tf, { query: q, key: kv, value: kv, mask: x.mask }, { heads, dropout, causal: a.causal, name: `${name}_${a.suffix}` }, init);
    weights = r.weights;
    return r.out;
  };
  return { out: residual(tf, i, o, x.query, attend, init), weights };
}

/**
 * One Transformer encoder layer (Vaswani et al. 2017, "Attention Is All You Need", §3.1): multi-head self-attention
 * and a position-wise feed-forward network, each in a residual connection with LayerNorm, after the sum (post-norm,
 * the paper) or before the sublayer (pre-norm; Xiong et al. 2020). Same sublayers as PyTorch's
 * nn.TransformerEncoderLayer. Returns out [B,T,d] and the self-attention weights [B,heads,T,T].
 */
export function transformerEncoderLayer(
  tf: TF,
  x: { in: tf.SymbolicTensor; mask?: tf.SymbolicTensor },
  o: TransformerLayerOptions,
  init?: SequenceInit,
): { out: tf.SymbolicTensor; attention: tf.SymbolicTensor } {
  const attended = attentionSublayer(tf, 1, o, { query: x.in, mask: x.mask }, { suffix: 'self', causal: o.causal ?? false }, init);
  return { out: residual(tf, 2, o, attended.out, (h) => feedForward(tf, o, h, init), init), attention: attended.weights };
}

/**
 * One Transformer decoder layer (Vaswani et al. 2017, "Attention Is All You Need", §3.1): (causal) self-attention
 * over the target, cross-attention to the encoder output (memory) and a position-wise feed-forward network, each in
 * a residual connection with LayerNorm, post-norm (the paper) or pre-norm. Same sublayers as PyTorch's
 * nn.TransformerDecoderLayer. Returns out [B,T,d], self-attention [B,heads,T,T] and cross-attention [B,heads,T,S].
 */
export function transformerDecoderLayer(
  tf: TF,
  x: { in: tf.SymbolicTensor; memory: tf.SymbolicTensor; mask?: tf.SymbolicTensor; memoryMask?: tf.SymbolicTensor },
  o: TransformerLayerOptions,
  init?: SequenceInit,
): { out: tf.SymbolicTensor; selfAttention: tf.SymbolicTensor; crossAttention: tf.SymbolicTensor } {
  const attended = attentionSublayer(tf, 1, o, { query: x.in, mask: x.mask }, { suffix: 'self', causal: o.causal ?? true }, init);
  const crossed = attentionSublayer(tf, 2, o, { query: attended.out, kv: x.memory, mask: x.memoryMask }, { suffix: 'cross', causal: false }, init);
  const out = residual(tf, 3, o, crossed.out, (h) => feedForward(tf, o, h, init), init);
  return { out, selfAttention: attended.weights, crossAttention: crossed.weights };
}
