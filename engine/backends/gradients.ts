// Gradient functions that replace tfjs's own where those build large tensors
// in JavaScript, and that tfjs lacks. Gradients are registered for every
// backend; each replacement computes the same values, in the same order, as the
// one it replaces.
import type { TF, Tensor } from '../blocks/contract.js';
import { oncePerEngine } from './once.js';
import { EXTREMUM_GRAD, TILE_GRAD } from './wasm-heap-kernels.js';
import { RELU_GRAD } from './wasm-relu-grad.js';

/**
 * Mean's gradient: dy spread over the reduced axes and divided by their size.
 * tfjs 4.22 spreads it by multiplying with `ones(x.shape)`, an array filled in
 * JavaScript on every step (about 9 ms for the bench net's Squeeze-and-
 * Excitation pooling on wasm), then divides the full-size product. Here dy is
 * divided first, at its own size, and then spread (one Tile): the same values,
 * since dy · 1 is dy exactly, in one full-size pass instead of three.
 */
export const registerFastGradients = oncePerEngine((tf: TF): void => {
  registerTileGradient(tf);
  registerReluGradient(tf);
  for (const kernelName of ['Max', 'Min']) registerExtremumGradient(tf, kernelName);
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
          return tf.broadcastTo(tf.div(tf.reshape(dy as Tensor, expanded), reduceSize), x.shape);
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

/**
 * Tile's gradient in one kernel where the backend has one (wasm: TileGrad, the
 * same float32 additions in the same order), tfjs's own elsewhere: that one
 * adds one slice of dy per replica, each a kernel call.
 */
const registerTileGradient = (tf: TF) => registerOneKernelGradient(tf, 'Tile', TILE_GRAD, (dy) => ({ dy }));

/**
 * Relu's gradient in one pass where the backend has the kernel (wasm: ReluGrad,
 * dy · step(x) exactly as tfjs's Step, Cast and Mul give it), tfjs's own elsewhere.
 */
const registerReluGradient = (tf: TF) => registerOneKernelGradient(tf, 'Relu', RELU_GRAD, (dy, [x]) => ({ dy, x }));

/** kernelName's gradient (of its one input, x) as gradKernel where the backend has it and x is float32, tfjs's own elsewhere. */
function registerOneKernelGradient(tf: TF, kernelName: string, gradKernel: string, inputs: (dy: Tensor, saved: Tensor[]) => Record<string, Tensor>): void {
  const stock = tf.getGradient(kernelName);
  if (!stock) throw new Error(`tfjs has no ${kernelName} gradient to replace`);
  tf.registerGradient({
    ...stock,
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      if (!tf.getKernel(gradKernel, tf.getBackend()) || x.dtype !== 'float32' || x.size === 0) return stock.gradFunc(dy, saved, attrs);
      return { x: () => tf.engine().runKernel(gradKernel, inputs(dy as Tensor, saved), attrs as never) as Tensor };
    },
  });
}

/**
 * Max's and Min's gradient in one kernel where the backend has one (wasm:
 * ExtremumGrad, dy · (x == y) exactly as tfjs's Equal, Cast and Mul give it),
 * tfjs's own elsewhere.
 */
function registerExtremumGradient(tf: TF, kernelName: string): void {
  const stock = tf.getGradient(kernelName);
  if (!stock) throw new Error(`tfjs has no ${kernelName} gradient to replace`);
  tf.registerGradient({
    ...stock,
    gradFunc: (dy, saved, attrs) => {
      const [x, y] = saved;
      const d = dy as Tensor;
      if (!tf.getKernel(EXTREMUM_GRAD, tf.getBackend()) || x.dtype !== 'float32' || d.dtype !== 'float32' || x.size === 0)
        return stock.gradFunc(dy, saved, attrs);
      const a = attrs as { reductionIndices?: number | number[]; axis?: number | number[] };
      // Max names its axes reductionIndices, Min axis; none given is every axis.
      const axes = tf.util.parseAxisParam((kernelName === 'Max' ? a.reductionIndices : a.axis) as number[], x.shape);
      const kept = x.shape.map((s, i) => (axes.includes(i) ? 1 : s));
      return { x: () => tf.engine().runKernel(EXTREMUM_GRAD, { dy: d.reshape(kept), x, y: y.reshape(kept) }, {}) as Tensor };
    },
  });
}
