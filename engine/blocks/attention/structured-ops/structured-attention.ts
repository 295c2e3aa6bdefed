// The structured attention blocks on tfjs (the Residual Attention Network's
// module, Attend and Rectify with its global gate, stand-alone local
// self-attention, attention-augmented convolution), in one implementation: the
// blocks' builders call these functions, and the TypeScript export copies them
// into the exported file, where the block's emitter writes only the call (see
// engine/blocks/tfjs-kit.ts). Layers are named `${name}_…` as the compiled
// model's, so trained weights load by name.
import type * as tf from '@tensorflow/tfjs';
import { apply, customLayer, type Init, type TF } from '../../tfjs-kit.js';
import { batchNorm } from '../vision-ops/vision-attention.js';

export type ResizeMethod = 'bilinear' | 'nearest';

/**
 * Resizes an NHWC tensor to a fixed height and width. Bilinear aligns the corners, like Caffe's Interp layer
 * and PyTorch's nn.UpsamplingBilinear2d; nearest picks floor(i · in / out), like PyTorch's mode="nearest".
 * Unlike tfjs's UpSampling2D it reaches any size, so odd sizes halved by pooling come back exactly.
 */
export const resize2dLayer = (tf: TF) =>
  customLayer(tf, 'Resize2d', (tf) => {
    class Resize2d extends tf.layers.Layer {
      static className = 'Resize2d';
      readonly height: number;
      readonly width: number;
      readonly method: ResizeMethod;
      constructor(args: { height: number; width: number; method: ResizeMethod; name?: string }) {
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
    return Resize2d;
  });

/** The mean over one axis, dropped from the shape (e.g. a [B, H, W, C] mask to a [B, H, W] map). */
export const axisMeanLayer = (tf: TF) =>
  customLayer(tf, 'AxisMean', (tf) => {
    class AxisMean extends tf.layers.Layer {
      static className = 'AxisMean';
      readonly axis: number;
      constructor(args: { axis: number; name?: string }) {
        super(args);
        this.axis = args.axis;
      }
      private resolved(rank: number) {
        return this.axis < 0 ? rank + this.axis : this.axis;
      }
      override computeOutputShape(s: tf.Shape | tf.Shape[]): tf.Shape {
        const shape = s as tf.Shape;
        const a = this.resolved(shape.length);
        return shape.filter((_, i) => i !== a);
      }
      override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
        const x = Array.isArray(inputs) ? inputs[0] : inputs;
        return tf.mean(x, this.resolved(x.rank));
      }
      override getConfig() {
        return { ...super.getConfig(), axis: this.axis };
      }
    }
    return AxisMean;
  });

/**
 * The pre-activation bottleneck residual unit (He et al. 2016, "Identity Mappings in Deep Residual Networks"):
 * x + conv1×1(BN-ReLU(conv3×3(BN-ReLU(conv1×1(BN-ReLU(x)))))), bottleneck width C/4, convolutions without
 * bias, as in the Residual Attention Network's reference code. Input and output have the same C channels.
 */
export function preActBottleneck(tf: TF, x: tf.SymbolicTensor, name: string, init?: Init): tf.SymbolicTensor {
  const channels = x.shape[3] as number;
  const widths = [channels / 4, channels / 4, channels];
  const kernels = [1, 3, 1];
  let y = x;
  widths.forEach((filters, i) => {
    y = apply(batchNorm(tf, `${name}_bn${i + 1}`), y);
    y = apply(tf.layers.reLU({ name: `${name}_relu${i + 1}` }), y);
    const kernelInitializer = init?.heNormal() ?? 'heNormal';
    y = apply(tf.layers.conv2d({ filters, kernelSize: kernels[i], padding: 'same', useBias: false, kernelInitializer, name: `${name}_conv${i + 1}` }), y);
  });
  return apply(tf.layers.add({ name: `${name}_add` }), [x, y]);
}

/** `count` residual units in a row, named `${prefix}1`, `${prefix}2`, … */
export function preActBottlenecks(tf: TF, x: tf.SymbolicTensor, count: number, prefix: string, init?: Init): tf.SymbolicTensor {
  for (let i = 1; i <= count; i++) x = preActBottleneck(tf, x, `${prefix}${i}`, init);
  return x;
}

/**
 * The attention module of the Residual Attention Network.
 * Wang, Jiang, Qian, Yang, Li, Zhang, Wang & Tang (2017). Residual Attention Network for Image Classification.
 * p pre-processing units; a trunk of t units; a soft-mask hourglass (levels × a 3×3 stride-2 max-pool and r units, with
 * skip connections, then upsampling back up, BN-ReLU-conv1×1 twice and a sigmoid); out = post((1 + M)·T).
 * Returns the output, the mask M [B, H, W, C] and its mean over channels [B, H, W].
 */
export function residualAttention(
  tf: TF,
  input: tf.SymbolicTensor,
  o: { p?: number; t?: number; r?: number; levels?: number; upsample?: ResizeMethod; name: string },
  init?: Init,
): { out: tf.SymbolicTensor; mask: tf.SymbolicTensor; maskMean: tf.SymbolicTensor } {
  const { p = 1, t = 2, r = 1, levels = 2, upsample = 'bilinear', name } = o;
  const units = (x: tf.SymbolicTensor, count: number, prefix: string) => preActBottlenecks(tf, x, count, prefix, init);
  const resize = resize2dLayer(tf);
  const upTo = (x: tf.SymbolicTensor, like: tf.SymbolicTensor, suffix: string) =>
    apply(new resize({ height: like.shape[1] as number, width: like.shape[2] as number, method: upsample, name: `${name}_${suffix}` }), x);

  const x = units(input, p, `${name}_pre`);
  const trunk = units(x, t, `${name}_trunk`);
  // Soft-mask branch: bottom-up with skip connections, then top-down.
  let m = x;
  const skips: tf.SymbolicTensor[] = [];
  for (let level = 1; level <= levels; level++) {
    m = apply(tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same', name: `${name}_mask_pool${level}` }), m);
    m = units(m, r, `${name}_mask_down${level}_`);
    if (level < levels) skips.push(preActBottleneck(tf, m, `${name}_mask_skip${level}`, init));
  }
  m = units(m, r, `${name}_mask_bottom`);
  for (let level = levels - 1; level >= 1; level--) {
    const skip = skips[level - 1];
    m = apply(tf.layers.add({ name: `${name}_mask_merge${level}` }), [upTo(m, skip, `mask_up${level + 1}`), skip]);
    m = units(m, r, `${name}_mask_up${level}_`);
  }
  m = upTo(m, trunk, 'mask_up1');
  for (const k of [1, 2]) {
    m = apply(batchNorm(tf, `${name}_mask_bn${k}`), m);
    m = apply(tf.layers.reLU({ name: `${name}_mask_relu${k}` }), m);
    const kernelInitializer = init?.heNormal() ?? 'heNormal';
    m = apply(tf.layers.conv2d({ filters: input.shape[3] as number, kernelSize: 1, useBias: false, kernelInitializer, name: `${name}_mask_conv${k}` }), m);
  }
  const mask = apply(tf.layers.activation({ activation: 'sigmoid', name: `${name}_mask` }), m);
  // (1 + M) · T = T + M · T
  const gated = apply(tf.layers.multiply({ name: `${name}_gate` }), [mask, trunk]);
  const merged = apply(tf.layers.add({ name: `${name}_merge` }), [trunk, gated]);
  const out = units(merged, p, `${name}_post`);
  return { out, mask, maskMean: apply(new (axisMeanLayer(tf))({ axis: -1, name: `${name}_mask_mean` }), mask) };
}

/**
 * From the attention-head logits A [B,H,W,K], output heads O [B,H,W,K·classes] and gate scores S [B,H,W,K]:
 * maps H_k = softmax over positions of A_k, hypotheses o_k = Σ_xy H_k O_k, gates g = softmax_k(tanh(Σ_xy S_k H_k)),
 * and the layer's hypothesis Σ_k g_k o_k. Outputs [hypothesis, maps [B, H, W, K], gates [B, K]].
 */
export const attendRectifyLayer = (tf: TF) =>
  customLayer(tf, 'AttendRectify', (tf) => {
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
        return [
          [b, this.classes],
          [b, h, w, this.heads],
          [b, this.heads],
        ];
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
    return AttendRectify;
  });

/**
 * An attention module of Attend and Rectify.
 * Rodríguez, Gonfaus, Cucurull, Roca & Gonzàlez (2018). Attend and Rectify: a Gated Attention Mechanism for Fine-Grained Recovery.
 * K attention heads, K output heads and K gate scores (convolutions without bias) combined by the AttendRectify layer;
 * returns the hypothesis (logits) [B, classes], the maps [B, H, W, K] and the gates [B, K].
 */
export function attendRectify(
  tf: TF,
  z: tf.SymbolicTensor,
  o: { heads: number; classes: number; kernelSize?: number; name: string },
  init?: Init,
): { out: tf.SymbolicTensor; maps: tf.SymbolicTensor; gates: tf.SymbolicTensor } {
  const { heads, classes, kernelSize = 1, name } = o;
  const conv = (filters: number, suffix: string) =>
    apply(
      tf.layers.conv2d({ filters, kernelSize, padding: 'same', useBias: false, kernelInitializer: init?.heNormal() ?? 'heNormal', name: `${name}_${suffix}` }),
      z,
    );
  const heads3 = [conv(heads, 'attention'), conv(heads * classes, 'outputs'), conv(heads, 'gate_scores')];
  const [out, maps, gates] = new (attendRectifyLayer(tf))({ heads, classes, name: `${name}_combine` }).apply(heads3) as tf.SymbolicTensor[];
  return { out, maps, gates };
}

/** Mixes the class distributions with gates softmax(tanh(gate logits)): [gateLogits, net, hyp1…hypN] → [probs, gates]. */
export const globalGateMixLayer = (tf: TF) =>
  customLayer(tf, 'GlobalGateMix', (tf) => {
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
    return GlobalGateMix;
  });

/**
 * The global attention gates of Attend and Rectify.
 * Rodríguez, Gonfaus, Cucurull, Roca & Gonzàlez (2018). Attend and Rectify: a Gated Attention Mechanism for Fine-Grained Recovery.
 * Gates g = softmax(tanh(W f)) from the features f (pooled if a feature map; the network output if none) weigh the
 * network's class distribution and softmax(o_l) of each hypothesis. Returns the mixture and the gates [B, N + 1].
 */
export function globalGate(
  tf: TF,
  net: tf.SymbolicTensor,
  hypotheses: tf.SymbolicTensor[],
  features: tf.SymbolicTensor | undefined,
  o: { netIsLogits?: boolean; name: string },
  init?: Init,
): { out: tf.SymbolicTensor; gates: tf.SymbolicTensor } {
  const { netIsLogits = false, name } = o;
  let f = features ?? net;
  if (f.shape.length === 4) f = apply(tf.layers.globalAveragePooling2d({ name: `${name}_pool` }), f);
  const gateLogits = apply(
    tf.layers.dense({ units: hypotheses.length + 1, useBias: false, kernelInitializer: init?.glorotUniform(), name: `${name}_gates` }),
    f,
  );
  const mix = new (globalGateMixLayer(tf))({ netIsLogits, name: `${name}_mix` });
  const [out, gates] = mix.apply([gateLogits, net, ...hypotheses]) as tf.SymbolicTensor[];
  return { out, gates };
}

/**
 * The k×k window of every position of an h×w map, row-major: `index` holds each neighbour's flat position
 * (a neighbour off the edge points at the position itself, any valid index would do) and `mask` 0 for neighbours
 * inside the image and −1e9 for those off the edge, so that they weigh exactly 0 after the softmax.
 */
export function windows(h: number, w: number, k: number): { index: Int32Array; mask: Float32Array } {
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

/**
 * Rows of a 2-D tensor picked by index, with a scatter-add gradient: tfjs's own gather gradient goes through
 * UnsortedSegmentSum, which the cpu backend computes with one full pass per row (minutes for a 16×16 map).
 */
export function gatherRows(tf: TF, x: tf.Tensor, index: Int32Array): tf.Tensor {
  const gather = tf.customGrad(((source: tf.Tensor) => ({
    value: tf.gather(source, index, 0),
    gradFunc: (dy: tf.Tensor) => tf.scatterND(tf.tensor2d(index, [index.length, 1], 'int32'), dy, source.shape),
  })) as unknown as Parameters<TF['customGrad']>[0]);
  return gather(x);
}

/**
 * [q, k, v] (each [B, H, W, C]) → [y [B, H, W, C], weights [B, heads, H·W, k·k]]. Holds the relative position
 * embeddings: rows [k, C/2] and columns [k, C/2]; the offset (a, b) is embedded as concat(row_a, col_b) and
 * split over the heads like the keys.
 */
export const localSelfAttentionLayer = (tf: TF) =>
  customLayer(tf, 'LocalSelfAttention2d', (tf) => {
    class LocalSelfAttention2d extends tf.layers.Layer {
      static className = 'LocalSelfAttention2d';
      readonly kernel: number;
      readonly heads: number;
      private readonly embeddingInitializer?: ReturnType<TF['initializers']['randomNormal']>;
      private rows!: tf.LayerVariable;
      private cols!: tf.LayerVariable;
      constructor(args: { kernel: number; heads: number; embeddingInitializer?: ReturnType<TF['initializers']['randomNormal']>; name?: string }) {
        super(args);
        this.kernel = args.kernel;
        this.heads = args.heads;
        this.embeddingInitializer = args.embeddingInitializer;
      }
      override build(s: tf.Shape | tf.Shape[]) {
        const half = ((s as tf.Shape[])[0][3] as number) / 2;
        const initializer = this.embeddingInitializer ?? tf.initializers.randomNormal({ mean: 0, stddev: 1 });
        this.rows = this.addWeight('row_embedding', [this.kernel, half], 'float32', initializer);
        this.cols = this.addWeight('col_embedding', [this.kernel, half], 'float32', initializer);
        this.built = true;
      }
      override computeOutputShape(s: tf.Shape | tf.Shape[]): tf.Shape[] {
        const shapes = s as tf.Shape[];
        const [b, h, w] = shapes[0];
        return [shapes[2], [b, this.heads, h === null || w === null ? null : h * w, this.kernel * this.kernel]];
      }
      // Windows are gathered by index and every product is a batched matMul: the cpu backend's slices,
      // broadcasts and high-rank transposes are many times slower.
      override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
        const [q, k, v] = inputs as tf.Tensor[];
        return tf.tidy(() => {
          const [b, h, w, c] = q.shape as number[];
          const [n, kk, heads] = [h * w, this.kernel * this.kernel, this.heads];
          const dh = c / heads;
          const { index, mask } = windows(h, w, this.kernel);
          // [B·heads·HW, k·k, dh]: each query's window of keys or values.
          const windowOf = (t: tf.Tensor) => {
            const byPosition = tf.reshape(tf.transpose(tf.reshape(t, [b, n, c]), [1, 0, 2]), [n, b * c]);
            const picked = tf.reshape(gatherRows(tf, byPosition, index), [n, kk, b, heads, dh]);
            return tf.reshape(tf.transpose(picked, [2, 3, 0, 1, 4]), [b * heads * n, kk, dh]) as tf.Tensor3D;
          };
          const queries = tf.transpose(tf.reshape(q, [b, n, heads, dh]), [0, 2, 1, 3]); // [B, heads, HW, dh]
          const content = tf.matMul(tf.reshape(queries, [b * heads * n, 1, dh]) as tf.Tensor3D, windowOf(k), false, true); // q·k
          const offsets = Array.from({ length: kk }, (_, e) => e);
          const rows = tf.gather(
            this.rows.read(),
            offsets.map((e) => Math.floor(e / this.kernel)),
          );
          const cols = tf.gather(
            this.cols.read(),
            offsets.map((e) => e % this.kernel),
          );
          const rel = tf.concat([rows, cols], 1); // [k·k, C]: concat(row_a, col_b)
          // q·r per head ([heads, B·HW, k·k]; matMul's gradient does not reduce broadcast batch axes), then [B, heads, HW, k·k].
          const queriesByHead = tf.reshape(tf.transpose(tf.reshape(q, [b, n, heads, dh]), [2, 0, 1, 3]), [heads, b * n, dh]) as tf.Tensor3D;
          const relByHead = tf.transpose(tf.reshape(rel, [kk, heads, dh]), [1, 0, 2]) as tf.Tensor3D;
          const position = tf.transpose(tf.reshape(tf.matMul(queriesByHead, relByHead, false, true), [heads, b, n, kk]), [1, 0, 2, 3]);
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
    return LocalSelfAttention2d;
  });

/**
 * Stand-alone local self-attention over each position's k×k neighbourhood, a drop-in for a k×k convolution.
 * Ramachandran, Parmar, Vaswani, Bello, Levskaya & Shlens (2019). Stand-Alone Self-Attention in Vision Models.
 * q, k, v are bias-free 1×1 projections; returns y [B, H, W, channels] and the weights [B, heads, H·W, k·k].
 */
export function localSelfAttention2d(
  tf: TF,
  x: tf.SymbolicTensor,
  o: { channels: number; heads: number; kernel: number; name: string },
  init?: Init,
): { out: tf.SymbolicTensor; attention: tf.SymbolicTensor } {
  const { channels, heads, kernel, name } = o;
  const project = (suffix: string) =>
    apply(tf.layers.conv2d({ filters: channels, kernelSize: 1, useBias: false, kernelInitializer: init?.glorotUniform(), name: `${name}_${suffix}` }), x);
  const qkv = [project('query'), project('key'), project('value')];
  const layer = new (localSelfAttentionLayer(tf))({ kernel, heads, embeddingInitializer: init?.normal(1), name: `${name}_attention` });
  const [out, attention] = layer.apply(qkv) as tf.SymbolicTensor[];
  return { out, attention };
}

/** [n·n] indices into a [2n − 1] table of relative offsets: entry (i, j) is j − i + n − 1. */
export const relativeIndex = (n: number) => Array.from({ length: n * n }, (_, e) => (e % n) - Math.floor(e / n) + n - 1);

/**
 * q [B, heads, H, W, d] with a relative embedding table [2W − 1, d] (or [2H − 1, d] along = 'h') →
 * logits [B, heads, H, W, W] whose entry (x, y, y') is q_xy · r_(y' − y) (or [B, heads, H, W, H] with q_xy · r_(x' − x)).
 */
export function relativeLogits(tf: TF, q: tf.Tensor, table: tf.Tensor, along: 'w' | 'h'): tf.Tensor {
  const [b, heads, h, w, d] = q.shape as number[];
  const n = along === 'w' ? w : h;
  const r = tf.transpose(tf.reshape(tf.gather(table, relativeIndex(n)), [n, n, d]), [0, 2, 1]) as tf.Tensor3D; // [n (from), d, n (to)]
  // Bring the "from" axis to the front so a batched matmul pairs every query with its own row of offsets.
  const order = along === 'w' ? [3, 0, 1, 2, 4] : [2, 0, 1, 3, 4];
  const qs = tf.reshape(tf.transpose(q, order), [n, -1, d]) as tf.Tensor3D;
  const logits = tf.reshape(tf.matMul(qs, r), along === 'w' ? [w, b, heads, h, n] : [h, b, heads, w, n]);
  return tf.transpose(logits, along === 'w' ? [1, 2, 3, 0, 4] : [1, 2, 0, 3, 4]);
}

/**
 * qkv [B, H, W, 2dk + dv] → [attention output [B, H, W, dv], weights [B, heads, H·W, H·W]], following the
 * reference code of Bello et al.: queries scaled by dkh^−½, logits qᵀk plus, when relative, qᵀ r^W_(y'−y) +
 * qᵀ r^H_(x'−x) with embeddings shared by the heads.
 */
export const augmentedAttentionLayer = (tf: TF) =>
  customLayer(tf, 'AugmentedAttention2d', (tf) => {
    class AugmentedAttention2d extends tf.layers.Layer {
      static className = 'AugmentedAttention2d';
      readonly dk: number;
      readonly dv: number;
      readonly heads: number;
      readonly relative: boolean;
      private readonly embeddingInitializer?: ReturnType<TF['initializers']['randomNormal']>;
      private relW?: tf.LayerVariable;
      private relH?: tf.LayerVariable;
      constructor(args: {
        dk: number;
        dv: number;
        heads: number;
        relative: boolean;
        embeddingInitializer?: ReturnType<TF['initializers']['randomNormal']>;
        name?: string;
      }) {
        super(args);
        this.dk = args.dk;
        this.dv = args.dv;
        this.heads = args.heads;
        this.relative = args.relative;
        this.embeddingInitializer = args.embeddingInitializer;
      }
      override build(s: tf.Shape | tf.Shape[]) {
        if (this.relative) {
          const [, h, w] = s as number[];
          const dkh = this.dk / this.heads;
          const initializer = this.embeddingInitializer ?? tf.initializers.randomNormal({ mean: 0, stddev: dkh ** -0.5 });
          this.relW = this.addWeight('key_rel_w', [2 * w - 1, dkh], 'float32', initializer);
          this.relH = this.addWeight('key_rel_h', [2 * h - 1, dkh], 'float32', initializer);
        }
        this.built = true;
      }
      override computeOutputShape(s: tf.Shape | tf.Shape[]): tf.Shape[] {
        const [b, h, w] = s as tf.Shape;
        const n = h === null || w === null ? null : h * w;
        return [
          [b, h, w, this.dv],
          [b, this.heads, n, n],
        ];
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
            const byW = tf.expandDims(relativeLogits(tf, q5, this.relW.read(), 'w'), 4); // [B, heads, H, W, 1, W]
            const byH = tf.expandDims(relativeLogits(tf, q5, this.relH.read(), 'h'), 5); // [B, heads, H, W, H, 1]
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
    return AugmentedAttention2d;
  });

/**
 * Attention-augmented convolution: a k×k convolution and multi-head self-attention over all positions, concatenated.
 * Bello, Zoph, Vaswani, Shlens & Le (2019). Attention Augmented Convolutional Networks.
 * Returns [conv(x); attention] [B, H, W, filters] and the weights [B, heads, H·W, H·W].
 */
export function augmentedConv2d(
  tf: TF,
  x: tf.SymbolicTensor,
  o: { filters: number; kernelSize: number; dk: number; dv: number; heads: number; relative?: boolean; name: string },
  init?: Init,
): { out: tf.SymbolicTensor; attention: tf.SymbolicTensor } {
  const { filters, kernelSize, dk, dv, heads, relative = true, name } = o;
  const conv = (input: tf.SymbolicTensor, n: number, k: number, suffix: string) =>
    apply(tf.layers.conv2d({ filters: n, kernelSize: k, padding: 'same', kernelInitializer: init?.glorotUniform(), name: `${name}_${suffix}` }), input);
  const qkv = conv(x, 2 * dk + dv, 1, 'qkv');
  const embeddingInitializer = init?.normal((dk / heads) ** -0.5);
  const [attended, attention] = new (augmentedAttentionLayer(tf))({ dk, dv, heads, relative, embeddingInitializer, name: `${name}_attention` }).apply(
    qkv,
  ) as tf.SymbolicTensor[];
  const attnOut = conv(attended, dv, 1, 'attn_out');
  const out =
    dv === filters ? attnOut : apply(tf.layers.concatenate({ axis: -1, name: `${name}_concat` }), [conv(x, filters - dv, kernelSize, 'conv'), attnOut]);
  return { out, attention };
}
