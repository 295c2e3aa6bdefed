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

export type SentenceOp = 'fold' | 'unfold' | 'present';

export interface SentenceAxisArgs {
  op: SentenceOp;
  /** Sentences per document: the S that "unfold" restores. */
  sentences: number;
  name?: string;
}

/**
 * The reshapes around the word encoder: "fold" reads documents [B, S, W, ...] as B·S
 * sentences [B·S, W, ...]; "unfold" puts them back, [B·S, ...] → [B, S, ...]; "present"
 * turns token ids [B, S, W] (or any [B, S, ...]) into [B, S], 1 for a sentence with a
 * non-zero entry (a word) and 0 for padding.
 */
export const sentenceAxisLayer = (tf: TF) =>
  customLayer(tf, 'SentenceAxis', (tf) => {
    class SentenceAxis extends tf.layers.Layer {
      static className = 'SentenceAxis';
      readonly op: SentenceOp;
      readonly sentences: number;
      constructor(args: SentenceAxisArgs) {
        super(args);
        this.op = args.op;
        this.sentences = args.sentences;
      }
      override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
        const s = inputShape as tf.Shape;
        if (this.op === 'fold') return [null, ...s.slice(2)];
        if (this.op === 'unfold') return [null, this.sentences, ...s.slice(1)];
        return [s[0], s[1]];
      }
      override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
        const x = Array.isArray(inputs) ? inputs[0] : inputs;
        if (this.op === 'fold') return tf.reshape(x, [-1, ...x.shape.slice(2)]);
        if (this.op === 'unfold') return tf.reshape(x, [-1, this.sentences, ...x.shape.slice(1)]);
        // max(|x|) rather than any(): Any has no gradient, and the mask sits on the tape of a training step.
        const within = Array.from({ length: x.rank - 2 }, (_, k) => k + 2);
        return tf.tidy(() => tf.cast(tf.notEqual(tf.max(tf.abs(tf.cast(x, 'float32')), within), 0), 'float32'));
      }
      override getConfig() {
        return { ...super.getConfig(), op: this.op, sentences: this.sentences };
      }
    }
    return SentenceAxis;
  });
