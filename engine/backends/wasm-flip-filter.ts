// The turned filter of a convolution's input gradient, on the wasm heap in one
// pass: the taps of one phase (every stride-th from a first one), in reverse
// order, with the channel axes swapped. As ops that is a StridedSlice, a Reverse
// and a Transpose, three kernel calls per convolution per step, wasm's
// StridedSlice taking a slow general path (0.4 ms for a 3x3x64x64 filter's
// taps). The same values, copied.
import type { TF } from '../blocks/contract.js';
import type { KernelArgs, TensorInfo, WasmHeap } from './wasm-heap-kernels.js';

/** Kernel name of flipFilter on the wasm backend (inputs { filter } [kh, kw, ci, co], attrs FlipFilterAttrs). */
export const FLIP_FILTER = 'FlipFilter';

/** Which taps: rows phaseHeight, phaseHeight + strideHeight, ... (likewise columns); 0 and 1 for the whole filter. */
export interface FlipFilterAttrs {
  phaseHeight: number;
  phaseWidth: number;
  strideHeight: number;
  strideWidth: number;
}

/** Taps along one axis of `size` from `phase` every `stride`. */
const tapsOf = (size: number, phase: number, stride: number) => Math.max(0, Math.ceil((size - phase) / stride));

/**
 * out[a][b][o][i] = filter[ph + (th - 1 - a)·sh][pw + (tw - 1 - b)·sw][i][o]:
 * tf.transpose(tf.reverse(tf.stridedSlice(filter, [ph, pw, 0, 0], [kh, kw, ci, co], [sh, sw, 1, 1]), [0, 1]), [0, 1, 3, 2]).
 */
function flipFilter(heap: WasmHeap, fInfo: TensorInfo, g: FlipFilterAttrs): TensorInfo {
  const [kh, kw, ci, co] = fInfo.shape;
  const th = tapsOf(kh, g.phaseHeight, g.strideHeight);
  const tw = tapsOf(kw, g.phaseWidth, g.strideWidth);
  const out = heap.makeOutput([th, tw, co, ci], 'float32');
  const to = heap.typedArrayFromHeap(out);
  const f = heap.typedArrayFromHeap(fInfo);
  const tap = ci * co;
  for (let a = 0; a < th; a++) {
    for (let b = 0; b < tw; b++) {
      const from = ((g.phaseHeight + (th - 1 - a) * g.strideHeight) * kw + g.phaseWidth + (tw - 1 - b) * g.strideWidth) * tap;
      const at = (a * tw + b) * tap;
      for (let i = 0; i < ci; i++) for (let o = 0, src = from + i * co; o < co; o++) to[at + o * ci + i] = f[src + o];
    }
  }
  return out;
}

/** Registers FlipFilter on tfjs's wasm backend. */
export function registerWasmFlipFilter(tf: TF): void {
  if (tf.getKernel(FLIP_FILTER, 'wasm')) return;
  tf.registerKernel({
    kernelName: FLIP_FILTER,
    backendName: 'wasm',
    kernelFunc: (({ inputs, attrs, backend }: KernelArgs) => flipFilter(backend as WasmHeap, inputs.filter, attrs as unknown as FlipFilterAttrs)) as never,
  });
}
