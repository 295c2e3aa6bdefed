// Custom tfjs layers of the core blocks, in one implementation: the builders use
// them and the TypeScript export copies them (see tfjs-kit.ts).
import type * as tf from '@tensorflow/tfjs';
import { customLayer, type TF } from './tfjs-kit.js';

/** Softmax along any axis (tfjs's softmax layer normalises only the last one). */
export const axisSoftmaxLayer = (tf: TF) =>
  customLayer(tf, 'AxisSoftmax', (tf) => {
    class AxisSoftmax extends tf.layers.Layer {
      static className = 'AxisSoftmax';
      readonly axis: number;
      constructor(args: { axis: number; name?: string }) {
        super(args);
        this.axis = args.axis;
      }
      override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
        const x = Array.isArray(inputs) ? inputs[0] : inputs;
        return tf.tidy(() => {
          const e = tf.exp(tf.sub(x, tf.max(x, this.axis, true)));
          return tf.div(e, tf.sum(e, this.axis, true));
        });
      }
      override getConfig() {
        return { ...super.getConfig(), axis: this.axis };
      }
    }
    return AxisSoftmax;
  });
