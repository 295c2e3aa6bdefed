// Gradient functions that replace tfjs's own where those build large tensors
// in JavaScript, and that tfjs lacks. Gradients are registered for every
// backend; each replacement computes the same values, in the same order, as the
// one it replaces.
import type { TF, Tensor } from '../blocks/contract.js';
import { oncePerEngine } from './once.js';

/**
 * Mean's gradient: dy spread over the reduced axes and divided by their size.
 * tfjs 4.22 spreads it by multiplying with `ones(x.shape)`, an array filled in
 * JavaScript on every step (about 9 ms for the bench net's Squeeze-and-
 * Excitation pooling on wasm); `fill` makes the same ones in the backend.
 */
export const registerFastGradients = oncePerEngine((tf: TF): void => {
  tf.registerGradient({
    kernelName: 'Mean',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      const axes = tf.util.parseAxisParam((attrs as { axis: number | number[] }).axis, x.shape);
      const [, reduceShape] = tf.backend_util.computeOutAndReduceShapes(x.shape, axes);
      const reduceSize = tf.util.sizeFromShape(reduceShape);
      return {
        x: () => {
          const expanded = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
          return tf.div(tf.mul(tf.reshape(dy as Tensor, expanded), tf.fill(x.shape, 1, 'float32')), reduceSize);
        },
      };
    },
  });
});

/**
 * Comparisons are flat wherever they are differentiable: each operand gets a zero
 * gradient, as TensorFlow's NotDifferentiable means. tfjs 4.22 registers one for
 * GreaterEqual only, so a float input that reaches, say, a padding mask through
 * NotEqual stopped every gradient of the graph with "gradient function not found".
 */
const COMPARISONS = ['Equal', 'NotEqual', 'Greater', 'Less', 'LessEqual', 'GreaterEqual'];

export const registerComparisonGradients = oncePerEngine((tf: TF): void => {
  for (const kernelName of COMPARISONS) {
    if (tf.getGradient(kernelName)) continue;
    tf.registerGradient({
      kernelName,
      inputsToSave: ['a', 'b'],
      gradFunc: (_dy, [a, b]) => ({ a: () => tf.zeros(a.shape), b: () => tf.zeros(b.shape) }),
    });
  }
});
