// Token-sequence layers with learned weights of their own: a class token
// prepended to a sequence, and learned position embeddings added to it (ViT).
// The initialiser is a constructor argument, not part of the config: a loaded
// model takes these weights from its checkpoint. Written against tfjs-kit.ts: the
// TypeScript export copies these definitions.
import type * as tf from '@tensorflow/tfjs';
import { customLayer, type TF } from '../../tfjs-kit.js';

interface TokenLayerArgs {
  name?: string;
  initializer?: ReturnType<TF['initializers']['zeros']>;
}

/** [B, T, D] → [B, T + 1, D], with one learned D-vector in front. */
export const classTokenLayer = (tf: TF) =>
  customLayer(tf, 'ClassToken', (tf) => {
    class ClassToken extends tf.layers.Layer {
      static className = 'ClassToken';
      private readonly initializer: ReturnType<TF['initializers']['zeros']>;
      private token?: tf.LayerVariable;
      constructor(args: TokenLayerArgs) {
        super(args);
        this.initializer = args.initializer ?? tf.initializers.zeros();
      }
      override build(inputShape: tf.Shape | tf.Shape[]): void {
        const d = (inputShape as tf.Shape)[2] as number;
        this.token = this.addWeight('token', [1, 1, d], 'float32', this.initializer);
        this.built = true;
      }
      override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
        const [b, t, d] = inputShape as tf.Shape;
        return [b, t === null ? null : t + 1, d];
      }
      override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
        const x = Array.isArray(inputs) ? inputs[0] : inputs;
        return tf.tidy(() => tf.concat([tf.tile(this.token!.read(), [x.shape[0], 1, 1]), x], 1));
      }
    }
    return ClassToken;
  });

/** [B, T, D] + a learned [T, D] table: one embedding per position. */
export const learnedPositionsLayer = (tf: TF) =>
  customLayer(tf, 'LearnedPositions', (tf) => {
    class LearnedPositions extends tf.layers.Layer {
      static className = 'LearnedPositions';
      private readonly initializer: ReturnType<TF['initializers']['zeros']>;
      private table?: tf.LayerVariable;
      constructor(args: TokenLayerArgs) {
        super(args);
        this.initializer = args.initializer ?? tf.initializers.zeros();
      }
      override build(inputShape: tf.Shape | tf.Shape[]): void {
        const [, t, d] = inputShape as tf.Shape;
        if (t === null) throw new Error('LearnedPositions needs a known sequence length');
        this.table = this.addWeight('table', [t, d as number], 'float32', this.initializer);
        this.built = true;
      }
      override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
        return inputShape as tf.Shape;
      }
      override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
        const x = Array.isArray(inputs) ? inputs[0] : inputs;
        return tf.tidy(() => tf.add(x, this.table!.read()));
      }
    }
    return LearnedPositions;
  });
