// Export code for the structured attention blocks (residual attention module,
// Attend and Rectify with its global gate, local self-attention 2D, attention-
// augmented convolution): one documented helper per block for each target, and
// the weight maps from the tfjs model to the PyTorch modules.
//
// tfjs: each block is a small class whose apply() creates the same layers, with
// the same names, as the block's builder, so trained weights load by name; the
// custom layers the builders use are emitted with the same class names, so a
// trained model.json deserialises. PyTorch reproduces tfjs's semantics where
// they differ from the stock modules (TensorFlow "same" padding).
import { kerasHelper, torchHelper } from '../../emit/torch-helper.js';
import type { CodeHelper, TorchWeight } from '../../contract.js';
import { batchNormWeights, convWeights } from '../vision-ops/emit.js';

const helper = (name: string, code: string): CodeHelper => ({ name, code: code.trim() });

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
// tfjs (TypeScript)

/** Applies a layer to symbolic tensors (the one cast the functional API needs). */
const TS_ON = `const on = (layer: tf.layers.Layer, input: tf.SymbolicTensor | tf.SymbolicTensor[]) => layer.apply(input) as tf.SymbolicTensor;`;

const TS_RESIZE_2D = helper(
  'Resize2d',
  `
/**
 * Resizes an NHWC tensor to a fixed height and width: bilinear with aligned corners (as Caffe's Interp layer),
 * or nearest (floor(i · in / out)). Unlike tf.layers.upSampling2d it reaches any size.
 */
class Resize2d extends tf.layers.Layer {
  static className = 'Resize2d';
  readonly height: number;
  readonly width: number;
  readonly method: 'bilinear' | 'nearest';
  constructor(args: { height: number; width: number; method: 'bilinear' | 'nearest'; name?: string }) {
    super(args);
    this.height = args.height;
    this.width = args.width;
    this.method = args.method;
  }
  override computeOutputShape(s: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = s as tf.Shape;
    return [shape[0], this.height, this.width, shape[3]];
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
    const size: [number, number] = [this.height, this.width];
    return this.method === 'bilinear' ? tf.image.resizeBilinear(x, size, true) : tf.image.resizeNearestNeighbor(x, size, false);
  }
  override getConfig() {
    return { ...super.getConfig(), height: this.height, width: this.width, method: this.method };
  }
}
tf.serialization.registerClass(Resize2d);
`,
);

const TS_AXIS_MEAN = helper(
  'AxisMean',
  `
/** The mean over one axis, dropped from the shape (e.g. a [B, H, W, C] mask to a [B, H, W] map). */
class AxisMean extends tf.layers.Layer {
  static className = 'AxisMean';
  readonly axis: number;
  constructor(args: { axis: number; name?: string }) {
    super(args);
    this.axis = args.axis;
  }
  override computeOutputShape(s: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = s as tf.Shape;
    const a = this.axis < 0 ? shape.length + this.axis : this.axis;
    return shape.filter((_, i) => i !== a);
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    return tf.mean(x, this.axis < 0 ? x.rank + this.axis : this.axis);
  }
  override getConfig() {
    return { ...super.getConfig(), axis: this.axis };
  }
}
tf.serialization.registerClass(AxisMean);
`,
);

const TS_RESIDUAL_ATTENTION = helper(
  'ResidualAttention',
  `
/**
 * The attention module of the Residual Attention Network.
 * Wang, Jiang, Qian, Yang, Li, Zhang, Wang & Tang (2017). Residual Attention Network for Image Classification.
 * p pre-processing units; a trunk of t units; a soft-mask hourglass (levels × a 3×3 stride-2 max-pool and r units, with
 * skip connections, then upsampling back up, BN-ReLU-conv1×1 twice and a sigmoid); out = post((1 + M)·T).
 * apply() returns the output, the mask M [B, H, W, C] and its mean over channels [B, H, W].
 */
class ResidualAttention {
  constructor(readonly config: { p?: number; t?: number; r?: number; levels?: number; upsample?: 'bilinear' | 'nearest'; name: string }) {}

  /**
   * A pre-activation bottleneck residual unit (He et al. 2016, "Identity Mappings in Deep Residual Networks"):
   * x + conv1×1(BN-ReLU(conv3×3(BN-ReLU(conv1×1(BN-ReLU(x)))))), width C/4, no biases.
   */
  static bottleneck(x: tf.SymbolicTensor, name: string): tf.SymbolicTensor {
    ${TS_ON}
    const channels = x.shape[3] as number;
    let y = x;
    ([[channels / 4, 1], [channels / 4, 3], [channels, 1]] as const).forEach(([filters, kernelSize], i) => {
      y = on(tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5, name: \`\${name}_bn\${i + 1}\` }), y);
      y = on(tf.layers.reLU({ name: \`\${name}_relu\${i + 1}\` }), y);
      y = on(tf.layers.conv2d({ filters, kernelSize, padding: 'same', useBias: false, kernelInitializer: 'heNormal', name: \`\${name}_conv\${i + 1}\` }), y);
    });
    return on(tf.layers.add({ name: \`\${name}_add\` }), [x, y]);
  }

  static bottlenecks(x: tf.SymbolicTensor, count: number, prefix: string): tf.SymbolicTensor {
    for (let i = 1; i <= count; i++) x = ResidualAttention.bottleneck(x, \`\${prefix}\${i}\`);
    return x;
  }

  apply(input: tf.SymbolicTensor): { out: tf.SymbolicTensor; mask: tf.SymbolicTensor; maskMean: tf.SymbolicTensor } {
    const { p = 1, t = 2, r = 1, levels = 2, upsample = 'bilinear', name } = this.config;
    ${TS_ON}
    const units = ResidualAttention.bottlenecks;
    const upTo = (x: tf.SymbolicTensor, like: tf.SymbolicTensor, suffix: string) =>
      on(new Resize2d({ height: like.shape[1] as number, width: like.shape[2] as number, method: upsample, name: \`\${name}_\${suffix}\` }), x);

    const x = units(input, p, \`\${name}_pre\`);
    const trunk = units(x, t, \`\${name}_trunk\`);
    // Soft-mask branch: bottom-up with skip connections, then top-down.
    let m = x;
    const skips: tf.SymbolicTensor[] = [];
    for (let level = 1; level <= levels; level++) {
      m = on(tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same', name: \`\${name}_mask_pool\${level}\` }), m);
      m = units(m, r, \`\${name}_mask_down\${level}_\`);
      if (level < levels) skips.push(ResidualAttention.bottleneck(m, \`\${name}_mask_skip\${level}\`));
    }
    m = units(m, r, \`\${name}_mask_bottom\`);
    for (let level = levels - 1; level >= 1; level--) {
      const skip = skips[level - 1];
      m = on(tf.layers.add({ name: \`\${name}_mask_merge\${level}\` }), [upTo(m, skip, \`mask_up\${level + 1}\`), skip]);
      m = units(m, r, \`\${name}_mask_up\${level}_\`);
    }
    m = upTo(m, trunk, 'mask_up1');
    for (const k of [1, 2]) {
      m = on(tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5, name: \`\${name}_mask_bn\${k}\` }), m);
      m = on(tf.layers.reLU({ name: \`\${name}_mask_relu\${k}\` }), m);
      m = on(tf.layers.conv2d({ filters: input.shape[3] as number, kernelSize: 1, useBias: false, kernelInitializer: 'heNormal', name: \`\${name}_mask_conv\${k}\` }), m);
    }
    const mask = on(tf.layers.activation({ activation: 'sigmoid', name: \`\${name}_mask\` }), m);
    // (1 + M) · T = T + M · T
    const gated = on(tf.layers.multiply({ name: \`\${name}_gate\` }), [mask, trunk]);
    const merged = on(tf.layers.add({ name: \`\${name}_merge\` }), [trunk, gated]);
    const out = units(merged, p, \`\${name}_post\`);
    return { out, mask, maskMean: on(new AxisMean({ axis: -1, name: \`\${name}_mask_mean\` }), mask) };
  }
}
`,
);

const TS_ATTEND_RECTIFY_LAYER = helper(
  'AttendRectify',
  `
/**
 * From the attention-head logits A [B,H,W,K], output heads O [B,H,W,K·classes] and gate scores S [B,H,W,K]:
 * maps H_k = softmax over positions of A_k, hypotheses o_k = Σ_xy H_k O_k, gates g = softmax_k(tanh(Σ_xy S_k H_k)),
 * and the layer's hypothesis Σ_k g_k o_k. Outputs [hypothesis, maps [B, H, W, K], gates [B, K]].
 */
class AttendRectify extends tf.layers.Layer {
  static className = 'AttendRectify';
  readonly heads: number;
  readonly classes: number;
  constructor(args: { heads: number; classes: number; name?: string }) {
    super(args);
    this.heads = args.heads;
    this.classes = args.classes;
  }
  override computeOutputShape(s: tf.Shape | tf.Shape[]): tf.Shape[] {
    const [b, h, w] = (s as tf.Shape[])[0];
    return [[b, this.classes], [b, h, w, this.heads], [b, this.heads]];
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
    const [a, o, s] = inputs as tf.Tensor[];
    return tf.tidy(() => {
      const [b, h, w] = a.shape as number[];
      const n = h * w;
      const maps = tf.softmax(tf.transpose(tf.reshape(a, [b, n, this.heads]), [0, 2, 1])); // [B, K, HW]
      const outs = tf.transpose(tf.reshape(o, [b, n, this.heads, this.classes]), [0, 2, 1, 3]); // [B, K, HW, classes]
      const hypotheses = tf.squeeze(tf.matMul(tf.expandDims(maps, 2), outs), [2]); // [B, K, classes]
      const scores = tf.sum(tf.mul(maps, tf.transpose(tf.reshape(s, [b, n, this.heads]), [0, 2, 1])), -1); // [B, K]
      const gates = tf.softmax(tf.tanh(scores));
      const hypothesis = tf.squeeze(tf.matMul(tf.expandDims(gates, 1), hypotheses), [1]);
      return [hypothesis, tf.reshape(tf.transpose(maps, [0, 2, 1]), [b, h, w, this.heads]), gates];
    });
  }
  override getConfig() {
    return { ...super.getConfig(), heads: this.heads, classes: this.classes };
  }
}
tf.serialization.registerClass(AttendRectify);
`,
);

const TS_ATTEND_RECTIFY = helper(
  'AttendRectifyModule',
  `
/**
 * An attention module of Attend and Rectify.
 * Rodríguez, Gonfaus, Cucurull, Roca & Gonzàlez (2018). Attend and Rectify: a Gated Attention Mechanism for Fine-Grained Recovery.
 * K attention heads, K output heads and K gate scores (convolutions without bias) combined by the AttendRectify layer;
 * apply() returns the hypothesis (logits) [B, classes], the maps [B, H, W, K] and the gates [B, K].
 */
class AttendRectifyModule {
  constructor(readonly config: { heads: number; classes: number; kernelSize?: number; name: string }) {}

  apply(z: tf.SymbolicTensor): { out: tf.SymbolicTensor; maps: tf.SymbolicTensor; gates: tf.SymbolicTensor } {
    const { heads, classes, kernelSize = 1, name } = this.config;
    ${TS_ON}
    const conv = (filters: number, suffix: string) =>
      on(tf.layers.conv2d({ filters, kernelSize, padding: 'same', useBias: false, kernelInitializer: 'heNormal', name: \`\${name}_\${suffix}\` }), z);
    const combine = new AttendRectify({ heads, classes, name: \`\${name}_combine\` });
    const [out, maps, gates] = combine.apply([conv(heads, 'attention'), conv(heads * classes, 'outputs'), conv(heads, 'gate_scores')]) as tf.SymbolicTensor[];
    return { out, maps, gates };
  }
}
`,
);

const TS_GLOBAL_GATE_MIX = helper(
  'GlobalGateMix',
  `
/** Mixes the class distributions with gates softmax(tanh(gate logits)): [gateLogits, net, hyp1…hypN] → [probs, gates]. */
class GlobalGateMix extends tf.layers.Layer {
  static className = 'GlobalGateMix';
  readonly netIsLogits: boolean;
  constructor(args: { netIsLogits: boolean; name?: string }) {
    super(args);
    this.netIsLogits = args.netIsLogits;
  }
  override computeOutputShape(s: tf.Shape | tf.Shape[]): tf.Shape[] {
    const shapes = s as tf.Shape[];
    return [shapes[1], shapes[0]];
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
    const [gateLogits, net, ...hyps] = inputs as tf.Tensor[];
    return tf.tidy(() => {
      const gates = tf.softmax(tf.tanh(gateLogits)); // [B, N+1]
      const probs = tf.stack([this.netIsLogits ? tf.softmax(net) : net, ...hyps.map((h) => tf.softmax(h))], 1) as tf.Tensor3D; // [B, N+1, classes]
      return [tf.squeeze(tf.matMul(tf.expandDims(gates, 1) as tf.Tensor3D, probs), [1]), gates];
    });
  }
  override getConfig() {
    return { ...super.getConfig(), netIsLogits: this.netIsLogits };
  }
}
tf.serialization.registerClass(GlobalGateMix);
`,
);

const TS_GLOBAL_GATE = helper(
  'GlobalGate',
  `
/**
 * The global attention gates of Attend and Rectify.
 * Rodríguez, Gonfaus, Cucurull, Roca & Gonzàlez (2018). Attend and Rectify: a Gated Attention Mechanism for Fine-Grained Recovery.
 * Gates g = softmax(tanh(W f)) from the features f (pooled if a feature map; the network output if none) weigh the
 * network's class distribution and softmax(o_l) of each hypothesis. apply() returns the mixture and the gates [B, N + 1].
 */
class GlobalGate {
  constructor(readonly config: { netIsLogits?: boolean; name: string }) {}

  apply(net: tf.SymbolicTensor, hypotheses: tf.SymbolicTensor[], features: tf.SymbolicTensor = net): { out: tf.SymbolicTensor; gates: tf.SymbolicTensor } {
    const { netIsLogits = false, name } = this.config;
    ${TS_ON}
    const f = features.shape.length === 4 ? on(tf.layers.globalAveragePooling2d({ name: \`\${name}_pool\` }), features) : features;
    const gateLogits = on(tf.layers.dense({ units: hypotheses.length + 1, useBias: false, name: \`\${name}_gates\` }), f);
    const [out, gates] = new GlobalGateMix({ netIsLogits, name: \`\${name}_mix\` }).apply([gateLogits, net, ...hypotheses]) as tf.SymbolicTensor[];
    return { out, gates };
  }
}
`,
);

const TS_LOCAL_SELF_ATTENTION_LAYER = helper(
  'LocalSelfAttention2d',
  `
/**
 * [q, k, v] (each [B, H, W, C]) → [y [B, H, W, C], weights [B, heads, H·W, k·k]]: each position attends to its k×k
 * window (neighbours off the image masked out) with logits q·k + q·r, r = concat(row embedding, column embedding)
 * split over the heads like the keys.
 */
class LocalSelfAttention2d extends tf.layers.Layer {
  static className = 'LocalSelfAttention2d';
  readonly kernel: number;
  readonly heads: number;
  private rows!: tf.LayerVariable;
  private cols!: tf.LayerVariable;
  constructor(args: { kernel: number; heads: number; name?: string }) {
    super(args);
    this.kernel = args.kernel;
    this.heads = args.heads;
  }
  override build(s: tf.Shape | tf.Shape[]) {
    const half = ((s as tf.Shape[])[0][3] as number) / 2;
    const initializer = tf.initializers.randomNormal({ mean: 0, stddev: 1 });
    this.rows = this.addWeight('row_embedding', [this.kernel, half], 'float32', initializer);
    this.cols = this.addWeight('col_embedding', [this.kernel, half], 'float32', initializer);
    this.built = true;
  }
  override computeOutputShape(s: tf.Shape | tf.Shape[]): tf.Shape[] {
    const shapes = s as tf.Shape[];
    const [b, h, w] = shapes[0];
    return [shapes[2], [b, this.heads, h === null || w === null ? null : h * w, this.kernel * this.kernel]];
  }
  /** Each position's window, row-major: neighbour indices (off the edge: the position itself) and a −1e9 mask for those off the edge. */
  static windows(h: number, w: number, k: number): { index: Int32Array; mask: Float32Array } {
    const pad = (k - 1) / 2;
    const index = new Int32Array(h * w * k * k);
    const mask = new Float32Array(h * w * k * k);
    let e = 0;
    for (let i = 0; i < h; i++)
      for (let j = 0; j < w; j++)
        for (let a = 0; a < k; a++)
          for (let b = 0; b < k; b++, e++) {
            const [y, x] = [i + a - pad, j + b - pad];
            const inside = y >= 0 && y < h && x >= 0 && x < w;
            index[e] = inside ? y * w + x : i * w + j;
            mask[e] = inside ? 0 : -1e9;
          }
    return { index, mask };
  }
  /** Rows picked by index, with a scatter-add gradient (faster than tf.gather's on the cpu backend). */
  static gatherRows(x: tf.Tensor, index: Int32Array): tf.Tensor {
    const gather = tf.customGrad(((source: tf.Tensor) => ({
      value: tf.gather(source, index, 0),
      gradFunc: (dy: tf.Tensor) => tf.scatterND(tf.tensor2d(index, [index.length, 1], 'int32'), dy, source.shape),
    })) as unknown as Parameters<typeof tf.customGrad>[0]);
    return gather(x);
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
    const [q, k, v] = inputs as tf.Tensor[];
    return tf.tidy(() => {
      const [b, h, w, c] = q.shape as number[];
      const [n, kk, heads] = [h * w, this.kernel * this.kernel, this.heads];
      const dh = c / heads;
      const { index, mask } = LocalSelfAttention2d.windows(h, w, this.kernel);
      // [B·heads·HW, k·k, dh]: each query's window of keys or values.
      const windowOf = (t: tf.Tensor) => {
        const byPosition = tf.reshape(tf.transpose(tf.reshape(t, [b, n, c]), [1, 0, 2]), [n, b * c]);
        const picked = tf.reshape(LocalSelfAttention2d.gatherRows(byPosition, index), [n, kk, b, heads, dh]);
        return tf.reshape(tf.transpose(picked, [2, 3, 0, 1, 4]), [b * heads * n, kk, dh]) as tf.Tensor3D;
      };
      const queries = tf.transpose(tf.reshape(q, [b, n, heads, dh]), [0, 2, 1, 3]); // [B, heads, HW, dh]
      const content = tf.matMul(tf.reshape(queries, [b * heads * n, 1, dh]) as tf.Tensor3D, windowOf(k), false, true); // q·k
      const offsets = Array.from({ length: kk }, (_, e) => e);
      const rel = tf.concat(
        [tf.gather(this.rows.read(), offsets.map((e) => Math.floor(e / this.kernel))), tf.gather(this.cols.read(), offsets.map((e) => e % this.kernel))],
        1,
      ); // [k·k, C]: concat(row_a, col_b)
      const queriesByHead = tf.reshape(tf.transpose(tf.reshape(q, [b, n, heads, dh]), [2, 0, 1, 3]), [heads, b * n, dh]) as tf.Tensor3D;
      const relByHead = tf.transpose(tf.reshape(rel, [kk, heads, dh]), [1, 0, 2]) as tf.Tensor3D;
      const position = tf.transpose(tf.reshape(tf.matMul(queriesByHead, relByHead, false, true), [heads, b, n, kk]), [1, 0, 2, 3]); // q·r
      const edges = new Float32Array(b * heads * n * kk);
      for (let o = 0; o < edges.length; o += mask.length) edges.set(mask, o);
      const logits = tf.add(tf.add(tf.reshape(content, [b, heads, n, kk]), position), tf.tensor(edges, [b, heads, n, kk]));
      const weights = tf.softmax(logits); // [B, heads, HW, k·k]
      const y = tf.matMul(tf.reshape(weights, [b * heads * n, 1, kk]) as tf.Tensor3D, windowOf(v)); // [B·heads·HW, 1, dh]
      return [tf.reshape(tf.transpose(tf.reshape(y, [b, heads, n, dh]), [0, 2, 1, 3]), [b, h, w, c]), weights];
    });
  }
  override getConfig() {
    return { ...super.getConfig(), kernel: this.kernel, heads: this.heads };
  }
}
tf.serialization.registerClass(LocalSelfAttention2d);
`,
);

const TS_LOCAL_SELF_ATTENTION = helper(
  'StandAloneSelfAttention2d',
  `
/**
 * Stand-alone local self-attention over each position's k×k neighbourhood, a drop-in for a k×k convolution.
 * Ramachandran, Parmar, Vaswani, Bello, Levskaya & Shlens (2019). Stand-Alone Self-Attention in Vision Models.
 * q, k, v are bias-free 1×1 projections; apply() returns y [B, H, W, channels] and the weights [B, heads, H·W, k·k].
 */
class StandAloneSelfAttention2d {
  constructor(readonly config: { channels: number; heads: number; kernel: number; name: string }) {}

  apply(x: tf.SymbolicTensor): { out: tf.SymbolicTensor; attention: tf.SymbolicTensor } {
    const { channels, heads, kernel, name } = this.config;
    ${TS_ON}
    const project = (suffix: string) => on(tf.layers.conv2d({ filters: channels, kernelSize: 1, useBias: false, name: \`\${name}_\${suffix}\` }), x);
    const layer = new LocalSelfAttention2d({ kernel, heads, name: \`\${name}_attention\` });
    const [out, attention] = layer.apply([project('query'), project('key'), project('value')]) as tf.SymbolicTensor[];
    return { out, attention };
  }
}
`,
);

const TS_AUGMENTED_ATTENTION_LAYER = helper(
  'AugmentedAttention2d',
  `
/**
 * qkv [B, H, W, 2dk + dv] → [attention output [B, H, W, dv], weights [B, heads, H·W, H·W]]: queries scaled by
 * (dk/heads)^−½, logits qᵀk plus, when relative, qᵀ r^W_(y′−y) + qᵀ r^H_(x′−x) with embeddings shared by the heads.
 */
class AugmentedAttention2d extends tf.layers.Layer {
  static className = 'AugmentedAttention2d';
  readonly dk: number;
  readonly dv: number;
  readonly heads: number;
  readonly relative: boolean;
  private relW?: tf.LayerVariable;
  private relH?: tf.LayerVariable;
  constructor(args: { dk: number; dv: number; heads: number; relative: boolean; name?: string }) {
    super(args);
    this.dk = args.dk;
    this.dv = args.dv;
    this.heads = args.heads;
    this.relative = args.relative;
  }
  override build(s: tf.Shape | tf.Shape[]) {
    if (this.relative) {
      const [, h, w] = s as number[];
      const dkh = this.dk / this.heads;
      const initializer = tf.initializers.randomNormal({ mean: 0, stddev: dkh ** -0.5 });
      this.relW = this.addWeight('key_rel_w', [2 * w - 1, dkh], 'float32', initializer);
      this.relH = this.addWeight('key_rel_h', [2 * h - 1, dkh], 'float32', initializer);
    }
    this.built = true;
  }
  override computeOutputShape(s: tf.Shape | tf.Shape[]): tf.Shape[] {
    const [b, h, w] = s as tf.Shape;
    const n = h === null || w === null ? null : h * w;
    return [[b, h, w, this.dv], [b, this.heads, n, n]];
  }
  /**
   * q [B, heads, H, W, d] and a table [2n − 1, d] of offset embeddings → [B, heads, H, W, n] logits q_xy · r_(y′ − y)
   * (along 'w') or q_xy · r_(x′ − x) (along 'h').
   */
  static relativeLogits(q: tf.Tensor, table: tf.Tensor, along: 'w' | 'h'): tf.Tensor {
    const [b, heads, h, w, d] = q.shape as number[];
    const n = along === 'w' ? w : h;
    const index = Array.from({ length: n * n }, (_, e) => (e % n) - Math.floor(e / n) + n - 1);
    const r = tf.transpose(tf.reshape(tf.gather(table, index), [n, n, d]), [0, 2, 1]) as tf.Tensor3D; // [n (from), d, n (to)]
    const order = along === 'w' ? [3, 0, 1, 2, 4] : [2, 0, 1, 3, 4];
    const qs = tf.reshape(tf.transpose(q, order), [n, -1, d]) as tf.Tensor3D;
    const logits = tf.reshape(tf.matMul(qs, r), along === 'w' ? [w, b, heads, h, n] : [h, b, heads, w, n]);
    return tf.transpose(logits, along === 'w' ? [1, 2, 3, 0, 4] : [1, 2, 0, 3, 4]);
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
    const qkv = Array.isArray(inputs) ? inputs[0] : inputs;
    return tf.tidy(() => {
      const [b, h, w] = qkv.shape as number[];
      const n = h * w;
      const [dkh, dvh] = [this.dk / this.heads, this.dv / this.heads];
      const [q, k, v] = tf.split(qkv, [this.dk, this.dk, this.dv], 3);
      const split = (t: tf.Tensor, d: number) => tf.transpose(tf.reshape(t, [b, n, this.heads, d]), [0, 2, 1, 3]) as tf.Tensor4D; // [B, heads, HW, d]
      const queries = tf.mul(split(q, dkh), dkh ** -0.5) as tf.Tensor4D;
      let logits: tf.Tensor = tf.matMul(queries, split(k, dkh), false, true); // [B, heads, HW, HW]
      if (this.relW && this.relH) {
        const q5 = tf.reshape(queries, [b, this.heads, h, w, dkh]);
        const byW = tf.expandDims(AugmentedAttention2d.relativeLogits(q5, this.relW.read(), 'w'), 4); // [B, heads, H, W, 1, W]
        const byH = tf.expandDims(AugmentedAttention2d.relativeLogits(q5, this.relH.read(), 'h'), 5); // [B, heads, H, W, H, 1]
        logits = tf.reshape(tf.add(tf.reshape(logits, [b, this.heads, h, w, h, w]), tf.add(byW, byH)), [b, this.heads, n, n]);
      }
      const weights = tf.softmax(logits) as tf.Tensor4D;
      const out = tf.reshape(tf.transpose(tf.matMul(weights, split(v, dvh)), [0, 2, 1, 3]), [b, h, w, this.dv]);
      return [out, weights];
    });
  }
  override getConfig() {
    return { ...super.getConfig(), dk: this.dk, dv: this.dv, heads: this.heads, relative: this.relative };
  }
}
tf.serialization.registerClass(AugmentedAttention2d);
`,
);

const TS_AUGMENTED_CONV = helper(
  'AugmentedConv2d',
  `
/**
 * Attention-augmented convolution: a k×k convolution and multi-head self-attention over all positions, concatenated.
 * Bello, Zoph, Vaswani, Shlens & Le (2019). Attention Augmented Convolutional Networks.
 * apply() returns [conv(x); attention] [B, H, W, filters] and the weights [B, heads, H·W, H·W].
 */
class AugmentedConv2d {
  constructor(readonly config: { filters: number; kernelSize: number; dk: number; dv: number; heads: number; relative?: boolean; name: string }) {}

  apply(x: tf.SymbolicTensor): { out: tf.SymbolicTensor; attention: tf.SymbolicTensor } {
    const { filters, kernelSize, dk, dv, heads, relative = true, name } = this.config;
    ${TS_ON}
    const conv = (input: tf.SymbolicTensor, n: number, k: number, suffix: string) =>
      on(tf.layers.conv2d({ filters: n, kernelSize: k, padding: 'same', name: \`\${name}_\${suffix}\` }), input);
    const qkv = conv(x, 2 * dk + dv, 1, 'qkv');
    const [attended, attention] = new AugmentedAttention2d({ dk, dv, heads, relative, name: \`\${name}_attention\` }).apply(qkv) as tf.SymbolicTensor[];
    const attnOut = conv(attended, dv, 1, 'attn_out');
    const out = dv === filters ? attnOut : on(tf.layers.concatenate({ axis: -1, name: \`\${name}_concat\` }), [conv(x, filters - dv, kernelSize, 'conv'), attnOut]);
    return { out, attention };
  }
}
`,
);

export const TS_HELPERS = {
  residualAttention: [TS_RESIZE_2D, TS_AXIS_MEAN, TS_RESIDUAL_ATTENTION],
  attendRectify: [TS_ATTEND_RECTIFY_LAYER, TS_ATTEND_RECTIFY],
  globalGate: [TS_GLOBAL_GATE_MIX, TS_GLOBAL_GATE],
  localSelfAttention: [TS_LOCAL_SELF_ATTENTION_LAYER, TS_LOCAL_SELF_ATTENTION],
  augmentedConv: [TS_AUGMENTED_ATTENTION_LAYER, TS_AUGMENTED_CONV],
};
