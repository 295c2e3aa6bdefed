// LayerNormalization over the last axis with a closed-form gradient, in one
// implementation: the LayerNorm block and the Transformer layers build it, and the
// TypeScript export copies it (see tfjs-kit.ts).
import { customLayer, type Tensor, type TF } from './tfjs-kit.js';

type LayerNormalization = ReturnType<TF['layers']['layerNormalization']>;
type LayerNormalizationArgs = NonNullable<Parameters<TF['layers']['layerNormalization']>[0]>;

/**
 * y = (x − mean) / √(var + ε) · gamma + beta over x's last axis, as one differentiable op. With x̂ the normalised
 * input and g = dy · gamma, the gradients are dx = (g − mean(g) − x̂ · mean(g · x̂)) / √(var + ε),
 * dgamma = Σ dy · x̂ and dbeta = Σ dy (sums over every axis but the last). tfjs-layers' own LayerNormalization tiles
 * the mean, variance, gamma and beta to x's size and differentiates through tfjs's batch norm and those tiles:
 * about twice the kernels, each over x's size.
 */
export function layerNorm(tf: TF, x: Tensor, gamma: Tensor, beta: Tensor, epsilon: number): Tensor {
  const last = x.rank - 1;
  const leading = [...Array(last).keys()];
  const op = tf.customGrad((...args) => {
    const [x, gamma, beta] = args as Tensor[];
    const save = args[3] as (saved: Tensor[]) => void;
    const centred = tf.sub(x, tf.mean(x, last, true));
    const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(centred), last, true), epsilon));
    const normalised = tf.mul(centred, rstd);
    save([normalised, rstd, gamma]);
    return {
      value: tf.add(tf.mul(normalised, gamma), beta),
      gradFunc: (dy: Tensor, [normalised, rstd, gamma]: Tensor[]) => {
        const g = tf.mul(dy, gamma);
        const along = tf.mul(normalised, tf.mean(tf.mul(g, normalised), last, true));
        const dx = tf.mul(tf.sub(tf.sub(g, tf.mean(g, last, true)), along), rstd);
        return [dx, tf.sum(tf.mul(dy, normalised), leading), tf.sum(dy, leading)];
      },
    };
  });
  return op(x, gamma, beta);
}

/**
 * tfjs's LayerNormalization over the last axis, computed by layerNorm. Same weights (gamma, beta), outputs and
 * gradients to float rounding; the class keeps tfjs's className and is not registered, so a saved model.json
 * loads as tfjs's LayerNormalization anywhere.
 */
export const layerNormLayer = (tf: TF) =>
  customLayer(
    tf,
    'LayerNormalization',
    (tf) => {
      // tfjs exports the layer's factory, not its class: the class is the constructor of what the factory makes.
      const Base = tf.layers.layerNormalization({ name: 'layer_norm_base' }).constructor as new (args: LayerNormalizationArgs) => LayerNormalization;
      class LastAxisLayerNormalization extends Base {
        static className = 'LayerNormalization';
        /** The base class's epsilon (private there), with its default applied. */
        private readonly varianceEpsilon: number;
        constructor(args: LayerNormalizationArgs) {
          if (args.axis !== undefined && args.axis !== -1) throw new Error(`LayerNormalization ${args.name ?? ''}: only the last axis (-1) is supported`);
          super(args);
          this.varianceEpsilon = (this.getConfig() as { epsilon: number }).epsilon;
        }
        override call(inputs: Tensor | Tensor[], kwargs: Record<string, unknown>): Tensor | Tensor[] {
          const weight = (name: string) => this.weights.find((w) => w.originalName.endsWith(`/${name}`)); // scoped: layer/name
          const [gamma, beta] = [weight('gamma'), weight('beta')];
          // Without a learned scale or offset (center or scale false): tfjs's own.
          if (!gamma || !beta) return super.call(inputs, kwargs);
          return layerNorm(tf, Array.isArray(inputs) ? inputs[0] : inputs, gamma.read(), beta.read(), this.varianceEpsilon);
        }
      }
      return LastAxisLayerNormalization;
    },
    { register: false },
  );
