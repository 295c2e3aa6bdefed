// Layers the structured attention blocks share: BatchNorm with PyTorch's
// defaults, the pre-activation bottleneck residual unit, resizing to an exact
// size and a mean over one axis. Builders receive `tf`; nothing here imports it.
import type { Initializers, SymbolicTensor, Tensor, TF } from '../../contract.js';
import { customLayer } from '../../custom-layer.js';

/** BatchNorm over the channel axis with PyTorch's defaults (eps 1e-5, momentum 0.1 = Keras 0.9). */
export function batchNorm(tf: TF, name: string) {
  return tf.layers.batchNormalization({ axis: -1, epsilon: 1e-5, momentum: 0.9, name });
}

const apply = (layer: { apply(x: SymbolicTensor | SymbolicTensor[]): unknown }, x: SymbolicTensor | SymbolicTensor[]) => layer.apply(x) as SymbolicTensor;

/**
 * The pre-activation bottleneck residual unit (He et al. 2016, "Identity Mappings in Deep Residual Networks"):
 * x + conv1x1(BN-ReLU(conv3x3(BN-ReLU(conv1x1(BN-ReLU(x)))))), bottleneck width C/4, convolutions without
 * bias, as in the Residual Attention Network's reference code. Input and output have the same C channels.
 */
export function preActBottleneck(tf: TF, x: SymbolicTensor, name: string, init: Initializers): SymbolicTensor {
  const channels = x.shape[3] as number;
  const widths = [channels / 4, channels / 4, channels];
  const kernels = [1, 3, 1];
  let y = x;
  widths.forEach((filters, i) => {
    y = apply(batchNorm(tf, `${name}_bn${i + 1}`), y);
    y = apply(tf.layers.reLU({ name: `${name}_relu${i + 1}` }), y);
    y = apply(
      tf.layers.conv2d({ filters, kernelSize: kernels[i], padding: 'same', useBias: false, kernelInitializer: init.heNormal(), name: `${name}_conv${i + 1}` }),
      y,
    );
  });
  return apply(tf.layers.add({ name: `${name}_add` }), [x, y]);
}

/** `count` residual units in a row, named `${prefix}1`, `${prefix}2`, … */
export function preActBottlenecks(tf: TF, x: SymbolicTensor, count: number, prefix: string, init: Initializers): SymbolicTensor {
  for (let i = 1; i <= count; i++) x = preActBottleneck(tf, x, `${prefix}${i}`, init);
  return x;
}

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
      override computeOutputShape(inputShape: (number | null)[]) {
        return [inputShape[0], this.height, this.width, inputShape[3]];
      }
      override call(inputs: Tensor | Tensor[]) {
        const x = (Array.isArray(inputs) ? inputs[0] : inputs) as Parameters<TF['image']['resizeBilinear']>[0];
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
      override computeOutputShape(inputShape: (number | null)[]) {
        const a = this.resolved(inputShape.length);
        return inputShape.filter((_, i) => i !== a);
      }
      override call(inputs: Tensor | Tensor[]) {
        const x = Array.isArray(inputs) ? inputs[0] : inputs;
        return tf.mean(x, this.resolved(x.rank));
      }
      override getConfig() {
        return { ...super.getConfig(), axis: this.axis };
      }
    }
    return AxisMean;
  });
