// Export code for the vision attention blocks: one documented helper per block
// for each target (a PyTorch nn.Module, a Keras layer, a tfjs block class made of
// the compiled model's own layers), and the weight maps from tfjs to PyTorch.
//
// tfjs: each block is a small class whose apply() creates the same standard
// layers, with the same names, as the block's builder (a single tfjs custom
// layer would scope its weights as `name/...`, and trained weights load by
// layer name). The few custom layers the builders use are emitted too, with the
// same class names, so a trained model.json deserialises.
import { kerasHelper, torchHelper } from '../../emit/torch-helper.js';
import type { CodeHelper, TorchWeight } from '../../contract.js';
import { CONV_KERNEL_TO_TORCH, DENSE_KERNEL_TO_TORCH } from '../../emit/snippets.js';

const helper = (name: string, code: string): CodeHelper => ({ name, code: code.trim() });

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
// tfjs (TypeScript)

const TS_CHANNEL_POOL = helper(
  'ChannelPool',
  `
/** CBAM's channel pooling: [B, H, W, C] -> [B, H, W, 2], the channel-wise mean then max. */
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
tf.serialization.registerClass(ChannelPool);
`,
);

const TS_BATCH_MAT_MUL = helper(
  'BatchMatMul',
  `
/** Batched matrix product of two rank-3 inputs, [B, N, K] · [B, K, M]. */
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
tf.serialization.registerClass(BatchMatMul);
`,
);

const TS_NON_LOCAL_AFFINITY = helper(
  'NonLocalAffinity',
  `
/**
 * The non-local block's normalised affinity f(θ_i, φ_j)/C(x) between every position of θ [B, H, W, C']
 * and of φ [B, H', W', C'], as [B, HW, H'W']. Embedded Gaussian: softmax_j(θ_iᵀφ_j); dot product:
 * θ_iᵀφ_j / N'; concatenation: ReLU(w_fᵀ[θ_i; φ_j]) / N' with w_f (2C' weights) held here.
 */
class NonLocalAffinity extends tf.layers.Layer {
  static className = 'NonLocalAffinity';
  readonly pairwise: 'embeddedGaussian' | 'dotProduct' | 'concatenation';
  readonly seed: number;
  private kernel?: tf.LayerVariable;
  constructor(args: { pairwise: 'embeddedGaussian' | 'dotProduct' | 'concatenation'; seed?: number; name?: string }) {
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
        const b = tf.expandDims(tf.sum(tf.mul(p, wPhi), -1), 1); // [B, 1, N']
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
tf.serialization.registerClass(NonLocalAffinity);
`,
);

const TS_GATED_MIX = helper(
  'GatedMix',
  `
/** The highway combination y = t·h + (1 − t)·x, for inputs [h, x, t] of one shape. */
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
tf.serialization.registerClass(GatedMix);
`,
);

/** Applies a layer to symbolic tensors (the one cast the functional API needs). */
const TS_ON = `const on = (layer: tf.layers.Layer, input: tf.SymbolicTensor | tf.SymbolicTensor[]) => layer.apply(input) as tf.SymbolicTensor;`;
const TS_BN = `tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5`;

const TS_SQUEEZE_EXCITATION = helper(
  'SqueezeExcitation',
  `
/**
 * Squeeze-and-Excitation: channel attention from globally pooled features.
 * Hu, Shen, Albanie, Sun & Wu (2018). Squeeze-and-Excitation Networks.
 * s = σ(fc2(relu(fc1(GAP(x))))), y = x · s; apply() returns y and the channel weights s [B, C].
 */
class SqueezeExcitation {
  constructor(readonly config: { reduction: number; useBias?: boolean; name: string }) {}

  apply(x: tf.SymbolicTensor): { out: tf.SymbolicTensor; weights: tf.SymbolicTensor } {
    const { reduction, useBias = true, name } = this.config;
    ${TS_ON}
    const c = x.shape[3] as number;
    const fc1 = tf.layers.dense({ units: Math.max(1, Math.floor(c / reduction)), activation: 'relu', useBias, name: \`\${name}_fc1\` });
    const fc2 = tf.layers.dense({ units: c, useBias, name: \`\${name}_fc2\` });
    const squeezed = on(tf.layers.globalAveragePooling2d({ name: \`\${name}_avgpool\` }), x);
    const weights = on(tf.layers.activation({ activation: 'sigmoid', name: \`\${name}_sigmoid\` }), on(fc2, on(fc1, squeezed)));
    const wide = on(tf.layers.reshape({ targetShape: [1, 1, c], name: \`\${name}_expand\` }), weights);
    return { out: on(tf.layers.multiply({ name: \`\${name}_scale\` }), [x, wide]), weights };
  }
}
`,
);

const TS_CHANNEL_ATTENTION = helper(
  'ChannelAttention',
  `
/**
 * CBAM's channel attention module.
 * Woo, Park, Lee & Kweon (2018). CBAM: Convolutional Block Attention Module.
 * M_c = σ(MLP(AvgPool(x)) + MLP(MaxPool(x))) with one shared MLP, y = M_c ⊙ x; apply() returns y and M_c [B, C].
 */
class ChannelAttention {
  constructor(readonly config: { reduction: number; useBias?: boolean; name: string }) {}

  apply(x: tf.SymbolicTensor): { out: tf.SymbolicTensor; weights: tf.SymbolicTensor } {
    const { reduction, useBias = true, name } = this.config;
    ${TS_ON}
    const c = x.shape[3] as number;
    const fc1 = tf.layers.dense({ units: Math.max(1, Math.floor(c / reduction)), activation: 'relu', useBias, name: \`\${name}_fc1\` });
    const fc2 = tf.layers.dense({ units: c, useBias, name: \`\${name}_fc2\` });
    const mlp = (d: tf.SymbolicTensor) => on(fc2, on(fc1, d));
    const fromAvg = mlp(on(tf.layers.globalAveragePooling2d({ name: \`\${name}_avgpool\` }), x));
    const fromMax = mlp(on(tf.layers.globalMaxPooling2d({ name: \`\${name}_maxpool\` }), x));
    const logits = on(tf.layers.add({ name: \`\${name}_sum\` }), [fromAvg, fromMax]);
    const weights = on(tf.layers.activation({ activation: 'sigmoid', name: \`\${name}_sigmoid\` }), logits);
    const wide = on(tf.layers.reshape({ targetShape: [1, 1, c], name: \`\${name}_expand\` }), weights);
    return { out: on(tf.layers.multiply({ name: \`\${name}_scale\` }), [x, wide]), weights };
  }
}
`,
);

const TS_SPATIAL_ATTENTION = helper(
  'SpatialAttention',
  `
/**
 * CBAM's spatial attention module.
 * Woo, Park, Lee & Kweon (2018). CBAM: Convolutional Block Attention Module.
 * M_s = σ(BN(conv_k×k([mean_c(x); max_c(x)]))), y = M_s ⊙ x; apply() returns y and M_s [B, H, W].
 */
class SpatialAttention {
  constructor(readonly config: { kernelSize?: number; batchNorm?: boolean; bnMomentum?: number; name: string }) {}

  apply(x: tf.SymbolicTensor): { out: tf.SymbolicTensor; map: tf.SymbolicTensor } {
    // bnMomentum in PyTorch's sense (the weight of each new batch); tfjs's momentum is 1 - it.
    const { kernelSize = 7, batchNorm = true, bnMomentum = 0.1, name } = this.config;
    ${TS_ON}
    const [, h, w] = x.shape as number[];
    const pooled = on(new ChannelPool({ name: \`\${name}_pool\` }), x);
    let m = on(tf.layers.conv2d({ filters: 1, kernelSize, padding: 'same', useBias: false, name: \`\${name}_conv\` }), pooled);
    if (batchNorm) m = on(tf.layers.batchNormalization({ momentum: 1 - bnMomentum, epsilon: 1e-5, name: \`\${name}_bn\` }), m);
    m = on(tf.layers.activation({ activation: 'sigmoid', name: \`\${name}_sigmoid\` }), m);
    return {
      out: on(tf.layers.multiply({ name: \`\${name}_scale\` }), [x, m]),
      map: on(tf.layers.reshape({ targetShape: [h, w], name: \`\${name}_map\` }), m),
    };
  }
}
`,
);

const TS_CBAM = helper(
  'CBAM',
  `
/**
 * Convolutional Block Attention Module: channel attention, then spatial attention.
 * Woo, Park, Lee & Kweon (2018). CBAM: Convolutional Block Attention Module.
 * F′ = M_c(F) ⊙ F, F″ = M_s(F′) ⊙ F′; apply() returns F″, the channel weights [B, C] and the spatial map [B, H, W].
 */
class CBAM {
  constructor(readonly config: { reduction: number; kernelSize?: number; useBias?: boolean; batchNorm?: boolean; bnMomentum?: number; name: string }) {}

  apply(x: tf.SymbolicTensor): { out: tf.SymbolicTensor; channelWeights: tf.SymbolicTensor; spatialMap: tf.SymbolicTensor } {
    const { reduction, kernelSize, useBias, batchNorm, bnMomentum, name } = this.config;
    const channel = new ChannelAttention({ reduction, useBias, name: \`\${name}_channel\` }).apply(x);
    const spatial = new SpatialAttention({ kernelSize, batchNorm, bnMomentum, name: \`\${name}_spatial\` }).apply(channel.out);
    return { out: spatial.out, channelWeights: channel.weights, spatialMap: spatial.map };
  }
}
`,
);

const TS_NON_LOCAL = helper(
  'NonLocalBlock',
  `
/**
 * Non-local block: self-attention over all positions of a feature map.
 * Wang, Girshick, Gupta & He (2018). Non-local Neural Networks.
 * y_i = Σ_j f(θ_i, φ_j) g_j / C(x), z = BN(W_z y) + x, with 1×1 convolutions θ, φ, g to ⌊C/2⌋ channels;
 * subsampling max-pools φ and g 2×2; BN's γ starts at 0. apply() returns z and the affinity [B, HW, N′].
 */
class NonLocalBlock {
  constructor(readonly config: { pairwise: 'embeddedGaussian' | 'dotProduct' | 'concatenation'; subsample: boolean; name: string }) {}

  apply(x: tf.SymbolicTensor): { out: tf.SymbolicTensor; affinity: tf.SymbolicTensor } {
    const { pairwise, subsample, name } = this.config;
    ${TS_ON}
    const [, h, w, c] = x.shape as number[];
    const inner = Math.max(1, Math.floor(c / 2));
    const conv1x1 = (filters: number, suffix: string, input: tf.SymbolicTensor) =>
      on(tf.layers.conv2d({ filters, kernelSize: 1, name: \`\${name}_\${suffix}\` }), input);
    const pool = (suffix: string, input: tf.SymbolicTensor) =>
      subsample ? on(tf.layers.maxPooling2d({ poolSize: 2, strides: 2, padding: 'valid', name: \`\${name}_\${suffix}_pool\` }), input) : input;

    const theta = conv1x1(inner, 'theta', x);
    const phi = pool('phi', conv1x1(inner, 'phi', x));
    const g = pool('g', conv1x1(inner, 'g', x));
    const affinity = on(new NonLocalAffinity({ pairwise, name: \`\${name}_affinity\` }), [theta, phi]);
    const keys = (g.shape[1] as number) * (g.shape[2] as number);
    const gFlat = on(tf.layers.reshape({ targetShape: [keys, inner], name: \`\${name}_g_flat\` }), g);
    const yFlat = on(new BatchMatMul({ name: \`\${name}_aggregate\` }), [affinity, gFlat]);
    const y = on(tf.layers.reshape({ targetShape: [h, w, inner], name: \`\${name}_y\` }), yFlat);
    const wz = on(${TS_BN}, gammaInitializer: 'zeros', name: \`\${name}_wz_bn\` }), conv1x1(c, 'wz', y));
    return { out: on(tf.layers.add({ name: \`\${name}_residual\` }), [wz, x]), affinity };
  }
}
`,
);

const TS_ATTENTION_BRANCH = helper(
  'AttentionBranch',
  `
/**
 * The attention branch of an Attention Branch Network.
 * Fukui, Hirakawa, Yamashita & Fujiyoshi (2019). Attention Branch Network: Learning of Attention Mechanism for Visual Explanation.
 * convLayers 3×3 conv–BN–ReLU layers, BN, a 1×1 conv to K class maps, BN, ReLU; then a 1×1 conv, global average
 * pooling and softmax give the class scores, and a conv K→1, BN and sigmoid the attention map M.
 * apply() returns (1 + M)·x, M [B, H, W] and the scores [B, K].
 */
class AttentionBranch {
  constructor(readonly config: { classes: number; convLayers?: number; mapKernel?: number; name: string }) {}

  apply(x: tf.SymbolicTensor): { out: tf.SymbolicTensor; map: tf.SymbolicTensor; scores: tf.SymbolicTensor } {
    const { classes, convLayers = 1, mapKernel = 1, name } = this.config;
    ${TS_ON}
    const [, h, w, c] = x.shape as number[];
    const conv = (filters: number, kernelSize: number, suffix: string, input: tf.SymbolicTensor) =>
      on(tf.layers.conv2d({ filters, kernelSize, padding: 'same', useBias: false, kernelInitializer: 'heNormal', name: \`\${name}_\${suffix}\` }), input);
    const bn = (suffix: string, input: tf.SymbolicTensor) => on(${TS_BN}, name: \`\${name}_\${suffix}\` }), input);
    const act = (activation: 'relu' | 'sigmoid' | 'softmax', suffix: string, input: tf.SymbolicTensor) =>
      on(tf.layers.activation({ activation, name: \`\${name}_\${suffix}\` }), input);

    let a = x;
    for (let i = 1; i <= convLayers; i++) a = act('relu', \`relu\${i}\`, bn(\`bn\${i}\`, conv(c, 3, \`conv\${i}\`, a)));
    a = bn('bn', a);
    a = act('relu', 'class_relu', bn('class_bn', conv(classes, 1, 'class_conv', a)));
    const pooled = on(tf.layers.globalAveragePooling2d({ name: \`\${name}_gap\` }), conv(classes, 1, 'score_conv', a));
    const scores = act('softmax', 'scores', pooled);
    const m = act('sigmoid', 'map_sigmoid', bn('map_bn', conv(1, mapKernel, 'map_conv', a)));
    const map = on(tf.layers.reshape({ targetShape: [h, w], name: \`\${name}_map\` }), m);
    const attended = on(tf.layers.multiply({ name: \`\${name}_attend\` }), [x, m]);
    return { out: on(tf.layers.add({ name: \`\${name}_out\` }), [x, attended]), map, scores };
  }
}
`,
);

const TS_HIGHWAY = helper(
  'HighwayGate',
  `
/**
 * A highway layer: y = H(x)·T(x) + x·(1 − T(x)), with T(x) = σ(W_T x + b_T).
 * Srivastava, Greff & Schmidhuber (2015). Training Very Deep Networks.
 * H and T act on the last axis (Dense layers; k×k convolutions on an image); b_T starts at gateBias.
 * apply() returns y and the gate T(x).
 */
class HighwayGate {
  constructor(readonly config: { activation?: 'relu' | 'tanh' | 'linear'; kernelSize?: number; gateBias?: number; name: string }) {}

  apply(x: tf.SymbolicTensor): { out: tf.SymbolicTensor; gate: tf.SymbolicTensor } {
    const { activation = 'relu', kernelSize = 1, gateBias = -2, name } = this.config;
    ${TS_ON}
    const c = x.shape[x.shape.length - 1] as number;
    const map = (suffix: string, fn: 'relu' | 'tanh' | 'linear' | 'sigmoid', bias?: number) => {
      const biasInitializer = bias === undefined ? undefined : tf.initializers.constant({ value: bias });
      const common = { activation: fn, biasInitializer, name: \`\${name}_\${suffix}\` };
      return on(x.shape.length === 4 ? tf.layers.conv2d({ filters: c, kernelSize, padding: 'same', ...common }) : tf.layers.dense({ units: c, ...common }), x);
    };
    const h = map('transform', activation);
    const gate = map('gate', 'sigmoid', gateBias);
    return { out: on(new GatedMix({ name: \`\${name}_mix\` }), [h, x, gate]), gate };
  }
}
`,
);

const TS_LEARNED_GATE = helper(
  'LearnedGate',
  `
/**
 * A learned gate: y = σ(W c + b) ⊙ x, where the context c decides how much of x passes.
 * Dauphin, Fan, Auli & Grangier (2017). Language Modeling with Gated Convolutional Networks.
 * per 'channel': c is averaged over its positions and a dense layer gives one weight per channel of x [B, C];
 * per 'position': a dense layer on c's channels gives one weight per position [B, H, W] or [B, T].
 * apply(x, context?) returns y and the gate; without a context x gates itself.
 */
class LearnedGate {
  constructor(readonly config: { per: 'channel' | 'position'; name: string }) {}

  apply(x: tf.SymbolicTensor, context: tf.SymbolicTensor = x): { out: tf.SymbolicTensor; gate: tf.SymbolicTensor } {
    const { per, name } = this.config;
    ${TS_ON}
    const dense = (units: number) => tf.layers.dense({ units, activation: 'sigmoid', name: \`\${name}_dense\` });
    if (per === 'channel') {
      const c = x.shape[x.shape.length - 1] as number;
      const pool =
        context.shape.length === 4 ? tf.layers.globalAveragePooling2d({ name: \`\${name}_pool\` }) : tf.layers.globalAveragePooling1d({ name: \`\${name}_pool\` });
      const gate = on(dense(c), context.shape.length === 2 ? context : on(pool, context));
      const ones = x.shape.slice(1, -1).map(() => 1);
      const wide = on(tf.layers.reshape({ targetShape: [...ones, c], name: \`\${name}_expand\` }), gate);
      return { out: on(tf.layers.multiply({ name: \`\${name}_scale\` }), [x, wide]), gate };
    }
    const weights = on(dense(1), context);
    return {
      out: on(tf.layers.multiply({ name: \`\${name}_scale\` }), [x, weights]),
      gate: on(tf.layers.reshape({ targetShape: x.shape.slice(1, -1) as number[], name: \`\${name}_map\` }), weights),
    };
  }
}
`,
);

export const TS_HELPERS = {
  squeezeExcitation: [TS_SQUEEZE_EXCITATION],
  channelAttention: [TS_CHANNEL_ATTENTION],
  spatialAttention: [TS_CHANNEL_POOL, TS_SPATIAL_ATTENTION],
  cbam: [TS_CHANNEL_ATTENTION, TS_CHANNEL_POOL, TS_SPATIAL_ATTENTION, TS_CBAM],
  nonLocal: [TS_NON_LOCAL_AFFINITY, TS_BATCH_MAT_MUL, TS_NON_LOCAL],
  attentionBranch: [TS_ATTENTION_BRANCH],
  highway: [TS_GATED_MIX, TS_HIGHWAY],
  learnedGate: [TS_LEARNED_GATE],
};
