// A dilated depthwise convolution that trains on tfjs, in one implementation: the
// DepthwiseConv2D block builds with it and the TypeScript export copies it (see
// tfjs-kit.ts).
import type * as tf from '@tensorflow/tfjs';
import { customLayer, type Initializer, type TF } from './tfjs-kit.js';
import { windowOut } from './window-sizes.js';

export interface DilatedDepthwiseArgs {
  kernel: number;
  depthMultiplier: number;
  padding: 'same' | 'valid';
  dilation: number;
  useBias: boolean;
  /** The engine's seeded initialiser; tfjs's Glorot uniform without one. */
  depthwiseInitializer?: Initializer;
  name?: string;
}

/**
 * A dilated depthwise convolution (the depthwise half of MobileNet's separable convolution, Howard et al. 2017,
 * "MobileNets"). tfjs's DepthwiseConv2D layer ignores its dilation rate, and the gradient of the dilated depthwise
 * kernel is not implemented, so this builds it the way TensorFlow builds atrous convolutions
 * (tf.nn.with_space_to_batch): space-to-batch, an undilated depthwise convolution, batch-to-space. Every op on that
 * path has a gradient. Weights are named as in tfjs's layer.
 */
export const dilatedDepthwiseConv2dLayer = (tf: TF) =>
  customLayer(tf, 'DilatedDepthwiseConv2D', (tf) => {
    class DilatedDepthwiseConv2D extends tf.layers.Layer {
      static className = 'DilatedDepthwiseConv2D';
      readonly args: DilatedDepthwiseArgs;
      private kernel?: tf.LayerVariable;
      private bias?: tf.LayerVariable;
      constructor(args: DilatedDepthwiseArgs) {
        super(args);
        this.args = args;
      }
      override build(inputShape: tf.Shape | tf.Shape[]) {
        const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
        const { kernel: k, depthMultiplier: m } = this.args;
        const c = s[3] as number;
        this.kernel = this.addWeight('depthwise_kernel', [k, k, c, m], 'float32', this.args.depthwiseInitializer ?? tf.initializers.glorotUniform({}));
        if (this.args.useBias) this.bias = this.addWeight('bias', [c * m], 'float32', tf.initializers.zeros());
        this.built = true;
      }
      override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
        const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
        const { kernel, padding, dilation, depthMultiplier } = this.args;
        const out = (d: number | null) => windowOut(d, kernel, 1, padding, dilation);
        return [s[0], out(s[1]), out(s[2]), (s[3] as number) * depthMultiplier];
      }
      override call(inputs: tf.Tensor | tf.Tensor[]) {
        const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
        const { kernel: k, padding, dilation: d } = this.args;
        return tf.tidy(() => {
          // Pad so that each spatial size is a multiple of d ("same" also adds the window's own padding),
          // convolve every d-th pixel as its own image, interleave back and crop what the rounding added.
          const plan = (size: number) => {
            const total = padding === 'same' ? (k - 1) * d : 0;
            const before = Math.floor(total / 2);
            const extra = (d - ((size + total) % d)) % d;
            return { pad: [before, total - before + extra], crop: [0, extra] };
          };
          const h = plan(x.shape[1]);
          const w = plan(x.shape[2]);
          const spaced = tf.spaceToBatchND(x, [d, d], [h.pad, w.pad]);
          const conv = tf.depthwiseConv2d(spaced, this.kernel!.read() as tf.Tensor4D, 1, 'valid');
          let y: tf.Tensor = tf.batchToSpaceND(conv, [d, d], [h.crop, w.crop]);
          if (this.bias) y = tf.add(y, this.bias.read());
          return y;
        });
      }
      override getConfig() {
        const { kernel, depthMultiplier, padding, dilation, useBias } = this.args;
        return { ...super.getConfig(), kernel, depthMultiplier, padding, dilation, useBias };
      }
    }
    return DilatedDepthwiseConv2D;
  });
