// Custom tfjs layers for the vision attention blocks: the few steps that the
// standard Keras layers cannot express. Each is registered for serialisation.
import type { Shape, Tensor, TF } from '../../contract.js';
import { customLayer } from '../../custom-layer.js';

type LayerVariable = ReturnType<InstanceType<TF['layers']['Layer']>['addWeight']>;

const list = (inputs: Tensor | Tensor[]): Tensor[] => (Array.isArray(inputs) ? inputs : [inputs]);
const shapes = (s: Shape | Shape[]): Shape[] => (Array.isArray(s[0]) ? (s as Shape[]) : [s as Shape]);

/** CBAM's channel pooling: [B, H, W, C] -> [B, H, W, 2], the channel-wise mean then max. */
export const channelPoolLayer = (tf: TF) =>
  customLayer(tf, 'ChannelPool', (tf) => {
    class ChannelPool extends tf.layers.Layer {
      static className = 'ChannelPool';
      override computeOutputShape(s: Shape | Shape[]): Shape {
        return [...shapes(s)[0].slice(0, -1), 2];
      }
      override call(inputs: Tensor | Tensor[]) {
        const x = list(inputs)[0];
        return tf.tidy(() => tf.concat([tf.mean(x, -1, true), tf.max(x, -1, true)], -1));
      }
    }
    return ChannelPool;
  });

/** Batched matrix product of two rank-3 inputs, [B, N, K] · [B, K, M] (or · [B, M, K]ᵀ). */
export const batchMatMulLayer = (tf: TF) =>
  customLayer(tf, 'BatchMatMul', (tf) => {
    class BatchMatMul extends tf.layers.Layer {
      static className = 'BatchMatMul';
      readonly transposeB: boolean;
      constructor(args: { transposeB?: boolean; name?: string }) {
        super(args);
        this.transposeB = args.transposeB ?? false;
      }
      override computeOutputShape(s: Shape | Shape[]): Shape {
        const [a, b] = shapes(s);
        return [a[0], a[1], this.transposeB ? b[1] : b[2]];
      }
      override call(inputs: Tensor | Tensor[]) {
        const [a, b] = list(inputs);
        return tf.matMul(a as never, b as never, false, this.transposeB);
      }
      override getConfig() {
        return { ...super.getConfig(), transposeB: this.transposeB };
      }
    }
    return BatchMatMul;
  });

export type PairwiseFunction = 'embeddedGaussian' | 'dotProduct' | 'concatenation';

/**
 * The non-local block's normalised affinity f(θ_i, φ_j)/C(x) between every position i of θ [B, H, W, C']
 * and every position j of φ [B, H', W', C'], as a [B, HW, H'W'] matrix whose rows weigh the positions of g.
 * Embedded Gaussian: softmax_j(θ_iᵀφ_j). Dot product: θ_iᵀφ_j / N'. Concatenation: ReLU(w_fᵀ[θ_i; φ_j]) / N',
 * with w_f (2C' weights, no bias) held here; N' = H'W' as in Wang et al.'s reference code.
 */
export const nonLocalAffinityLayer = (tf: TF) =>
  customLayer(tf, 'NonLocalAffinity', (tf) => {
    class NonLocalAffinity extends tf.layers.Layer {
      static className = 'NonLocalAffinity';
      readonly pairwise: PairwiseFunction;
      readonly seed: number;
      private kernel?: LayerVariable;
      constructor(args: { pairwise: PairwiseFunction; seed?: number; name?: string }) {
        super(args);
        this.pairwise = args.pairwise;
        this.seed = args.seed ?? 0;
      }
      override build(s: Shape | Shape[]) {
        const inner = shapes(s)[0][3] as number;
        if (this.pairwise === 'concatenation')
          this.kernel = this.addWeight('kernel', [2 * inner, 1], 'float32', tf.initializers.glorotUniform({ seed: this.seed }));
        this.built = true;
      }
      override computeOutputShape(s: Shape | Shape[]): Shape {
        const [theta, phi] = shapes(s);
        const area = (t: Shape) => (t[1] === null || t[2] === null ? null : t[1] * t[2]);
        return [theta[0], area(theta), area(phi)];
      }
      override call(inputs: Tensor | Tensor[]) {
        const [theta, phi] = list(inputs);
        return tf.tidy(() => {
          const [, h, w, c] = theta.shape as number[];
          const [, hk, wk] = phi.shape as number[];
          const keys = hk * wk;
          const t = tf.reshape(theta, [-1, h * w, c]) as never;
          const p = tf.reshape(phi, [-1, keys, c]) as never;
          if (this.pairwise === 'concatenation') {
            // w_fᵀ[θ_i; φ_j] = w_θᵀθ_i + w_φᵀφ_j: project each side once, then broadcast to all pairs.
            const wf = this.kernel!.read();
            const wTheta = tf.reshape(tf.slice(wf, [0, 0], [c, 1]), [1, 1, c]);
            const wPhi = tf.reshape(tf.slice(wf, [c, 0], [c, 1]), [1, 1, c]);
            const a = tf.sum(tf.mul(t, wTheta), -1, true);
            const b = tf.expandDims(tf.sum(tf.mul(p, wPhi), -1), 1);
            return tf.div(tf.relu(tf.add(a, b)), keys);
          }
          const scores = tf.matMul(t, p, false, true);
          return this.pairwise === 'embeddedGaussian' ? tf.softmax(scores, -1) : tf.div(scores, keys);
        });
      }
      override getConfig() {
        return { ...super.getConfig(), pairwise: this.pairwise, seed: this.seed };
      }
    }
    return NonLocalAffinity;
  });

/** The highway combination y = t·h + (1 − t)·x, for inputs [h, x, t] of one shape. */
export const gatedMixLayer = (tf: TF) =>
  customLayer(tf, 'GatedMix', (tf) => {
    class GatedMix extends tf.layers.Layer {
      static className = 'GatedMix';
      override computeOutputShape(s: Shape | Shape[]): Shape {
        return shapes(s)[0];
      }
      override call(inputs: Tensor | Tensor[]) {
        const [h, x, t] = list(inputs);
        return tf.tidy(() => tf.add(x, tf.mul(t, tf.sub(h, x))));
      }
    }
    return GatedMix;
  });
