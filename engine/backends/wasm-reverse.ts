// Reverse on the wasm heap. wasm's own kernel finds each element's source index
// through its coordinates, about 30 ns a value: 1.1 ms for a 3x3x64x64 filter,
// which the convolutions' input gradients turn 180° once each per step (some
// 10 ms a step for ResNet-20's). Here the axes after the last reversed one are
// copied as whole runs, native copies of the same values.
import type { TF } from '../blocks/contract.js';
import { replaceWasmKernel, type TensorInfo, type WasmHeap } from './wasm-heap-kernels.js';

const REVERSIBLE = ['float32', 'int32', 'bool'];
/** Runs shorter than this are copied value by value: a native copy's call costs more than a few values. */
const SHORT_RUN = 16;

/** x with the given axes reversed, each run of the trailing unreversed axes one copy. */
function reverse(heap: WasmHeap, xInfo: TensorInfo, axes: number[]): TensorInfo {
  const shape = xInfo.shape;
  const out = heap.makeOutput(shape, xInfo.dtype);
  const last = Math.max(...axes);
  const run = shape.slice(last + 1).reduce((a, b) => a * b, 1);
  const outer = shape.slice(0, last + 1);
  const flipped = outer.map((_, i) => axes.includes(i));
  const to = heap.typedArrayFromHeap(out);
  const from = heap.typedArrayFromHeap(xInfo);
  const count = outer.reduce((a, b) => a * b, 1);
  const at = outer.map(() => 0);
  for (let r = 0; r < count; r++) {
    let src = 0;
    for (let i = 0; i < outer.length; i++) src = src * outer[i] + (flipped[i] ? outer[i] - 1 - at[i] : at[i]);
    if (run >= SHORT_RUN) to.set(from.subarray(src * run, (src + 1) * run), r * run);
    else for (let k = 0; k < run; k++) to[r * run + k] = from[src * run + k];
    for (let i = outer.length - 1; i >= 0 && ++at[i] === outer[i]; i--) at[i] = 0;
  }
  return out;
}

/** Replaces wasm's Reverse by the heap copy for numeric tensors. */
export function registerWasmReverse(tf: TF): void {
  replaceWasmKernel(tf, 'Reverse', (args, stock) => {
    const { x } = args.inputs;
    const axes = tf.util.parseAxisParam((args.attrs as { dims: number | number[] }).dims, x.shape).filter((a) => x.shape[a] > 1);
    if (!REVERSIBLE.includes(x.dtype) || x.shape.includes(0) || axes.length === 0) return stock(args);
    return reverse(args.backend as WasmHeap, x, axes);
  });
}
