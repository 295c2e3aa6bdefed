// Max over the last axis on the wasm heap in wasm SIMD (CBAM's channel max,
// [N, H, W, C] to [N, H, W, 1]): wasm's own Max takes about 1.2 ms for
// [64, 28, 28, 16], this about 0.1. The cpu backend keeps the first maximum
// in order and lets any NaN win; SIMD takes the maximum four lanes at a time,
// the same value wherever it is unique in bits. Rows whose maximum is zero
// (+0 and -0 compare equal: which one the cpu backend keeps depends on the
// order) and tensors with a NaN take the cpu backend's loop, so the values
// are its own to the bit.
import type { TF } from '../blocks/contract.js';
import { I32, onWasmHeap, op, V128, type AsmFunction } from './wasm-asm.js';
import { replaceWasmKernel, type TensorInfo, type WasmHeap } from './wasm-heap-kernels.js';

const { get, set, tee } = op;

/** Params x, y, rows, rowBytes (a multiple of 16): y[r] = the maximum of row r; returns 1 where x holds a NaN. */
const maxRowsSimd: AsmFunction = (() => {
  const [x, y, rows, rowBytes] = [0, 1, 2, 3];
  const [p, rowEnd, acc, v, nan] = [4, 5, 6, 7, 8];
  return {
    name: 'maxRows',
    params: [I32, I32, I32, I32],
    results: [I32],
    locals: [I32, I32, V128, V128, V128],
    body: [
      [get(x), set(p)],
      op.loop, // rows
      [get(p), get(rowBytes), op.i32Add, set(rowEnd)],
      [get(p), op.load(), tee(acc), get(acc), op.f32x4Ne, get(nan), op.or, set(nan)],
      [get(p), op.i32(16), op.i32Add, set(p)],
      op.block,
      [get(p), get(rowEnd), op.i32LtU, op.i32Eqz, op.brIf(0)], // a row of four values
      op.loop,
      [get(p), op.load(), set(v), get(v), get(v), op.f32x4Ne, get(nan), op.or, set(nan)],
      [get(acc), get(v), op.f32x4Pmax, set(acc)],
      [get(p), op.i32(16), op.i32Add, tee(p), get(rowEnd), op.i32LtU, op.brIf(0)],
      op.end,
      op.end,
      // Across the lanes: lanes 0 and 2, 1 and 3, then the two.
      [get(y), get(acc), get(acc), get(acc), op.highToLow, op.f32x4Pmax, tee(acc), get(acc), get(acc), op.oddToEven, op.f32x4Pmax],
      [op.f32x4ExtractLane0, op.f32Store()],
      [get(y), op.i32(4), op.i32Add, set(y)],
      [get(rows), op.i32(1), op.i32Sub, tee(rows), op.brIf(0)],
      op.end,
      [get(nan), op.anyTrue],
    ],
  };
})();

const maxKernels = onWasmHeap<{ maxRows(x: number, y: number, rows: number, rowBytes: number): number }>(() => [maxRowsSimd]);

/** The cpu backend's max of x[at .. at + n): the first maximum in order, NaN where one stands. */
function firstMax(x: Float32Array, at: number, n: number): number {
  let max = x[at];
  for (let j = at; j < at + n; j++) if (Number.isNaN(x[j]) || x[j] > max) max = x[j];
  return max;
}

function maxLast(heap: WasmHeap, xInfo: TensorInfo, keepDims: boolean): TensorInfo | undefined {
  const shape = xInfo.shape;
  const c = shape[shape.length - 1];
  const simd = maxKernels(heap);
  if (!simd) return undefined;
  const out = heap.makeOutput(keepDims ? [...shape.slice(0, -1), 1] : shape.slice(0, -1), 'float32');
  const [x, y] = [xInfo, out].map((t) => heap.typedArrayFromHeap(t));
  const sawNaN = simd.maxRows(x.byteOffset, y.byteOffset, y.length, 4 * c);
  for (let i = 0; i < y.length; i++) if (sawNaN || y[i] === 0) y[i] = firstMax(x, i * c, c);
  return out;
}

/** Replaces wasm's Max, for float32 reduced over its last axis alone of a multiple of 4, by maxLast. */
export function registerWasmMaxLast(tf: TF): void {
  replaceWasmKernel(tf, 'Max', (args, stock) => {
    const { x } = args.inputs;
    const { reductionIndices, keepDims } = args.attrs as { reductionIndices: number | number[]; keepDims: boolean };
    const axes = tf.util.parseAxisParam(reductionIndices, x.shape);
    const last = x.shape.length - 1;
    const fits = x.dtype === 'float32' && axes.length === 1 && axes[0] === last && x.shape[last] % 4 === 0 && !x.shape.includes(0);
    return (fits ? maxLast(args.backend as WasmHeap, x, keepDims) : undefined) ?? stock(args);
  });
}
