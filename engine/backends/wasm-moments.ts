// A training batch norm's moments (mean and variance per channel) on the wasm
// heap, forward and backward each one kernel. tfjs's moments is four ops
// (Mean, Sub, Square, Mean: two of them full-size tensors kept for the
// gradient) and its gradient ten more (two Tiles, Multiplies, a Sum, Adds), all
// of a batch's size, for every BatchNormalization layer of a ResNet.
//
// The sums are in float64 and rounded once, where tfjs rounds every term to
// float32 (it divides each element by the count before adding): the values
// differ from the cpu backend's by float32 rounding, not more (see
// test/backends-wasm-fast-batch-norm). Off by default: measured alternating with
// the exact chain in one process (bench/zoo-ab), it did not lower a ResNet's CPU
// time per step. setWasmBatchNormPrecision('fast') turns it on.
import { createRequire } from 'node:module';
import type { TF, Tensor } from '../blocks/contract.js';
import { oncePerEngine } from './once.js';
import type { KernelArgs, TensorInfo, WasmHeap } from './wasm-heap-kernels.js';

/** Kernel name of the moments over all axes but the last (inputs { x }, attrs { keepDims }; outputs mean, variance). */
export const CHANNEL_MOMENTS = 'ChannelMoments';
/** Kernel name of their gradient (inputs { x, mean, dMean, dVariance }; output dx). */
export const CHANNEL_MOMENTS_GRAD = 'ChannelMomentsGrad';

/** Rows per block in the per-channel loops: a block of x stays in the first cache level while each channel's sums stay in locals. */
const BLOCK_VALUES = 2048;

export type BatchNormPrecision = 'fast' | 'exact';
let precision: BatchNormPrecision = 'exact';

/**
 * 'exact' (the default): tfjs's moments and the batch norm gradient of the cpu
 * backend's roundings, to the bit; 'fast': the moments above and a one-pass
 * batch norm gradient with two sums per channel, equal to the cpu backend's up
 * to float32 rounding. For tests and for timing one against the other.
 */
export function setWasmBatchNormPrecision(p: BatchNormPrecision): void {
  precision = p;
}

export function wasmBatchNormPrecision(): BatchNormPrecision {
  return precision;
}

/**
 * Per channel k of x seen as [rows, c]: Σ (x - centre[k])^power over the rows,
 * power 1 or 2, in float64, a block of rows at a time and channel by channel
 * within it (the running sum in a local while the block stays in cache).
 */
function channelSums(x: Float32Array, c: number, centre: Float32Array | null, power: 1 | 2): Float64Array {
  const sums = new Float64Array(c);
  const rows = x.length / c;
  const block = Math.max(1, Math.floor(BLOCK_VALUES / c));
  for (let first = 0; first < rows; first += block) {
    const end = Math.min(rows, first + block) * c;
    for (let k = 0; k < c; k++) {
      const at = centre ? centre[k] : 0;
      let a = sums[k];
      if (power === 2)
        for (let i = first * c + k; i < end; i += c) {
          const d = x[i] - at;
          a += d * d;
        }
      else for (let i = first * c + k; i < end; i += c) a += x[i] - at;
      sums[k] = a;
    }
  }
  return sums;
}

function channelMoments(heap: WasmHeap, xInfo: TensorInfo, keepDims: boolean): TensorInfo[] {
  const c = xInfo.shape[xInfo.shape.length - 1];
  const outShape = keepDims ? xInfo.shape.map((d, i) => (i === xInfo.shape.length - 1 ? d : 1)) : [c];
  const [meanOut, varianceOut] = [heap.makeOutput(outShape, 'float32'), heap.makeOutput(outShape, 'float32')];
  const x = heap.typedArrayFromHeap(xInfo);
  const count = x.length / c;
  const mean = heap.typedArrayFromHeap(meanOut);
  const total = channelSums(x, c, null, 1);
  for (let k = 0; k < c; k++) mean[k] = total[k] / count;
  // The deviations from the mean as float32 holds it, as tfjs's Sub takes them.
  const squares = channelSums(x, c, mean, 2);
  const variance = heap.typedArrayFromHeap(varianceOut);
  for (let k = 0; k < c; k++) variance[k] = squares[k] / count;
  return [meanOut, varianceOut];
}

/**
 * dx of mean = Σx/N and variance = Σ(x - mean)²/N, as tfjs's chain has it
 * (the mean's gradient also through the deviations):
 *   dx = a·d + (dMean - a·Σd)/N, with d = x - mean and a = 2·dVariance/N.
 */
function channelMomentsGrad(heap: WasmHeap, inputs: Record<string, TensorInfo>): TensorInfo {
  const out = heap.makeOutput(inputs.x.shape, 'float32');
  const dx = heap.typedArrayFromHeap(out);
  const x = heap.typedArrayFromHeap(inputs.x);
  const mean = heap.typedArrayFromHeap(inputs.mean);
  const dMean = heap.typedArrayFromHeap(inputs.dMean);
  const dVariance = heap.typedArrayFromHeap(inputs.dVariance);
  const c = mean.length;
  const count = x.length / c;
  const deviations = channelSums(x, c, mean, 1);
  const slope = new Float64Array(c);
  const offset = new Float64Array(c);
  for (let k = 0; k < c; k++) {
    slope[k] = (2 * dVariance[k]) / count;
    offset[k] = (dMean[k] - slope[k] * deviations[k]) / count - slope[k] * mean[k];
  }
  for (let i = 0; i < x.length; i += c) for (let k = 0; k < c; k++) dx[i + k] = slope[k] * x[i + k] + offset[k];
  return out;
}

type Moments = (x: Tensor, axis?: number | number[], keepDims?: boolean) => { mean: Tensor; variance: Tensor };

/**
 * Registers the two kernels on wasm, their gradient, and puts them under
 * tfjs-core's `moments` (which tfjs-layers' BatchNormalization calls in
 * training) for float32 input on wasm reduced over every axis but the last;
 * every other call goes to tfjs's own.
 */
export const registerWasmMoments = oncePerEngine((tf: TF): void => {
  for (const [kernelName, kernelFunc] of [
    [
      CHANNEL_MOMENTS,
      ({ inputs, attrs, backend }: KernelArgs) => channelMoments(backend as WasmHeap, inputs.x, Boolean((attrs as { keepDims?: boolean }).keepDims)),
    ],
    [CHANNEL_MOMENTS_GRAD, ({ inputs, backend }: KernelArgs) => channelMomentsGrad(backend as WasmHeap, inputs)],
  ] as const)
    if (!tf.getKernel(kernelName, 'wasm')) tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: kernelFunc as never });
  tf.registerGradient({
    kernelName: CHANNEL_MOMENTS,
    inputsToSave: ['x'],
    outputsToSave: [true, false],
    gradFunc: (dys, saved) => {
      const [dMean, dVariance] = dys as Tensor[];
      const [x, mean] = saved;
      const c = x.shape[x.rank - 1];
      const flat = (t: Tensor) => t.reshape([c]);
      return { x: () => tf.engine().runKernel(CHANNEL_MOMENTS_GRAD, { x, mean: flat(mean), dMean: flat(dMean), dVariance: flat(dVariance) }) as Tensor };
    },
  });

  // tfjs-layers calls moments through tfjs-core's CommonJS exports, the one place it can be swapped.
  const core = createRequire(import.meta.url)('@tensorflow/tfjs-core') as { moments: Moments };
  const stock = core.moments;
  core.moments = (x, axis, keepDims = false) => {
    if (precision !== 'fast' || tf.getBackend() !== 'wasm' || !(x instanceof tf.Tensor) || x.dtype !== 'float32' || x.rank < 2 || x.size === 0)
      return stock(x, axis, keepDims);
    const axes = tf.util.parseAxisParam(axis ?? x.shape.map((_, i) => i), x.shape);
    const leading = axes.length === x.rank - 1 && [...axes].sort((a, b) => a - b).every((a, i) => a === i);
    if (!leading) return stock(x, axis, keepDims);
    const [mean, variance] = tf.engine().runKernel(CHANNEL_MOMENTS, { x }, { keepDims } as never) as unknown as Tensor[];
    return { mean, variance };
  };
});
