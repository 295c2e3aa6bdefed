// Gradients of image resizing (ResizeNearestNeighborGrad, ResizeBilinearGrad) as
// the exact adjoints of the forward kernels: every output pixel hands its dy back
// to the input pixels it read, with the weights it read them with.
//
// tfjs 4.22's cpu kernels get this wrong: the nearest-neighbour one reads dy at
// the input's batch offset (wrong sums from the second image on) and the bilinear
// one labels its result with height and width swapped (an error on any
// non-square image). Both cpu kernels, and both wasm kernels, ignore
// halfPixelCenters. The cpu kernels are replaced; wasm's are kept where right.
// On webgpu both are wrong with half-pixel centres: there those gradients are
// made of two matrix products.
import type { TF, Tensor } from '../blocks/contract.js';
import { replaceWasmKernel, type KernelArgs, type TensorInfo, type WasmHeap } from './wasm-heap-kernels.js';
import { oncePerEngine } from './once.js';

export type ResizeMethod = 'nearest' | 'bilinear';

export interface ResizeAttrs {
  alignCorners: boolean;
  halfPixelCenters: boolean;
}

/** Along one axis, for each output index: the two input indices read and the weight of the second. */
interface AxisTaps {
  lo: Int32Array;
  hi: Int32Array;
  weight: Float64Array;
}

/**
 * Where each output index samples the input, by the rules of TensorFlow's
 * resize_bilinear / resize_nearest_neighbor that tfjs's forward kernels follow
 * (align corners: the corner pixels' centres coincide; half-pixel centres: pixel
 * i sits at i + 0.5). Nearest reads one pixel (weight 0 on the second).
 */
export function axisTaps(inSize: number, outSize: number, method: ResizeMethod, a: ResizeAttrs): AxisTaps {
  const aligned = a.alignCorners && outSize > 1;
  const ratio = (aligned ? inSize - 1 : inSize) / (aligned ? outSize - 1 : outSize);
  const lo = new Int32Array(outSize);
  const hi = new Int32Array(outSize);
  const weight = new Float64Array(outSize);
  for (let i = 0; i < outSize; i++) {
    if (method === 'nearest') {
      const at = a.halfPixelCenters ? ratio * (i + 0.5) : ratio * i;
      const nearest = Math.min(inSize - 1, a.alignCorners ? Math.round(at) : Math.floor(at));
      lo[i] = hi[i] = a.halfPixelCenters ? Math.max(0, nearest) : nearest;
    } else {
      const at = a.halfPixelCenters ? ratio * (i + 0.5) - 0.5 : ratio * i;
      lo[i] = Math.max(0, Math.floor(at));
      hi[i] = Math.min(inSize - 1, Math.ceil(at));
      weight[i] = at - lo[i];
    }
  }
  return { lo, hi, weight };
}

/** dx [B, H, W, C] of a resize from images of `imagesShape` given dy [B, H', W', C]. */
export function resizeGrad(dy: ArrayLike<number>, dyShape: number[], imagesShape: number[], method: ResizeMethod, a: ResizeAttrs): Float32Array {
  const [n, h, w, c] = imagesShape;
  const [, ho, wo] = dyShape;
  const rows = axisTaps(h, ho, method, a);
  const cols = axisTaps(w, wo, method, a);
  const dx = new Float64Array(n * h * w * c);
  let g = 0;
  for (let b = 0; b < n; b++) {
    const image = b * h;
    for (let i = 0; i < ho; i++) {
      const top = (image + rows.lo[i]) * w;
      const bottom = (image + rows.hi[i]) * w;
      const down = rows.weight[i];
      for (let j = 0; j < wo; j++) {
        const left = cols.lo[j];
        const right = cols.hi[j];
        const across = cols.weight[j];
        // The four corners read, with their weights; taps of weight 0 are left out (0 · ∞ would be NaN).
        const taps = [
          (top + left) * c,
          (1 - down) * (1 - across),
          (top + right) * c,
          (1 - down) * across,
          (bottom + left) * c,
          down * (1 - across),
          (bottom + right) * c,
          down * across,
        ];
        for (let t = 0; t < 8; t += 2) {
          const at = taps[t];
          const wt = taps[t + 1];
          if (wt !== 0) for (let d = 0; d < c; d++) dx[at + d] += wt * dy[g + d];
        }
        g += c;
      }
    }
  }
  return Float32Array.from(dx);
}

interface CpuBackend {
  data: { get(dataId: object): { values: ArrayLike<number> } };
  makeTensorInfo(shape: number[], dtype: string, values: Float32Array): TensorInfo;
}

const KERNELS: Record<ResizeMethod, string> = { nearest: 'ResizeNearestNeighborGrad', bilinear: 'ResizeBilinearGrad' };

/** Replaces the cpu backend's resize gradient kernels (once per tfjs instance). */
export const registerCpuResizeGrads = oncePerEngine((tf: TF): void => {
  for (const method of ['nearest', 'bilinear'] as const) {
    const kernelName = KERNELS[method];
    if (tf.getKernel(kernelName, 'cpu')) tf.unregisterKernel(kernelName, 'cpu');
    tf.registerKernel({
      kernelName,
      backendName: 'cpu',
      kernelFunc: (({ inputs, attrs, backend }: KernelArgs) => {
        const { images, dy } = inputs;
        const cpu = backend as CpuBackend;
        const dx = resizeGrad(cpu.data.get(dy.dataId).values, dy.shape, images.shape, method, attrs as unknown as ResizeAttrs);
        return cpu.makeTensorInfo(images.shape, 'float32', dx);
      }) as never,
    });
  }
});

/** On the wasm backend, takes over the resize gradients with half-pixel centres, which wasm's own kernels ignore. */
export function registerWasmResizeGrads(tf: TF): void {
  for (const method of ['nearest', 'bilinear'] as const) {
    replaceWasmKernel(tf, KERNELS[method], (args, stock) => {
      const a = args.attrs as unknown as ResizeAttrs;
      if (!a.halfPixelCenters) return stock(args);
      const { images, dy } = args.inputs;
      const heap = args.backend as WasmHeap;
      const dx = resizeGrad(heap.typedArrayFromHeap(dy), dy.shape, images.shape, method, a);
      const out = heap.makeOutput(images.shape, 'float32');
      heap.typedArrayFromHeap(out).set(dx);
      return out;
    });
  }
}

/** The resize along one axis as a matrix [out, in]: row i holds the weights output i reads the input with. */
function axisMatrix(taps: AxisTaps, inSize: number): Float32Array {
  const m = new Float32Array(taps.lo.length * inSize);
  taps.lo.forEach((lo, i) => {
    m[i * inSize + lo] += 1 - taps.weight[i];
    m[i * inSize + taps.hi[i]] += taps.weight[i];
  });
  return m;
}

/**
 * dx of a resize made of tensor ops, for backends whose kernel is wrong: a resize
 * is separable, out = Aᵣ · x · Aᶜᵀ per image and channel, so dx = Aᵣᵀ · dy · Aᶜ.
 */
function resizeGradByMatrices(tf: TF, dy: Tensor, imagesShape: number[], method: ResizeMethod, a: ResizeAttrs): Tensor {
  const [n, h, w, c] = imagesShape;
  const [, ho, wo] = dy.shape;
  const rows = tf.tensor2d(axisMatrix(axisTaps(h, ho, method, a), h), [ho, h]);
  const cols = tf.tensor2d(axisMatrix(axisTaps(w, wo, method, a), w), [wo, w]);
  const perChannel = tf.transpose(dy, [0, 3, 1, 2]).reshape([n * c, ho, wo]);
  const dx = tf.matMul(tf.matMul(rows, perChannel, true), cols);
  return tf.transpose(dx.reshape([n, c, h, w]), [0, 2, 3, 1]);
}

/**
 * tfjs-backend-webgpu 4.22's resize gradients are wrong with half-pixel centres
 * (bilinear upsampling, nearest downsampling: off by half the values and more);
 * on webgpu those are computed by resizeGradByMatrices instead. Every other
 * case keeps tfjs's gradient.
 */
export const registerWebgpuResizeGrads = oncePerEngine((tf: TF): void => {
  for (const [kernelName, method] of [
    ['ResizeBilinear', 'bilinear'],
    ['ResizeNearestNeighbor', 'nearest'],
  ] as const) {
    const stock = tf.getGradient(kernelName);
    if (!stock) throw new Error(`tfjs registers no ${kernelName} gradient to extend`);
    tf.registerGradient({
      kernelName,
      inputsToSave: ['images'],
      gradFunc: (dy, saved, attrs) => {
        const a = attrs as unknown as ResizeAttrs;
        if (tf.getBackend() !== 'webgpu' || !a.halfPixelCenters) return stock.gradFunc(dy, saved, attrs);
        const [images] = saved;
        return { images: () => resizeGradByMatrices(tf, dy as Tensor, images.shape, method, a) };
      },
    });
  }
});
