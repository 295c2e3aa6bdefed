// Export code for the vision attention blocks: one documented helper per block
// for each target (a PyTorch nn.Module, a Keras layer, a tfjs block class made of
// the compiled model's own layers), and the weight maps from tfjs to PyTorch.
//
// tfjs: each block is a small class whose apply() creates the same standard
// layers, with the same names, as the block's builder (a single tfjs custom
// layer would scope its weights as `name/...`, and trained weights load by
// layer name). The few custom layers the builders use are emitted too, with the
// same class names, so a trained model.json deserialises.
import { torchHelper } from '../../emit/torch-helper.js';
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

const KERAS_BN = `layers.BatchNormalization(momentum=0.9, epsilon=1e-5`;

export const KERAS_SQUEEZE_EXCITATION = helper(
  'SqueezeExcitation',
  `
class SqueezeExcitation(keras.layers.Layer):
    """Squeeze-and-Excitation: channel attention from globally pooled features.

    Hu, Shen, Albanie, Sun & Wu (2018). Squeeze-and-Excitation Networks.
    s = sigmoid(fc2(relu(fc1(mean_hw(x))))), y = x * s. Returns y and the channel weights [B, C].
    """

    def __init__(self, reduction=16, use_bias=True, **kwargs):
        super().__init__(**kwargs)
        self.reduction = reduction
        self.use_bias = use_bias

    def build(self, input_shape):
        channels = input_shape[-1]
        hidden = max(1, channels // self.reduction)
        self.fc1 = layers.Dense(hidden, activation="relu", use_bias=self.use_bias, name=f"{self.name}_fc1")
        self.fc2 = layers.Dense(channels, use_bias=self.use_bias, name=f"{self.name}_fc2")
        self.fc1.build((None, channels))
        self.fc2.build((None, hidden))

    def call(self, x):
        s = ops.sigmoid(self.fc2(self.fc1(ops.mean(x, axis=(1, 2)))))
        return x * ops.reshape(s, (-1, 1, 1, s.shape[-1])), s

    def get_config(self):
        return {**super().get_config(), "reduction": self.reduction, "use_bias": self.use_bias}
`,
);

export const KERAS_CHANNEL_ATTENTION = helper(
  'ChannelAttention',
  `
class ChannelAttention(keras.layers.Layer):
    """CBAM's channel attention module.

    Woo, Park, Lee & Kweon (2018). CBAM: Convolutional Block Attention Module.
    M_c = sigmoid(MLP(avgpool(x)) + MLP(maxpool(x))) with one shared MLP, y = M_c * x.
    Returns y and the channel weights M_c [B, C].
    """

    def __init__(self, reduction=16, use_bias=True, **kwargs):
        super().__init__(**kwargs)
        self.reduction = reduction
        self.use_bias = use_bias

    def build(self, input_shape):
        channels = input_shape[-1]
        hidden = max(1, channels // self.reduction)
        self.fc1 = layers.Dense(hidden, activation="relu", use_bias=self.use_bias, name=f"{self.name}_fc1")
        self.fc2 = layers.Dense(channels, use_bias=self.use_bias, name=f"{self.name}_fc2")
        self.fc1.build((None, channels))
        self.fc2.build((None, hidden))

    def call(self, x):
        mlp = lambda v: self.fc2(self.fc1(v))
        weights = ops.sigmoid(mlp(ops.mean(x, axis=(1, 2))) + mlp(ops.max(x, axis=(1, 2))))
        return x * ops.reshape(weights, (-1, 1, 1, weights.shape[-1])), weights

    def get_config(self):
        return {**super().get_config(), "reduction": self.reduction, "use_bias": self.use_bias}
`,
);

export const KERAS_SPATIAL_ATTENTION = helper(
  'SpatialAttention',
  `
class SpatialAttention(keras.layers.Layer):
    """CBAM's spatial attention module.

    Woo, Park, Lee & Kweon (2018). CBAM: Convolutional Block Attention Module.
    M_s = sigmoid(BN(conv([mean_c(x); max_c(x)]))), y = M_s * x. Returns y and the spatial
    map M_s [B, H, W]. The pooled maps are stacked mean first, in the paper's order.
    """

    def __init__(self, kernel_size=7, batch_norm=True, **kwargs):
        super().__init__(**kwargs)
        self.kernel_size = kernel_size
        self.batch_norm = batch_norm

    def build(self, input_shape):
        pooled_shape = (*input_shape[:-1], 2)
        self.conv = layers.Conv2D(1, self.kernel_size, padding="same", use_bias=False, name=f"{self.name}_conv")
        self.conv.build(pooled_shape)
        self.bn = None
        if self.batch_norm:
            self.bn = ${KERAS_BN}, name=f"{self.name}_bn")
            self.bn.build((*input_shape[:-1], 1))

    def call(self, x, training=None):
        pooled = ops.concatenate([ops.mean(x, axis=-1, keepdims=True), ops.max(x, axis=-1, keepdims=True)], axis=-1)
        m = self.conv(pooled)
        if self.bn is not None:
            m = self.bn(m, training=training)
        m = ops.sigmoid(m)
        return x * m, ops.squeeze(m, axis=-1)

    def get_config(self):
        return {**super().get_config(), "kernel_size": self.kernel_size, "batch_norm": self.batch_norm}
`,
);

export const KERAS_CBAM = helper(
  'CBAM',
  `
class CBAM(keras.layers.Layer):
    """Convolutional Block Attention Module: channel attention, then spatial attention.

    Woo, Park, Lee & Kweon (2018). CBAM: Convolutional Block Attention Module.
    F' = M_c(F) * F, F'' = M_s(F') * F'. Returns F'', the channel weights [B, C] and the
    spatial map [B, H, W].
    """

    def __init__(self, reduction=16, kernel_size=7, use_bias=True, batch_norm=True, **kwargs):
        super().__init__(**kwargs)
        self.reduction = reduction
        self.kernel_size = kernel_size
        self.use_bias = use_bias
        self.batch_norm = batch_norm

    def build(self, input_shape):
        self.channel = ChannelAttention(self.reduction, self.use_bias, name=f"{self.name}_channel")
        self.spatial = SpatialAttention(self.kernel_size, self.batch_norm, name=f"{self.name}_spatial")
        self.channel.build(input_shape)
        self.spatial.build(input_shape)

    def call(self, x, training=None):
        x, channel_weights = self.channel(x)
        x, spatial_map = self.spatial(x, training=training)
        return x, channel_weights, spatial_map

    def get_config(self):
        return {
            **super().get_config(),
            "reduction": self.reduction,
            "kernel_size": self.kernel_size,
            "use_bias": self.use_bias,
            "batch_norm": self.batch_norm,
        }
`,
);

export const KERAS_NON_LOCAL = helper(
  'NonLocalBlock',
  `
class NonLocalBlock(keras.layers.Layer):
    """Non-local block: self-attention over all positions of a feature map.

    Wang, Girshick, Gupta & He (2018). Non-local Neural Networks.
    y_i = sum_j f(theta_i, phi_j) g_j / C(x), z = BN(W_z y) + x, with 1x1 convolutions theta,
    phi, g to max(1, C // 2) channels. pairwise is "embedded_gaussian" (softmax over j),
    "dot_product" (divided by N') or "concatenation" (ReLU(w_f^T [theta_i; phi_j]) / N');
    subsample max-pools phi and g 2x2. BN's gamma starts at zero (the block starts as the
    identity). Returns z and the affinity [B, HW, N'].
    """

    def __init__(self, pairwise="embedded_gaussian", subsample=True, **kwargs):
        super().__init__(**kwargs)
        self.pairwise = pairwise
        self.subsample = subsample

    def build(self, input_shape):
        channels = input_shape[-1]
        self.inner = max(1, channels // 2)
        inner_shape = (*input_shape[:-1], self.inner)
        conv = lambda filters, suffix: layers.Conv2D(filters, 1, name=f"{self.name}_{suffix}")
        self.theta, self.phi, self.g = conv(self.inner, "theta"), conv(self.inner, "phi"), conv(self.inner, "g")
        for layer in (self.theta, self.phi, self.g):
            layer.build(input_shape)
        self.phi_pool = layers.MaxPooling2D(2, name=f"{self.name}_phi_pool")
        self.g_pool = layers.MaxPooling2D(2, name=f"{self.name}_g_pool")
        self.wz = conv(channels, "wz")
        self.wz.build(inner_shape)
        self.bn = ${KERAS_BN}, gamma_initializer="zeros", name=f"{self.name}_wz_bn")
        self.bn.build(input_shape)
        if self.pairwise == "concatenation":
            self.w_f = self.add_weight(shape=(2 * self.inner, 1), initializer="glorot_uniform", name="kernel")

    def call(self, x, training=None):
        _, h, w, _ = x.shape
        theta = ops.reshape(self.theta(x), (-1, h * w, self.inner))
        phi, g = self.phi(x), self.g(x)
        if self.subsample:
            phi, g = self.phi_pool(phi), self.g_pool(g)
        keys = phi.shape[1] * phi.shape[2]
        phi = ops.reshape(phi, (-1, keys, self.inner))
        g = ops.reshape(g, (-1, keys, self.inner))
        if self.pairwise == "embedded_gaussian":
            affinity = ops.softmax(ops.matmul(theta, ops.transpose(phi, (0, 2, 1))), axis=-1)
        elif self.pairwise == "dot_product":
            affinity = ops.matmul(theta, ops.transpose(phi, (0, 2, 1))) / keys
        else:
            from_theta = ops.matmul(theta, self.w_f[: self.inner])  # [B, HW, 1]
            from_phi = ops.transpose(ops.matmul(phi, self.w_f[self.inner :]), (0, 2, 1))  # [B, 1, N']
            affinity = ops.relu(from_theta + from_phi) / keys
        y = ops.reshape(ops.matmul(affinity, g), (-1, h, w, self.inner))
        return self.bn(self.wz(y), training=training) + x, affinity

    def get_config(self):
        return {**super().get_config(), "pairwise": self.pairwise, "subsample": self.subsample}
`,
);

export const KERAS_ATTENTION_BRANCH = helper(
  'AttentionBranch',
  `
class AttentionBranch(keras.layers.Layer):
    """The attention branch of an Attention Branch Network.

    Fukui, Hirakawa, Yamashita & Fujiyoshi (2019). Attention Branch Network: Learning of
    Attention Mechanism for Visual Explanation.
    conv_layers 3x3 conv-BN-ReLU layers, BN, a 1x1 conv to K class maps, BN, ReLU; then a 1x1
    conv, global average pooling and softmax give the class scores, and a conv K -> 1, BN and
    sigmoid give the attention map M. Returns (1 + M) * x, M [B, H, W] and the scores [B, K].
    """

    def __init__(self, classes, conv_layers=1, map_kernel=1, **kwargs):
        super().__init__(**kwargs)
        self.classes = classes
        self.conv_layers = conv_layers
        self.map_kernel = map_kernel

    def build(self, input_shape):
        channels = input_shape[-1]
        shape = lambda c: (*input_shape[:-1], c)
        conv = lambda filters, kernel, suffix: layers.Conv2D(
            filters, kernel, padding="same", use_bias=False, kernel_initializer="he_normal", name=f"{self.name}_{suffix}"
        )
        bn = lambda suffix: ${KERAS_BN}, name=f"{self.name}_{suffix}")
        self.convs = [conv(channels, 3, f"conv{i}") for i in range(1, self.conv_layers + 1)]
        self.bns = [bn(f"bn{i}") for i in range(1, self.conv_layers + 1)]
        self.bn = bn("bn")
        self.class_conv = conv(self.classes, 1, "class_conv")
        self.class_bn = bn("class_bn")
        self.score_conv = conv(self.classes, 1, "score_conv")
        self.map_conv = conv(1, self.map_kernel, "map_conv")
        self.map_bn = bn("map_bn")
        for layer in (*self.convs, *self.bns, self.bn, self.class_conv):
            layer.build(shape(channels))
        for layer in (self.class_bn, self.score_conv, self.map_conv):
            layer.build(shape(self.classes))
        self.map_bn.build(shape(1))

    def call(self, x, training=None):
        a = x
        for conv, bn in zip(self.convs, self.bns):
            a = ops.relu(bn(conv(a), training=training))
        a = self.bn(a, training=training)
        a = ops.relu(self.class_bn(self.class_conv(a), training=training))
        scores = ops.softmax(ops.mean(self.score_conv(a), axis=(1, 2)), axis=-1)
        m = ops.sigmoid(self.map_bn(self.map_conv(a), training=training))
        return x + x * m, ops.squeeze(m, axis=-1), scores

    def get_config(self):
        return {**super().get_config(), "classes": self.classes, "conv_layers": self.conv_layers, "map_kernel": self.map_kernel}
`,
);

export const KERAS_HIGHWAY = helper(
  'HighwayGate',
  `
class HighwayGate(keras.layers.Layer):
    """A highway layer: y = H(x) * T(x) + x * (1 - T(x)), with T(x) = sigmoid(W_T x + b_T).

    Srivastava, Greff & Schmidhuber (2015). Training Very Deep Networks.
    H and T act on the last axis: Dense layers, or k x k convolutions on an image when
    kernel_size is given. b_T starts at gate_bias. Returns y and the gate T(x).
    """

    def __init__(self, activation="relu", kernel_size=None, gate_bias=-2.0, **kwargs):
        super().__init__(**kwargs)
        self.activation = activation
        self.kernel_size = kernel_size
        self.gate_bias = gate_bias

    def build(self, input_shape):
        channels = input_shape[-1]

        def make(activation, suffix, **extra):
            if self.kernel_size is None:
                return layers.Dense(channels, activation=activation, name=f"{self.name}_{suffix}", **extra)
            return layers.Conv2D(channels, self.kernel_size, padding="same", activation=activation, name=f"{self.name}_{suffix}", **extra)

        self.transform = make(self.activation, "transform")
        self.gate = make("sigmoid", "gate", bias_initializer=keras.initializers.Constant(self.gate_bias))
        self.transform.build(input_shape)
        self.gate.build(input_shape)

    def call(self, x):
        h = self.transform(x)
        t = self.gate(x)
        return x + t * (h - x), t

    def get_config(self):
        return {**super().get_config(), "activation": self.activation, "kernel_size": self.kernel_size, "gate_bias": self.gate_bias}
`,
);

export const KERAS_LEARNED_GATE = helper(
  'LearnedGate',
  `
class LearnedGate(keras.layers.Layer):
    """A learned gate: y = sigmoid(W c + b) * x, where the context c decides how much of x passes.

    Dauphin, Fan, Auli & Grangier (2017). Language Modeling with Gated Convolutional Networks.
    per="channel": c is averaged over its positions and a Dense layer gives one weight per
    channel of x, [B, C]. per="position": a Dense layer on c's channels gives one weight per
    position of x, [B, H, W] or [B, T]. Call with [x] or [x, context]; without a context x
    gates itself.
    """

    def __init__(self, per="channel", **kwargs):
        super().__init__(**kwargs)
        self.per = per

    def build(self, input_shape):
        x_shape, context_shape = input_shape[0], input_shape[-1]
        units = x_shape[-1] if self.per == "channel" else 1
        self.dense = layers.Dense(units, activation="sigmoid", name=f"{self.name}_dense")
        self.dense.build((None, context_shape[-1]))

    def call(self, inputs):
        x, context = inputs[0], inputs[-1]
        if self.per == "channel":
            if len(context.shape) > 2:
                context = ops.mean(context, axis=tuple(range(1, len(context.shape) - 1)))
            gate = self.dense(context)  # [B, C]
            scale = ops.reshape(gate, (-1, *([1] * (len(x.shape) - 2)), x.shape[-1]))
            return x * scale, gate
        weights = self.dense(context)  # [B, ..., 1]
        return x * weights, ops.squeeze(weights, axis=-1)

    def get_config(self):
        return {**super().get_config(), "per": self.per}
`,
);

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
  constructor(readonly config: { kernelSize?: number; batchNorm?: boolean; name: string }) {}

  apply(x: tf.SymbolicTensor): { out: tf.SymbolicTensor; map: tf.SymbolicTensor } {
    const { kernelSize = 7, batchNorm = true, name } = this.config;
    ${TS_ON}
    const [, h, w] = x.shape as number[];
    const pooled = on(new ChannelPool({ name: \`\${name}_pool\` }), x);
    let m = on(tf.layers.conv2d({ filters: 1, kernelSize, padding: 'same', useBias: false, name: \`\${name}_conv\` }), pooled);
    if (batchNorm) m = on(${TS_BN}, name: \`\${name}_bn\` }), m);
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
  constructor(readonly config: { reduction: number; kernelSize?: number; useBias?: boolean; batchNorm?: boolean; name: string }) {}

  apply(x: tf.SymbolicTensor): { out: tf.SymbolicTensor; channelWeights: tf.SymbolicTensor; spatialMap: tf.SymbolicTensor } {
    const { reduction, kernelSize, useBias, batchNorm, name } = this.config;
    const channel = new ChannelAttention({ reduction, useBias, name: \`\${name}_channel\` }).apply(x);
    const spatial = new SpatialAttention({ kernelSize, batchNorm, name: \`\${name}_spatial\` }).apply(channel.out);
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
