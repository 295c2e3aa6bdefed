// Training kernels for the wasm backend. tfjs-backend-wasm 4.22 registers no
// Conv2DBackpropFilter, DepthwiseConv2dNative backprop or UnsortedSegmentSum, so
// no convolution or embedding can train on it, and its Conv2DBackpropInput is a
// naive loop (about 9x the forward convolution). Each kernel here is written with
// wasm ops that run in XNNPACK or SIMD code (the convolution gradients in conv-grads).
import type { TF, Tensor } from '../blocks/contract.js';
import {
  registerWasmHeapKernels,
  replaceWasmKernel,
  WASM_HEAP_KERNELS,
  type KernelArgs,
  type StockKernel,
  type TensorInfo,
  type WasmHeap,
} from './wasm-heap-kernels.js';
import { batchMatMulOnHeap, takesBatchMatMul, takesSmallMatMul } from './wasm-batch-matmul.js';
import { registerXnnMatMulGuard } from './wasm-xnn-matmul.js';
import { registerFastGradients } from './gradients.js';
import { registerLeanTape } from './lean-tape.js';
import { BATCH_NORM_GRADS, registerWasmBatchNorm } from './wasm-batch-norm.js';
import { registerWasmResizeGrads } from './resize-grads.js';
import { registerWasmReverse } from './wasm-reverse.js';
import { registerWasmMax } from './wasm-max.js';
import { FLIP_FILTER, registerWasmFlipFilter } from './wasm-flip-filter.js';
import { oncePerEngine } from './once.js';
import { conv2dFilterGradOnHeap, filterGradKernel } from './wasm-filter-grad.js';
import { conv2dOnHeap, convKernel, convOnHeapPays } from './wasm-conv.js';
import {
  conv2dFilterGrad,
  conv2dFilterGradByMatMul,
  conv2dInputGrad,
  depthwiseFilterGrad,
  depthwiseInputGrad,
  geometry,
  type Pad,
  type Rounding,
  type T4,
} from './conv-grads.js';

/** Sum of data rows per segment id, by scatter-add; ids outside [0, numSegments) are dropped, as in TensorFlow. */
function unsortedSegmentSum(tf: TF, data: Tensor, ids: Tensor, numSegments: number): Tensor {
  const n = ids.size;
  const rest = data.shape.slice(ids.rank);
  const flatIds = ids.reshape([n]).toInt();
  const valid = tf.logicalAnd(tf.greaterEqual(flatIds, 0), tf.less(flatIds, numSegments));
  const rows = data.reshape([n, ...rest]);
  const kept = tf.where(valid.reshape([n, ...rest.map(() => 1)]), rows, tf.zerosLike(rows));
  const safeIds = tf.where(valid, flatIds, tf.zerosLike(flatIds));
  return tf.scatterND(safeIds.expandDims(1), kept, [numSegments, ...rest]);
}

/**
 * Whether a stride-1 filter gradient runs faster as im2col rows times dy than
 * as a convolution, where the heap kernel (wasm-filter-grad) is not to be had;
 * that one beats both (CPU ms, batch 64, a new dy each call as in training:
 * 3x3x1 to 16: 1.4 against the product's 5.4, where XNNPACK repacks dy every
 * call; 3x3x4 to 16: 1.6 against 6.0). From CPU times on wasm (ms, conv /
 * matmul, batch 32): a single input channel goes to the product from 4 filters
 * up (3x3x1 to 8: 1.31 / 0.54, 3x3x1 to 4: 0.76 / 0.46; 3x3x1 to 16 at batch
 * 64: 8.9 / 1.2), more channels while the rows are at most 2.5 per filter
 * (3x3x4 to 16: 0.89 / 0.78; 3x3x3 to 8: 1.7 / 2.0, 3x3x8 to 16: 1.07 / 1.33,
 * 7x7x2 to 1: 0.45 / 1.5, 3x3x16 to 32 at batch 64: 7.0 / 7.8).
 */
function filterGradByMatMul(c: { filterHeight: number; filterWidth: number; inChannels: number; outChannels: number }): boolean {
  if (c.inChannels === 1) return c.outChannels >= 4;
  return c.filterHeight * c.filterWidth * c.inChannels <= 2.5 * c.outChannels;
}

const nchw = (tf: TF, t: Tensor) => tf.transpose(t, [0, 2, 3, 1]) as T4;
const toNchw = (tf: TF, t: Tensor) => tf.transpose(t, [0, 3, 1, 2]) as T4;

/**
 * Registers the training kernels on tfjs's wasm backend (once per tfjs instance).
 * Call after the wasm backend is registered; replaces wasm's own slow
 * Conv2DBackpropInput, and its MaxPoolGrad, Sum and Identity (wasm-heap-kernels), its
 * resize gradients where they ignore half-pixel centres (resize-grads), and its Reverse.
 */
export const registerWasmKernels = oncePerEngine((tf: TF): void => {
  // Kernel inputs are tensors when they come from ops; wrap a bare TensorInfo so the ops below accept it.
  const asTensor = (t: TensorInfo): T4 => (t instanceof tf.Tensor ? t : tf.engine().makeTensorFromTensorInfo(t as never)) as T4;
  const kernel = (name: string, fn: (inputs: Record<string, T4>, attrs: Record<string, unknown>) => Tensor) => {
    if (tf.getKernel(name, 'wasm')) tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({
      kernelName: name,
      backendName: 'wasm',
      kernelFunc: (({ inputs, attrs }: KernelArgs) =>
        tf.tidy(() => {
          const ts: Record<string, T4> = {};
          for (const [k, v] of Object.entries(inputs)) ts[k] = asTensor(v);
          return fn(ts, attrs ?? {});
        })) as never,
    });
  };
  // The conv kernels work in NHWC; NCHW callers get transposes around them.
  const inFormat = (attrs: Record<string, unknown>, t: T4) => (attrs.dataFormat === 'NCHW' ? nchw(tf, t) : t);
  const outFormat = (attrs: Record<string, unknown>, t: T4) => (attrs.dataFormat === 'NCHW' ? toNchw(tf, t) : t);
  const shapeNhwc = (attrs: Record<string, unknown>, s: number[]) => (attrs.dataFormat === 'NCHW' ? [s[0], s[2], s[3], s[1]] : s);
  const convAttrs = (attrs: Record<string, unknown>) => attrs as { strides: unknown; dilations?: unknown; pad: Pad; dimRoundingMode?: Rounding };

  kernel('Conv2DBackpropFilter', ({ x, dy }, attrs) => {
    const xs = inFormat(attrs, x);
    const c = geometry(tf, xs.shape, attrs.filterShape as number[], convAttrs(attrs), false);
    const stride1 = c.strideHeight === 1 && c.strideWidth === 1;
    const g = inFormat(attrs, dy);
    const onHeap = xs.dtype === 'float32' && g.dtype === 'float32' && c.outChannels % 4 === 0 ? filterGradKernel(tf.backend()) : null;
    if (onHeap) return tf.engine().makeTensorFromTensorInfo(conv2dFilterGradOnHeap(tf.backend() as never, onHeap, xs, g, c) as never) as T4;
    return (stride1 && filterGradByMatMul(c) ? conv2dFilterGradByMatMul : conv2dFilterGrad)(tf, xs, g, c);
  });
  kernel('Conv2DBackpropInput', ({ dy, filter }, attrs) => {
    const c = geometry(tf, shapeNhwc(attrs, attrs.inputShape as number[]), filter.shape, convAttrs(attrs), false);
    return outFormat(attrs, conv2dInputGrad(tf, inFormat(attrs, dy), filter, c));
  });
  kernel('DepthwiseConv2dNativeBackpropFilter', ({ x, dy }, attrs) =>
    depthwiseFilterGrad(tf, x, dy, geometry(tf, x.shape, attrs.filterShape as number[], convAttrs(attrs), true)),
  );
  kernel('DepthwiseConv2dNativeBackpropInput', ({ dy, filter }, attrs) =>
    depthwiseInputGrad(tf, dy, filter, geometry(tf, attrs.inputShape as number[], filter.shape, convAttrs(attrs), true)),
  );
  kernel('UnsortedSegmentSum', ({ x, segmentIds }, attrs) => unsortedSegmentSum(tf, x, segmentIds, attrs.numSegments as number));
  registerXnnMatMulGuard(tf);
  // A dense layer's gradients are products with a transposed operand, for which wasm's
  // BatchMatMul takes a path about 6x slower than transposing first and multiplying plainly.
  // Products with a batch (attention's), and small ones, go to the heap loop, transposed or not.
  replaceWasmKernel(tf, 'BatchMatMul', (args, stock) => {
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    const { a, b } = args.inputs;
    if (takesBatchMatMul(a, b) || takesSmallMatMul(a, b, transposeA, transposeB))
      return batchMatMulOnHeap(args.backend as WasmHeap, a, b, transposeA, transposeB);
    if (!transposeA && !transposeB) return stock(args);
    return tf.tidy(() => {
      const plain = (t: TensorInfo, transposed: boolean) => {
        const r = t.shape.length;
        return transposed ? tf.transpose(asTensor(t), [...t.shape.slice(0, -2).map((_, i) => i), r - 1, r - 2]) : asTensor(t);
      };
      return tf.matMul(plain(args.inputs.a, transposeA), plain(args.inputs.b, transposeB));
    });
  });
  // Stride-1 convolutions (the input gradients' and most forward ones) on the heap where that beats XNNPACK;
  // a fused one only without bias or activation.
  const convOnHeap = (args: KernelArgs, stock: StockKernel) => {
    const { x, filter, bias, preluActivationWeights } = args.inputs;
    const a = args.attrs as { strides: unknown; dilations?: unknown; pad: Pad; dimRoundingMode?: Rounding; dataFormat?: string; activation?: string };
    const plain = !bias && !preluActivationWeights && (a.activation ?? 'linear') === 'linear';
    if (!plain || a.dataFormat === 'NCHW' || x.dtype !== 'float32' || filter.dtype !== 'float32' || filter.shape[3] % 4) return stock(args);
    const c = geometry(tf, x.shape, filter.shape, a, false);
    if (c.strideHeight !== 1 || c.strideWidth !== 1 || c.dilationHeight !== 1 || c.dilationWidth !== 1 || !convOnHeapPays(c)) return stock(args);
    const row = convKernel(args.backend, c.inChannels);
    return row ? conv2dOnHeap(args.backend as WasmHeap, row, x, filter, c) : stock(args);
  };
  replaceWasmKernel(tf, 'Conv2D', convOnHeap);
  replaceWasmKernel(tf, 'FusedConv2D', convOnHeap);
  registerWasmHeapKernels(tf);
  registerWasmBatchNorm(tf);
  registerWasmResizeGrads(tf);
  registerWasmReverse(tf);
  registerWasmMax(tf);
  registerWasmFlipFilter(tf);
  registerFastGradients(tf);
  registerLeanTape(tf);
});

export const WASM_TRAINING_KERNELS = [
  'Conv2DBackpropFilter',
  'Conv2DBackpropInput',
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
  'UnsortedSegmentSum',
  'BatchMatMul',
  '_FusedMatMul',
  ...WASM_HEAP_KERNELS,
  'FusedBatchNorm',
  BATCH_NORM_GRADS,
  'Reverse',
  FLIP_FILTER,
] as const;
