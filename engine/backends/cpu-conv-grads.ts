// The 2-D convolution's filter gradient for tfjs's pure-JS cpu backend.
// tfjs-backend-cpu 4.22 reads every x and dy element of Conv2DBackpropFilter
// through TensorBuffer.get (an argument list and an index computation per read),
// which made it about 87% of a residual CNN's training step on cpu. This kernel
// reads the flat typed arrays instead. Each filter element is the same sum, in the
// same order (batch, output row, output column) and in doubles, as tfjs's, so the
// results are identical to the bit; only the loops around the sums are reordered,
// so that the innermost one walks dy's channels contiguously.
// tfjs's Conv2DBackpropInput already reads flat arrays and is left as it is.
import type { TF } from '../blocks/contract.js';
import { oncePerEngine } from './once.js';
import type { KernelArgs, StockKernel, TensorInfo } from './wasm-heap-kernels.js';

interface CpuBackend {
  data: { get(dataId: object): { values: ArrayLike<number> } };
  makeTensorInfo(shape: number[], dtype: string, values: Float32Array): TensorInfo;
}

type ConvInfo = ReturnType<TF['backend_util']['computeConv2DInfo']>;

interface FilterGradAttrs {
  strides: number | [number, number];
  pad: 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

export const CPU_CONV_GRAD_KERNELS = ['Conv2DBackpropFilter'] as const;

const stockKernels = new WeakMap<object, Map<string, StockKernel>>();

/** tfjs's own cpu kernel that `registerCpuConvGrads` replaced (the fallback, and the reference in tests). */
export function stockCpuKernel(tf: TF, name: (typeof CPU_CONV_GRAD_KERNELS)[number]): StockKernel {
  const stock = stockKernels.get(tf.engine())?.get(name);
  if (!stock) throw new Error(`the cpu backend's ${name} has not been replaced on this tfjs instance`);
  return stock;
}

/** dW[wR, wC, d1, d2] = Σ over (b, yR, yC) of x[b, xR, xC, d1] · dy[b, yR, yC, d2], NHWC, no dilation (as tfjs's cpu kernel). */
function conv2dFilterGradNhwc(x: ArrayLike<number>, dy: ArrayLike<number>, c: ConvInfo): Float32Array {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, strideHeight, strideWidth } = c;
  const { top, left } = c.padInfo;
  const tapSize = inChannels * outChannels;
  const dW = new Float32Array(c.filterHeight * c.filterWidth * tapSize);
  const sums = new Float64Array(tapSize);
  for (let wR = 0; wR < c.filterHeight; ++wR) {
    // The bounds as tfjs computes them (the upper one need not be an integer).
    const yRMin = Math.max(0, Math.ceil((top - wR) / strideHeight));
    const yRMax = Math.min(outHeight, (inHeight + top - wR) / strideHeight);
    for (let wC = 0; wC < c.filterWidth; ++wC) {
      const yCMin = Math.max(0, Math.ceil((left - wC) / strideWidth));
      const yCMax = Math.min(outWidth, (inWidth + left - wC) / strideWidth);
      sums.fill(0);
      for (let b = 0; b < batchSize; ++b) {
        for (let yR = yRMin; yR < yRMax; ++yR) {
          const xR = wR + yR * strideHeight - top;
          for (let yC = yCMin; yC < yCMax; ++yC) {
            const xC = wC + yC * strideWidth - left;
            const xAt = ((b * inHeight + xR) * inWidth + xC) * inChannels;
            const dyAt = ((b * outHeight + yR) * outWidth + yC) * outChannels;
            for (let d1 = 0; d1 < inChannels; ++d1) {
              const xv = x[xAt + d1];
              const row = d1 * outChannels;
              for (let d2 = 0; d2 < outChannels; ++d2) sums[row + d2] += xv * dy[dyAt + d2];
            }
          }
        }
      }
      dW.set(sums, (wR * c.filterWidth + wC) * tapSize);
    }
  }
  return dW;
}

/** Registers the flat-array Conv2DBackpropFilter on tfjs's cpu backend (once per tfjs instance); NCHW goes to tfjs's own. */
export const registerCpuConvGrads = oncePerEngine((tf: TF): void => {
  const name = 'Conv2DBackpropFilter';
  const stock = tf.getKernel(name, 'cpu');
  if (!stock) throw new Error(`the cpu backend has no ${name} kernel to replace`);
  const stockFunc = stock.kernelFunc as unknown as StockKernel;
  stockKernels.set(tf.engine(), new Map([[name, stockFunc]]));
  tf.unregisterKernel(name, 'cpu');
  tf.registerKernel({
    ...stock,
    kernelFunc: ((args: KernelArgs) => {
      const { x, dy } = args.inputs;
      const a = args.attrs as unknown as FilterGradAttrs;
      if ((a.dataFormat ?? 'NHWC') !== 'NHWC' || x.dtype !== 'float32' || dy.dtype !== 'float32') return stockFunc(args);
      const c = tf.backend_util.computeConv2DInfo(x.shape as FilterGradAttrs['filterShape'], a.filterShape, a.strides, 1, a.pad, a.dimRoundingMode);
      const cpu = args.backend as CpuBackend;
      const dW = conv2dFilterGradNhwc(cpu.data.get(x.dataId).values, cpu.data.get(dy.dataId).values, c);
      return cpu.makeTensorInfo(c.filterShape, 'float32', dW);
    }) as never,
  });
});
