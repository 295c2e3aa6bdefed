// Builders shared by the vision attention blocks: the channel gate of SE and
// CBAM, CBAM's spatial gate, and the shape and BatchNorm conventions they share.
import { ShapeError, type Initializers, type Shape, type SymbolicTensor, type TF } from '../../contract.js';
import { expectRank, fmtShape } from '../../shape-rules.js';
import { channelPoolLayer } from './layers.js';

type Layer = { apply(x: SymbolicTensor | SymbolicTensor[]): unknown };
export const apply = (layer: Layer, x: SymbolicTensor | SymbolicTensor[]) => layer.apply(x) as SymbolicTensor;

/** Hidden width of a reduction MLP: C/r rounded down but at least 1, as the reference code's `C // r`. */
export const reducedWidth = (channels: number, reduction: number) => Math.max(1, Math.floor(channels / reduction));

/** Checks an NHWC image input whose height, width and channels are known; returns [H, W, C]. */
export function imageInput(shape: Shape, port: string): [number, number, number] {
  expectRank(shape, port, 4, 'an NHWC image [B, H, W, C]');
  const [, h, w, c] = shape;
  if (h === null || w === null || c === null)
    throw new ShapeError(`input "${port}" needs a known height, width and channel count, got ${fmtShape(shape)}`, port);
  return [h, w, c];
}

/** BatchNorm over channels with PyTorch's defaults (momentum 0.1, i.e. Keras 0.9; ε = 1e-5); `torchMomentum` in PyTorch's sense. */
export function batchNorm(tf: TF, name: string, opts: { gammaZero?: boolean; torchMomentum?: number } = {}) {
  return tf.layers.batchNormalization({
    axis: -1,
    momentum: 1 - (opts.torchMomentum ?? 0.1),
    epsilon: 1e-5,
    gammaInitializer: opts.gammaZero ? 'zeros' : 'ones',
    name,
  });
}

/** x [B, ..., C] (an image or a sequence) times per-channel weights w [B, C]. */
export function scaleChannels(tf: TF, x: SymbolicTensor, w: SymbolicTensor, name: string): SymbolicTensor {
  const ones = x.shape.slice(1, -1).map(() => 1);
  const wide = apply(tf.layers.reshape({ targetShape: [...ones, w.shape[1] as number], name: `${name}_expand` }), w);
  return apply(tf.layers.multiply({ name: `${name}_scale` }), [x, wide]);
}

export interface ChannelGateOptions {
  reduction: number;
  bias: boolean;
  /** SE squeezes by average pooling; CBAM feeds the average- and the max-pooled descriptor through the same MLP. */
  pools: 'avg' | 'avg+max';
}

/** Channel attention: pool → FC C/r → ReLU → FC C (shared across pools, summed) → sigmoid → scale. */
export function channelGate(tf: TF, x: SymbolicTensor, o: ChannelGateOptions, name: string, init: Initializers) {
  const c = x.shape[3] as number;
  const fc1 = tf.layers.dense({
    units: reducedWidth(c, o.reduction),
    activation: 'relu',
    useBias: o.bias,
    kernelInitializer: init.glorotUniform(),
    name: `${name}_fc1`,
  });
  const fc2 = tf.layers.dense({ units: c, useBias: o.bias, kernelInitializer: init.glorotUniform(), name: `${name}_fc2` });
  const mlp = (d: SymbolicTensor) => apply(fc2, apply(fc1, d));
  let logits = mlp(apply(tf.layers.globalAveragePooling2d({ name: `${name}_avgpool` }), x));
  if (o.pools === 'avg+max') {
    const fromMax = mlp(apply(tf.layers.globalMaxPooling2d({ name: `${name}_maxpool` }), x));
    logits = apply(tf.layers.add({ name: `${name}_sum` }), [logits, fromMax]);
  }
  const weights = apply(tf.layers.activation({ activation: 'sigmoid', name: `${name}_sigmoid` }), logits);
  return { weights, out: scaleChannels(tf, x, weights, name) };
}

export interface SpatialGateOptions {
  kernel: number;
  batchNorm: boolean;
  /** The BatchNorm's momentum in PyTorch's sense (0.1 unless set). */
  bnMomentum?: number;
}

/** CBAM's spatial attention: [mean; max] over channels → k×k conv 2→1 (no bias) → [BatchNorm] → sigmoid → scale. */
export function spatialGate(tf: TF, x: SymbolicTensor, o: SpatialGateOptions, name: string, init: Initializers) {
  const [, h, w] = x.shape as number[];
  const pooled = apply(new (channelPoolLayer(tf))({ name: `${name}_pool` }), x);
  let m = apply(
    tf.layers.conv2d({ filters: 1, kernelSize: o.kernel, padding: 'same', useBias: false, kernelInitializer: init.glorotUniform(), name: `${name}_conv` }),
    pooled,
  );
  if (o.batchNorm) m = apply(batchNorm(tf, `${name}_bn`, { torchMomentum: o.bnMomentum }), m);
  m = apply(tf.layers.activation({ activation: 'sigmoid', name: `${name}_sigmoid` }), m);
  return {
    map: apply(tf.layers.reshape({ targetShape: [h, w], name: `${name}_map` }), m),
    out: apply(tf.layers.multiply({ name: `${name}_scale` }), [x, m]),
  };
}

/** Common parameters. */
export const reductionParam = {
  type: 'int',
  default: 16,
  min: 1,
  max: 4096,
  doc: "Reduction ratio r: the MLP's hidden width is ⌊C/r⌋, at least 1 (so r need not divide C).",
} as const;

export function oddKernel(kernel: number): void {
  if (kernel % 2 === 0)
    throw new ShapeError(
      `kernel ${kernel} is even: the spatial gate needs an odd kernel so that its "same" padding is symmetric, (k−1)/2 on each side as in PyTorch`,
    );
}
