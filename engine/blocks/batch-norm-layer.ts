// BatchNormalization as PyTorch trains it, in one implementation: the BatchNorm
// block and the attention blocks' BatchNorms build it, and the TypeScript export
// copies it (see tfjs-kit.ts).
import type * as tf from '@tensorflow/tfjs';
import { customLayer, type TF } from './tfjs-kit.js';

type BatchNormalization = ReturnType<TF['layers']['batchNormalization']>;
type BatchNormalizationArgs = NonNullable<Parameters<TF['layers']['batchNormalization']>[0]>;

/** The wasm backend's kernels for training-mode batch norm (engine/backends/wasm-batch-norm.ts), by name: the exports run without them. */
const STATS_KERNEL = 'BatchNormStats';
const GRAD_KERNEL = 'BatchNormTrainingGrad';

/**
 * x normalised by its own batch's mean and biased variance over every axis but the last, then scaled and shifted.
 * Where the backend has the two kernels, the statistics are one kernel and the gradient another, in closed form
 * (to float rounding of tfjs's, which differentiates through tf.moments' four full-size ops and the batch norm);
 * elsewhere it is tf.moments and tfjs's batch norm.
 */
function normaliseBatch(tf: TF, x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number) {
  const backend = tf.getBackend();
  if (x.dtype !== 'float32' || x.size === 0 || !tf.getKernel(STATS_KERNEL, backend) || !tf.getKernel(GRAD_KERNEL, backend)) {
    const { mean, variance } = tf.moments(x, [...Array(x.rank - 1).keys()]);
    return { mean, variance, y: tf.batchNorm(x, mean, variance, beta, gamma, epsilon) };
  }
  const [mean, variance] = tf.engine().runKernel(STATS_KERNEL, { x }, {}) as tf.Tensor[];
  const op = tf.customGrad((...args) => {
    const [x, gamma, beta] = args as tf.Tensor[];
    const save = args[3] as (saved: tf.Tensor[]) => void;
    save([x, gamma, mean, variance]);
    return {
      value: tf.batchNorm(x, mean, variance, beta, gamma, epsilon),
      gradFunc: (dy: tf.Tensor, [x, gamma, mean, variance]: tf.Tensor[]) =>
        tf.engine().runKernel(GRAD_KERNEL, { dy, x, mean, variance, scale: gamma }, { varianceEpsilon: epsilon }) as tf.Tensor[],
    };
  });
  return { mean, variance, y: op(x, gamma, beta) };
}

/**
 * tfjs's BatchNormalization over the last axis, with PyTorch's running variance. In training, the batch is
 * normalised with its biased variance (sum of squares / n, n the values per channel) as before, but the moving
 * variance averages in the unbiased one, n / (n − 1) times that, as torch.nn.BatchNorm does; tfjs and Keras
 * average in the biased one. (With n = 1 PyTorch refuses to train; here the variance taken in is the batch's 0.)
 * Inference is tfjs's own. The class keeps tfjs's className and is not registered, so a saved model.json loads
 * as tfjs's BatchNormalization anywhere, with the same weights and outputs.
 */
export const unbiasedBatchNormLayer = (tf: TF) =>
  customLayer(
    tf,
    'BatchNormalization',
    (tf) => {
      // tfjs exports the layer's factory, not its class: the class is the constructor of what the factory makes.
      const Base = tf.layers.batchNormalization({ name: 'unbiased_batch_norm_base' }).constructor as new (args: BatchNormalizationArgs) => BatchNormalization;
      class UnbiasedBatchNormalization extends Base {
        static className = 'BatchNormalization';
        /** The base class's momentum and epsilon (private there), with its defaults applied. */
        private readonly averaging: { momentum: number; epsilon: number };
        constructor(args: BatchNormalizationArgs) {
          if (args.axis !== undefined && args.axis !== -1) throw new Error(`BatchNormalization ${args.name ?? ''}: only the last axis (-1) is supported`);
          super(args);
          this.averaging = this.getConfig() as { momentum: number; epsilon: number };
        }
        override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
          if (!kwargs['training']) return super.call(inputs, kwargs);
          const x = Array.isArray(inputs) ? inputs[0] : inputs;
          const { momentum, epsilon } = this.averaging;
          const weight = (name: string) => this.weights.find((w) => w.originalName.endsWith(`/${name}`))!; // scoped: layer/name
          return tf.tidy(() => {
            const { mean, variance, y } = normaliseBatch(tf, x, weight('gamma').read(), weight('beta').read(), epsilon);
            const n = x.size / x.shape[x.rank - 1];
            // tfjs's own update, moving − (moving − batch)·(1 − momentum), so that the moving mean stays as it was.
            const movingAverage = (name: string, batch: tf.Tensor) => {
              const moving = weight(name);
              moving.write(tf.sub(moving.read(), tf.mul(tf.sub(moving.read(), batch), 1 - momentum)));
            };
            movingAverage('moving_mean', mean);
            movingAverage('moving_variance', n > 1 ? tf.mul(variance, n / (n - 1)) : variance);
            return y;
          });
        }
      }
      return UnbiasedBatchNormalization;
    },
    { register: false },
  );
