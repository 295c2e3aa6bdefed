// Custom tfjs layers of the core blocks, in one implementation: the builders use
// them and the TypeScript export copies them (see tfjs-kit.ts).
import type * as tf from '@tensorflow/tfjs';
import { customLayer, type Initializer, type TF } from './tfjs-kit.js';

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

export type PositionalMode = 'sinusoidal' | 'learned';

/**
 * The sinusoidal encoding of Vaswani et al. (2017), `length` × `dim`, row-major:
 * PE(pos, 2i) = sin(pos / 10000^(2i/dim)), PE(pos, 2i+1) = cos(pos / 10000^(2i/dim)).
 */
export function sinusoidalTable(length: number, dim: number): Float32Array {
  const table = new Float32Array(length * dim);
  for (let pos = 0; pos < length; pos++)
    for (let j = 0; j < dim; j++) {
      const angle = pos / Math.pow(10000, (j - (j % 2)) / dim);
      table[pos * dim + j] = j % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
    }
  return table;
}

export interface PositionalEncodingArgs {
  mode: PositionalMode;
  maxLength: number;
  /** Learned mode: the engine's seeded initialiser; a truncated normal with σ = 0.02 without one. */
  initializer?: Initializer;
  name?: string;
}

/**
 * Adds position information to a sequence [B, T, D] (Vaswani et al. 2017, "Attention Is All You Need"):
 * "sinusoidal" adds sin(pos / 10000^(2i/D)) to even features and cos to odd ones, with no weights; "learned"
 * adds a trained row per position from a maxLength × D table `embeddings` cut to T rows (BERT, GPT-2, ViT).
 */
export const positionalEncodingLayer = (tf: TF) =>
  customLayer(tf, 'PositionalEncoding', (tf) => {
    class PositionalEncoding extends tf.layers.Layer {
      static className = 'PositionalEncoding';
      readonly mode: PositionalMode;
      readonly maxLength: number;
      private readonly initializer?: Initializer;
      private table?: tf.LayerVariable;
      private readonly sinusoids = new Map<number, Float32Array>();
      constructor(args: PositionalEncodingArgs) {
        super(args);
        this.mode = args.mode;
        this.maxLength = args.maxLength;
        this.initializer = args.initializer;
      }
      override build(inputShape: tf.Shape | tf.Shape[]) {
        const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
        if (this.mode === 'learned')
          this.table = this.addWeight(
            'embeddings',
            [this.maxLength, s[2] as number],
            'float32',
            this.initializer ?? tf.initializers.truncatedNormal({ stddev: 0.02 }),
          );
        this.built = true;
      }
      override computeOutputShape(inputShape: tf.Shape | tf.Shape[]) {
        return inputShape;
      }
      override call(inputs: tf.Tensor | tf.Tensor[]) {
        const x = Array.isArray(inputs) ? inputs[0] : inputs;
        const [, t, d] = x.shape;
        return tf.tidy(() => {
          if (this.table) return tf.add(x, tf.slice(this.table.read(), [0, 0], [t, d]));
          let codes = this.sinusoids.get(t);
          if (!codes) this.sinusoids.set(t, (codes = sinusoidalTable(t, d)));
          return tf.add(x, tf.tensor2d(codes, [t, d]));
        });
      }
      override getConfig() {
        return { ...super.getConfig(), mode: this.mode, maxLength: this.maxLength };
      }
    }
    return PositionalEncoding;
  });
