// The attention step every sequence block shares: scores → masked softmax over the
// keys → weighted sum of the values. Made as custom tfjs layers (weightless, so the
// learned projections stay standard Dense layers) that return two outputs, the
// context and the attention weights, and serialise with their config. Written
// against tfjs-kit.ts: the TypeScript export copies these definitions.
import type * as tf from '@tensorflow/tfjs';
import { customLayer, type TF } from '../../tfjs-kit.js';
import { dropout, type DropoutSeed } from '../../seeded-dropout.js';

type Kwargs = Record<string, unknown>;

/** What a masked-out score becomes: exp(-1e9 - max) is exactly 0 in float32. */
const MASKED = -1e9;

/**
 * softmax over the last (key) axis of scores [..., Tq, Tk]. A key is masked where the
 * padding mask [B, Tk] is 0 and, when causal, where its index exceeds the query's
 * (top-left aligned, as PyTorch's `is_causal`).
 */
export function maskedSoftmax(tf: TF, scores: tf.Tensor, mask: tf.Tensor | undefined, causal: boolean): tf.Tensor {
  const [tq, tk] = scores.shape.slice(-2);
  let keep: tf.Tensor | undefined;
  if (mask) {
    const m = tf.cast(tf.notEqual(tf.cast(mask, 'float32'), 0), 'float32');
    keep = tf.reshape(m, [m.shape[0], ...new Array<number>(scores.rank - 2).fill(1), tk]);
  }
  if (causal) {
    const lower = tf.linalg.bandPart(tf.ones([tq, tk]), -1, 0);
    keep = keep ? tf.mul(keep, lower) : lower;
  }
  const masked = keep ? tf.add(tf.mul(scores, keep), tf.mul(tf.sub(keep, 1), -MASKED)) : scores;
  return tf.softmax(masked, -1);
}

export interface DotProductAttentionArgs {
  name?: string;
  /** Heads the last axis of q, k, v is split into (contiguous slices, as PyTorch). */
  heads?: number;
  /** Divide the scores by √d_k (Vaswani et al.); off for plain dot-product scores (Luong, memory networks). */
  scaled?: boolean;
  causal?: boolean;
  /** Dropout on the attention weights while training; the weights output is taken before it. */
  dropout?: number;
  /** Where that dropout draws its masks (compile-time wiring, not saved with the model). */
  dropoutSite?: DropoutSeed;
  /** A fourth input, the padding mask [B, Tk], follows q, k, v. */
  masked?: boolean;
  /** Weights as [B, heads, Tq, Tk]; otherwise [B, Tq, Tk] (heads must be 1). */
  headAxis?: boolean;
}

/**
 * Inputs [q [B,Tq,h·dk], k [B,Tk,h·dk], v [B,Tk,h·dv], mask? [B,Tk]];
 * outputs [context [B,Tq,h·dv], weights [B,h,Tq,Tk] or [B,Tq,Tk]].
 */
export const dotProductAttentionLayer = (tf: TF) =>
  customLayer(tf, 'DotProductAttention', (tf) => {
    class DotProductAttention extends tf.layers.Layer {
      static className = 'DotProductAttention';
      readonly heads: number;
      readonly scaled: boolean;
      readonly causal: boolean;
      readonly dropout: number;
      readonly masked: boolean;
      readonly headAxis: boolean;
      private readonly dropoutSite?: DropoutSeed;
      constructor(args: DotProductAttentionArgs) {
        super(args);
        this.dropoutSite = args.dropoutSite;
        this.heads = args.heads ?? 1;
        this.scaled = args.scaled ?? true;
        this.causal = args.causal ?? false;
        this.dropout = args.dropout ?? 0;
        this.masked = args.masked ?? false;
        this.headAxis = args.headAxis ?? false;
        if (!this.headAxis && this.heads !== 1) throw new Error('DotProductAttention: several heads need headAxis');
      }
      override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape[] {
        const [q, k, v] = inputShape as tf.Shape[];
        const weights = this.headAxis ? [q[0], this.heads, q[1], k[1]] : [q[0], q[1], k[1]];
        return [[q[0], q[1], v[2]], weights];
      }
      override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor[] {
        const [q, k, v, mask] = inputs as tf.Tensor[];
        return tf.tidy(() => {
          const h = this.heads;
          const split = (x: tf.Tensor) => {
            const [b, t, f] = x.shape;
            return tf.transpose(tf.reshape(x, [b, t, h, f / h]), [0, 2, 1, 3]);
          };
          const [qh, kh, vh] = [split(q), split(k), split(v)];
          const dk = (k.shape[2] as number) / h;
          const raw = tf.matMul(qh, kh, false, true);
          const scores = this.scaled ? tf.mul(raw, 1 / Math.sqrt(dk)) : raw;
          const weights = maskedSoftmax(tf, scores, this.masked ? mask : undefined, this.causal);
          const ctx = tf.matMul(dropout(tf, weights, this.dropout, kwargs?.training === true, this.dropoutSite), vh);
          const [b, , tq, dv] = ctx.shape;
          const merged = tf.reshape(tf.transpose(ctx, [0, 2, 1, 3]), [b, tq, h * dv]);
          return [merged, this.headAxis ? weights : tf.squeeze(weights, [1])];
        });
      }
      override getConfig() {
        const { heads, scaled, causal, dropout, masked, headAxis } = this;
        return { ...super.getConfig(), heads, scaled, causal, dropout, masked, headAxis };
      }
    }
    return DotProductAttention;
  });

/**
 * Attention from precomputed scores. Inputs [scores [B,Tq,Tk,1], v [B,Tk,dv], mask? [B,Tk]];
 * outputs [context [B,Tq,dv], weights [B,Tq,Tk]].
 */
export const scoredAttentionLayer = (tf: TF) =>
  customLayer(tf, 'ScoredAttention', (tf) => {
    class ScoredAttention extends tf.layers.Layer {
      static className = 'ScoredAttention';
      readonly masked: boolean;
      constructor(args: { name?: string; masked?: boolean }) {
        super(args);
        this.masked = args.masked ?? false;
      }
      override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape[] {
        const [s, v] = inputShape as tf.Shape[];
        return [
          [s[0], s[1], v[2]],
          [s[0], s[1], s[2]],
        ];
      }
      override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
        const [scores, v, mask] = inputs as tf.Tensor[];
        return tf.tidy(() => {
          const weights = maskedSoftmax(tf, tf.squeeze(scores, [3]), this.masked ? mask : undefined, false);
          return [tf.matMul(weights, v), weights];
        });
      }
      override getConfig() {
        return { ...super.getConfig(), masked: this.masked };
      }
    }
    return ScoredAttention;
  });

/** tanh(a_i + b_j) for every pair: [a [B,Tq,u], b [B,Tk,u]] → [B,Tq,Tk,u] (the inside of additive attention). */
export const pairwiseTanhLayer = (tf: TF) =>
  customLayer(tf, 'PairwiseTanh', (tf) => {
    class PairwiseTanh extends tf.layers.Layer {
      static className = 'PairwiseTanh';
      override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
        const [a, b] = inputShape as tf.Shape[];
        return [a[0], a[1], b[1], a[2]];
      }
      override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
        const [a, b] = inputs as tf.Tensor[];
        return tf.tidy(() => tf.tanh(tf.add(tf.expandDims(a, 2), tf.expandDims(b, 1))));
      }
    }
    return PairwiseTanh;
  });
