// The vision attention blocks on tfjs (SE, CBAM, non-local, the attention branch,
// gates), in one implementation: the blocks' builders call these functions, and
// the TypeScript export copies them into the exported file, where the block's
// emitter writes only the call (see engine/blocks/tfjs-kit.ts). Every layer is a
// standard tfjs layer named `${name}_…`, so trained weights load by name; the
// few steps that standard layers cannot express are custom layers, registered
// for serialisation.
import type * as tf from '@tensorflow/tfjs';
import { unbiasedBatchNormLayer } from '../../batch-norm-layer.js';
import { apply, customLayer, type Init, type TF } from '../../tfjs-kit.js';

/** CBAM's channel pooling: [B, H, W, C] -> [B, H, W, 2], the channel-wise mean then max. */
export const channelPoolLayer = (tf: TF) =>
  customLayer(tf, 'ChannelPool', (tf) => {
    class ChannelPool extends tf.layers.Layer {
      static className = 'ChannelPool';
      override computeOutputShape(s: tf.Shape | tf.Shape[]): tf.Shape {
        const shape = (Array.isArray(s[0]) ? s[0] : s) as tf.Shape;
        return [...shape.slice(0, -1), 2];
      }
      override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
        const x = Array.isArray(inputs) ? inputs[0] : inputs;
        return tf.tidy(() => tf.concat([tf.mean(x, -1, true), tf.max(x, -1, true)], -1));
      }
    }
    return ChannelPool;
  });

/** Batched matrix product of two rank-3 inputs, [B, N, K] · [B, K, M] (or · [B, M, K]ᵀ). */
export const batchMatMulLayer = (tf: TF) =>
  customLayer(tf, 'BatchMatMul', (tf) => {
    class BatchMatMul extends tf.layers.Layer {
      static className = 'BatchMatMul';
      readonly transposeB: boolean;
      constructor(args: { transposeB?: boolean; name?: string }) {
        super(args);
        this.transposeB = args.transposeB ?? false;
      }
      override computeOutputShape(s: tf.Shape | tf.Shape[]): tf.Shape {
        const [a, b] = s as tf.Shape[];
        return [a[0], a[1], this.transposeB ? b[1] : b[2]];
      }
      override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
        const [a, b] = inputs as tf.Tensor3D[];
        return tf.matMul(a, b, false, this.transposeB);
      }
      override getConfig() {
        return { ...super.getConfig(), transposeB: this.transposeB };
      }
    }
    return BatchMatMul;
  });

export type PairwiseFunction = 'embeddedGaussian' | 'dotProduct' | 'concatenation';

/**
 * The non-local block's normalised affinity f(θ_i, φ_j)/C(x) between every position i of θ [B, H, W, C′]
 * and every position j of φ [B, H′, W′, C′], as a [B, HW, H′W′] matrix whose rows weigh the positions of g.
 * Embedded Gaussian: softmax_j(θ_iᵀφ_j). Dot product: θ_iᵀφ_j / N′. Concatenation: ReLU(w_fᵀ[θ_i; φ_j]) / N′,
 * with w_f (2C′ weights, no bias) held here; N′ = H′W′ as in Wang et al.'s reference code.
 */
export const nonLocalAffinityLayer = (tf: TF) =>
  customLayer(tf, 'NonLocalAffinity', (tf) => {
    class NonLocalAffinity extends tf.layers.Layer {
      static className = 'NonLocalAffinity';
      readonly pairwise: PairwiseFunction;
      readonly seed: number;
      private kernel?: tf.LayerVariable;
      constructor(args: { pairwise: PairwiseFunction; seed?: number; name?: string }) {
        super(args);
        this.pairwise = args.pairwise;
        this.seed = args.seed ?? 0;
      }
      override build(s: tf.Shape | tf.Shape[]) {
        const inner = (s as tf.Shape[])[0][3] as number;
        if (this.pairwise === 'concatenation')
          this.kernel = this.addWeight('kernel', [2 * inner, 1], 'float32', tf.initializers.glorotUniform({ seed: this.seed }));
        this.built = true;
      }
      override computeOutputShape(s: tf.Shape | tf.Shape[]): tf.Shape {
        const [theta, phi] = s as tf.Shape[];
        const area = (t: tf.Shape) => (t[1] === null || t[2] === null ? null : t[1] * t[2]);
        return [theta[0], area(theta), area(phi)];
      }
      override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
        const [theta, phi] = inputs as tf.Tensor[];
        return tf.tidy(() => {
          const [, h, w, c] = theta.shape as number[];
          const [, hk, wk] = phi.shape as number[];
          const keys = hk * wk;
          const t = tf.reshape(theta, [-1, h * w, c]) as tf.Tensor3D;
          const p = tf.reshape(phi, [-1, keys, c]) as tf.Tensor3D;
          if (this.pairwise === 'concatenation') {
            // w_fᵀ[θ_i; φ_j] = w_θᵀθ_i + w_φᵀφ_j: project each side once, then broadcast to all pairs.
            const wf = this.kernel!.read();
            const wTheta = tf.reshape(tf.slice(wf, [0, 0], [c, 1]), [1, 1, c]);
            const wPhi = tf.reshape(tf.slice(wf, [c, 0], [c, 1]), [1, 1, c]);
            const a = tf.sum(tf.mul(t, wTheta), -1, true); // [B, HW, 1]
            const b = tf.expandDims(tf.sum(tf.mul(p, wPhi), -1), 1); // [B, 1, N′]
            return tf.div(tf.relu(tf.add(a, b)), keys);
          }
          const scores = tf.matMul(t, p, false, true);
          return this.pairwise === 'embeddedGaussian' ? tf.softmax(scores, -1) : tf.div(scores, keys);
        });
      }
      override getConfig() {
        return { ...super.getConfig(), pairwise: this.pairwise, seed: this.seed };
      }
    }
    return NonLocalAffinity;
  });

/** The highway combination y = t·h + (1 − t)·x, for inputs [h, x, t] of one shape. */
export const gatedMixLayer = (tf: TF) =>
  customLayer(tf, 'GatedMix', (tf) => {
    class GatedMix extends tf.layers.Layer {
      static className = 'GatedMix';
      override computeOutputShape(s: tf.Shape | tf.Shape[]): tf.Shape {
        return (s as tf.Shape[])[0];
      }
      override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
        const [h, x, t] = inputs as tf.Tensor[];
        return tf.tidy(() => tf.add(x, tf.mul(t, tf.sub(h, x))));
      }
    }
    return GatedMix;
  });

/** BatchNorm over channels with PyTorch's defaults (momentum 0.1, i.e. tfjs's 0.9; ε = 1e-5) and running variance; `torchMomentum` in PyTorch's sense. */
export function batchNorm(tf: TF, name: string, opts: { gammaZero?: boolean; torchMomentum?: number } = {}) {
  return new (unbiasedBatchNormLayer(tf))({
    axis: -1,
    momentum: 1 - (opts.torchMomentum ?? 0.1),
    epsilon: 1e-5,
    gammaInitializer: opts.gammaZero ? 'zeros' : 'ones',
    name,
  });
}

/** Hidden width of a reduction MLP: C/r rounded down but at least 1, as the reference code's `C // r`. */
export const reducedWidth = (channels: number, reduction: number) => Math.max(1, Math.floor(channels / reduction));

/** x [B, ..., C] (an image or a sequence) times per-channel weights w [B, C]. */
export function scaleChannels(tf: TF, x: tf.SymbolicTensor, w: tf.SymbolicTensor, name: string): tf.SymbolicTensor {
  const ones = x.shape.slice(1, -1).map(() => 1);
  const wide = apply(tf.layers.reshape({ targetShape: [...ones, w.shape[1] as number], name: `${name}_expand` }), w);
  return apply(tf.layers.multiply({ name: `${name}_scale` }), [x, wide]);
}

/**
 * Channel attention: pool → FC C/r → ReLU → FC C (shared across the pools, summed) → sigmoid → scale.
 * SE squeezes by average pooling; CBAM feeds the average- and the max-pooled descriptor through the same MLP.
 * Returns y and the channel weights [B, C].
 */
export function channelGate(
  tf: TF,
  x: tf.SymbolicTensor,
  o: { reduction: number; useBias?: boolean; pools: 'avg' | 'avg+max'; name: string },
  init?: Init,
): { out: tf.SymbolicTensor; weights: tf.SymbolicTensor } {
  const { reduction, useBias = true, name } = o;
  const c = x.shape[3] as number;
  const fc1 = tf.layers.dense({
    units: reducedWidth(c, reduction),
    activation: 'relu',
    useBias,
    kernelInitializer: init?.glorotUniform(),
    name: `${name}_fc1`,
  });
  const fc2 = tf.layers.dense({ units: c, useBias, kernelInitializer: init?.glorotUniform(), name: `${name}_fc2` });
  const mlp = (d: tf.SymbolicTensor) => apply(fc2, apply(fc1, d));
  let logits = mlp(apply(tf.layers.globalAveragePooling2d({ name: `${name}_avgpool` }), x));
  if (o.pools === 'avg+max') {
    const fromMax = mlp(apply(tf.layers.globalMaxPooling2d({ name: `${name}_maxpool` }), x));
    logits = apply(tf.layers.add({ name: `${name}_sum` }), [logits, fromMax]);
  }
  const weights = apply(tf.layers.activation({ activation: 'sigmoid', name: `${name}_sigmoid` }), logits);
  return { out: scaleChannels(tf, x, weights, name), weights };
}

/**
 * Squeeze-and-Excitation: channel attention from globally pooled features.
 * Hu, Shen, Albanie, Sun & Wu (2018). Squeeze-and-Excitation Networks.
 * s = σ(fc2(relu(fc1(GAP(x))))), y = x · s; returns y and the channel weights s [B, C].
 */
export function squeezeExcitation(tf: TF, x: tf.SymbolicTensor, o: { reduction: number; useBias?: boolean; name: string }, init?: Init) {
  return channelGate(tf, x, { ...o, pools: 'avg' }, init);
}

/**
 * CBAM's channel attention module.
 * Woo, Park, Lee & Kweon (2018). CBAM: Convolutional Block Attention Module.
 * M_c = σ(MLP(AvgPool(x)) + MLP(MaxPool(x))) with one shared MLP, y = M_c ⊙ x; returns y and M_c [B, C].
 */
export function channelAttention(tf: TF, x: tf.SymbolicTensor, o: { reduction: number; useBias?: boolean; name: string }, init?: Init) {
  return channelGate(tf, x, { ...o, pools: 'avg+max' }, init);
}

/**
 * CBAM's spatial attention module.
 * Woo, Park, Lee & Kweon (2018). CBAM: Convolutional Block Attention Module.
 * M_s = σ(BN(conv_k×k([mean_c(x); max_c(x)]))), y = M_s ⊙ x; returns y and M_s [B, H, W].
 * bnMomentum is in PyTorch's sense (the weight of each new batch).
 */
export function spatialAttention(
  tf: TF,
  x: tf.SymbolicTensor,
  o: { kernelSize?: number; batchNorm?: boolean; bnMomentum?: number; name: string },
  init?: Init,
): { out: tf.SymbolicTensor; map: tf.SymbolicTensor } {
  const { kernelSize = 7, bnMomentum = 0.1, name } = o;
  const [, h, w] = x.shape as number[];
  const pooled = apply(new (channelPoolLayer(tf))({ name: `${name}_pool` }), x);
  const conv = tf.layers.conv2d({ filters: 1, kernelSize, padding: 'same', useBias: false, kernelInitializer: init?.glorotUniform(), name: `${name}_conv` });
  let m = apply(conv, pooled);
  if (o.batchNorm ?? true) m = apply(batchNorm(tf, `${name}_bn`, { torchMomentum: bnMomentum }), m);
  m = apply(tf.layers.activation({ activation: 'sigmoid', name: `${name}_sigmoid` }), m);
  return {
    out: apply(tf.layers.multiply({ name: `${name}_scale` }), [x, m]),
    map: apply(tf.layers.reshape({ targetShape: [h, w], name: `${name}_map` }), m),
  };
}

/**
 * Convolutional Block Attention Module: channel attention, then spatial attention.
 * Woo, Park, Lee & Kweon (2018). CBAM: Convolutional Block Attention Module.
 * F′ = M_c(F) ⊙ F, F″ = M_s(F′) ⊙ F′; returns F″, the channel weights [B, C] and the spatial map [B, H, W].
 */
export function cbam(
  tf: TF,
  x: tf.SymbolicTensor,
  o: { reduction: number; kernelSize?: number; useBias?: boolean; batchNorm?: boolean; bnMomentum?: number; name: string },
  init?: Init,
): { out: tf.SymbolicTensor; channelWeights: tf.SymbolicTensor; spatialMap: tf.SymbolicTensor } {
  const { reduction, kernelSize, useBias, batchNorm, bnMomentum, name } = o;
  const channel = channelAttention(tf, x, { reduction, useBias, name: `${name}_channel` }, init);
  const spatial = spatialAttention(tf, channel.out, { kernelSize, batchNorm, bnMomentum, name: `${name}_spatial` }, init);
  return { out: spatial.out, channelWeights: channel.weights, spatialMap: spatial.map };
}

/**
 * Non-local block: self-attention over all positions of a feature map.
 * Wang, Girshick, Gupta & He (2018). Non-local Neural Networks.
 * y_i = Σ_j f(θ_i, φ_j) g_j / C(x), z = BN(W_z y) + x, with 1×1 convolutions θ, φ, g to ⌊C/2⌋ channels;
 * subsampling max-pools φ and g 2×2; BN's γ starts at 0. Returns z and the affinity [B, HW, N′].
 */
export function nonLocalBlock(
  tf: TF,
  x: tf.SymbolicTensor,
  o: { pairwise: PairwiseFunction; subsample: boolean; name: string },
  init?: Init,
): { out: tf.SymbolicTensor; affinity: tf.SymbolicTensor } {
  const { pairwise, subsample, name } = o;
  const [, h, w, c] = x.shape as number[];
  const inner = reducedWidth(c, 2);
  const conv1x1 = (filters: number, suffix: string, input: tf.SymbolicTensor) =>
    apply(tf.layers.conv2d({ filters, kernelSize: 1, kernelInitializer: init?.glorotUniform(), name: `${name}_${suffix}` }), input);
  const pool = (suffix: string, input: tf.SymbolicTensor) =>
    subsample ? apply(tf.layers.maxPooling2d({ poolSize: 2, strides: 2, padding: 'valid', name: `${name}_${suffix}_pool` }), input) : input;

  const theta = conv1x1(inner, 'theta', x);
  const phi = pool('phi', conv1x1(inner, 'phi', x));
  const g = pool('g', conv1x1(inner, 'g', x));
  const affinity = apply(new (nonLocalAffinityLayer(tf))({ pairwise, seed: init?.seed(), name: `${name}_affinity` }), [theta, phi]);
  const keys = (g.shape[1] as number) * (g.shape[2] as number);
  const gFlat = apply(tf.layers.reshape({ targetShape: [keys, inner], name: `${name}_g_flat` }), g);
  const yFlat = apply(new (batchMatMulLayer(tf))({ name: `${name}_aggregate` }), [affinity, gFlat]);
  const y = apply(tf.layers.reshape({ targetShape: [h, w, inner], name: `${name}_y` }), yFlat);
  const wz = apply(batchNorm(tf, `${name}_wz_bn`, { gammaZero: true }), conv1x1(c, 'wz', y));
  return { out: apply(tf.layers.add({ name: `${name}_residual` }), [wz, x]), affinity };
}

/**
 * The attention branch of an Attention Branch Network.
 * Fukui, Hirakawa, Yamashita & Fujiyoshi (2019). Attention Branch Network: Learning of Attention Mechanism for Visual Explanation.
 * convLayers 3×3 conv–BN–ReLU layers, BN, a 1×1 conv to K class maps, BN, ReLU; then a 1×1 conv, global average
 * pooling and softmax give the class scores, and a conv K→1, BN and sigmoid the attention map M.
 * Returns (1 + M)·x, M [B, H, W] and the scores [B, K].
 */
export function attentionBranch(
  tf: TF,
  x: tf.SymbolicTensor,
  o: { classes: number; convLayers?: number; mapKernel?: number; name: string },
  init?: Init,
): { out: tf.SymbolicTensor; map: tf.SymbolicTensor; scores: tf.SymbolicTensor } {
  const { classes, convLayers = 1, mapKernel = 1, name } = o;
  const [, h, w, c] = x.shape as number[];
  const conv = (filters: number, kernelSize: number, suffix: string, input: tf.SymbolicTensor) => {
    const kernelInitializer = init?.heNormal() ?? 'heNormal';
    return apply(tf.layers.conv2d({ filters, kernelSize, padding: 'same', useBias: false, kernelInitializer, name: `${name}_${suffix}` }), input);
  };
  const bn = (suffix: string, input: tf.SymbolicTensor) => apply(batchNorm(tf, `${name}_${suffix}`), input);
  const act = (activation: 'relu' | 'sigmoid' | 'softmax', suffix: string, input: tf.SymbolicTensor) =>
    apply(tf.layers.activation({ activation, name: `${name}_${suffix}` }), input);

  let a = x;
  for (let i = 1; i <= convLayers; i++) a = act('relu', `relu${i}`, bn(`bn${i}`, conv(c, 3, `conv${i}`, a)));
  a = bn('bn', a);
  a = act('relu', 'class_relu', bn('class_bn', conv(classes, 1, 'class_conv', a)));
  const pooled = apply(tf.layers.globalAveragePooling2d({ name: `${name}_gap` }), conv(classes, 1, 'score_conv', a));
  const scores = act('softmax', 'scores', pooled);
  const m = act('sigmoid', 'map_sigmoid', bn('map_bn', conv(1, mapKernel, 'map_conv', a)));
  const map = apply(tf.layers.reshape({ targetShape: [h, w], name: `${name}_map` }), m);
  const attended = apply(tf.layers.multiply({ name: `${name}_attend` }), [x, m]);
  return { out: apply(tf.layers.add({ name: `${name}_out` }), [x, attended]), map, scores };
}

/**
 * A highway layer: y = H(x)·T(x) + x·(1 − T(x)), with T(x) = σ(W_T x + b_T).
 * Srivastava, Greff & Schmidhuber (2015). Training Very Deep Networks.
 * H and T act on the last axis (Dense layers; k×k convolutions on an image); b_T starts at gateBias.
 * Returns y and the gate T(x).
 */
export function highwayGate(
  tf: TF,
  x: tf.SymbolicTensor,
  o: { activation?: 'relu' | 'tanh' | 'linear'; kernelSize?: number; gateBias?: number; name: string },
  init?: Init,
): { out: tf.SymbolicTensor; gate: tf.SymbolicTensor } {
  const { activation = 'relu', kernelSize = 1, gateBias = -2, name } = o;
  const c = x.shape[x.shape.length - 1] as number;
  const map = (suffix: string, fn: 'relu' | 'tanh' | 'linear' | 'sigmoid', bias?: number) => {
    const common = {
      activation: fn,
      kernelInitializer: init?.glorotUniform(),
      biasInitializer: bias === undefined ? undefined : tf.initializers.constant({ value: bias }),
      name: `${name}_${suffix}`,
    };
    return apply(x.shape.length === 4 ? tf.layers.conv2d({ filters: c, kernelSize, padding: 'same', ...common }) : tf.layers.dense({ units: c, ...common }), x);
  };
  const h = map('transform', activation);
  const gate = map('gate', 'sigmoid', gateBias);
  return { out: apply(new (gatedMixLayer(tf))({ name: `${name}_mix` }), [h, x, gate]), gate };
}

/**
 * A learned gate: y = σ(W c + b) ⊙ x, where the context c decides how much of x passes.
 * Dauphin, Fan, Auli & Grangier (2017). Language Modeling with Gated Convolutional Networks.
 * per 'channel': c is averaged over its positions and a dense layer gives one weight per channel of x [B, C];
 * per 'position': a dense layer on c's channels gives one weight per position [B, H, W] or [B, T].
 * Without a context x gates itself. Returns y and the gate.
 */
export function learnedGate(
  tf: TF,
  x: tf.SymbolicTensor,
  context: tf.SymbolicTensor | undefined,
  o: { per: 'channel' | 'position'; name: string },
  init?: Init,
): { out: tf.SymbolicTensor; gate: tf.SymbolicTensor } {
  const { per, name } = o;
  const ctx = context ?? x;
  const dense = (units: number, input: tf.SymbolicTensor) =>
    apply(tf.layers.dense({ units, activation: 'sigmoid', kernelInitializer: init?.glorotUniform(), name: `${name}_dense` }), input);
  if (per === 'channel') {
    const pool =
      ctx.shape.length === 4 ? tf.layers.globalAveragePooling2d({ name: `${name}_pool` }) : tf.layers.globalAveragePooling1d({ name: `${name}_pool` });
    const gate = dense(x.shape[x.shape.length - 1] as number, ctx.shape.length === 2 ? ctx : apply(pool, ctx));
    return { out: scaleChannels(tf, x, gate, name), gate };
  }
  const weights = dense(1, ctx);
  return {
    out: apply(tf.layers.multiply({ name: `${name}_scale` }), [x, weights]),
    gate: apply(tf.layers.reshape({ targetShape: x.shape.slice(1, -1) as number[], name: `${name}_map` }), weights),
  };
}
