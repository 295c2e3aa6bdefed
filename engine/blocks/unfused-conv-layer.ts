// A Conv2D layer that differentiates as separate ops, in one implementation: the
// patch embedding builds it, and the TypeScript export copies it (see tfjs-kit.ts).
import type * as tf from '@tensorflow/tfjs';
import { customLayer, type Tensor, type TF } from './tfjs-kit.js';

type Conv2D = ReturnType<TF['layers']['conv2d']>;
type Conv2DArgs = Parameters<TF['layers']['conv2d']>[0];

/**
 * tfjs's Conv2D (channels last), computed as conv2d, then the bias added, then the activation, each its own op.
 * tfjs-layers runs a convolution as tf.fused.conv2d, whose gradient computes the input's gradient with the
 * filter's every step, even where the input is the image and nothing asks for it (a ViT's patch embedding:
 * about a tenth of vit-tiny's step on wasm). As separate ops, the tape leaves out the input's gradient whenever
 * the input does not depend on a trained weight. Same weights, and outputs and gradients to float rounding (the
 * bias is added after the sum instead of inside it); the class keeps tfjs's className and is not registered, so a
 * saved model.json loads as tfjs's Conv2D anywhere.
 */
export const unfusedConv2dLayer = (tf: TF) =>
  customLayer(
    tf,
    'Conv2D',
    (tf) => {
      // tfjs exports the layer's factory, not its class: the class is the constructor of what the factory makes.
      const Base = tf.layers.conv2d({ filters: 1, kernelSize: 1, name: 'unfused_conv2d_base' }).constructor as new (args: Conv2DArgs) => Conv2D;
      class UnfusedConv2D extends Base {
        static className = 'Conv2D';
        constructor(args: Conv2DArgs) {
          if (args.dataFormat === 'channelsFirst') throw new Error(`Conv2D ${args.name ?? ''}: only channels-last data is supported`);
          super(args);
        }
        override call(inputs: Tensor | Tensor[]): Tensor | Tensor[] {
          const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
          const { strides, padding, dilationRate } = this.getConfig() as {
            strides: [number, number];
            padding: 'same' | 'valid';
            dilationRate: [number, number];
          };
          const weight = (name: string) => this.weights.find((w) => w.originalName.endsWith(`/${name}`)); // scoped: layer/name
          // tfjs-layers' own activation object (protected there): the same function the fused kernel applies.
          const { activation } = this as unknown as { activation: { apply(t: Tensor): Tensor } };
          return tf.tidy(() => {
            const y = tf.conv2d(x, weight('kernel')!.read() as tf.Tensor4D, strides, padding, 'NHWC', dilationRate);
            const bias = weight('bias');
            return activation.apply(bias ? tf.add(y, bias.read()) : y);
          });
        }
      }
      return UnfusedConv2D;
    },
    { register: false },
  );
