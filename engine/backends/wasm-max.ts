// Max over contiguous axes on the wasm heap in wasm SIMD: over the last axis
// (CBAM's channel max, [N, H, W, C] to [N, H, W, 1]; wasm's own takes 1.7 ms
// for [64, 28, 28, 16], this 0.34) or over middle ones (its global max pooling,
// [N, H, W, C] to [N, 1, 1, C], which wasm transposes first). The cpu backend
// keeps the first maximum in order and lets any NaN win. Down the rows, pmax
// keeps the earlier of equal values as it does; across the lanes of a row it
// may not, which matters only for a zero maximum (+0 and -0 compare equal):
// such rows, and tensors with a NaN, take the cpu backend's loop, so the
// values are its own to the bit.
import type { TF } from '../blocks/contract.js';
import { I32, onWasmHeap, op, V128, type AsmFunction, type Code } from './wasm-asm.js';
import { replaceWasmKernel, splitAxes, type TensorInfo, type WasmHeap } from './wasm-heap-kernels.js';

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

/**
 * Params x, y, outer, mid, innerBytes (a multiple of 16): y[o, :] = the
 * maximum of x[o, m, :] over m, row after row (y holds the running maximum);
 * returns 1 where x holds a NaN.
 */
const maxColumnsSimd: AsmFunction = (() => {
  const [x, y, outer, mid, innerBytes] = [0, 1, 2, 3, 4];
  const [p, q, rowY, rowEnd, m, v, nan] = [5, 6, 7, 8, 9, 10, 11];
  const row = (update: Code[]) => [
    [get(rowY), set(q), get(p), get(innerBytes), op.i32Add, set(rowEnd)],
    op.loop,
    [get(p), op.load(), set(v), get(v), get(v), op.f32x4Ne, get(nan), op.or, set(nan)],
    [get(q), ...update, op.store()],
    [get(q), op.i32(16), op.i32Add, set(q)],
    [get(p), op.i32(16), op.i32Add, tee(p), get(rowEnd), op.i32LtU, op.brIf(0)],
    op.end,
  ];
  return {
    name: 'maxColumns',
    params: [I32, I32, I32, I32, I32],
    results: [I32],
    locals: [I32, I32, I32, I32, I32, V128, V128],
    body: [
      [get(x), set(p), get(y), set(rowY)],
      op.loop, // outer
      row([get(v)]), // the first row as it is
      [get(mid), op.i32(1), op.i32Sub, set(m)],
      op.block,
      [get(m), op.i32Eqz, op.brIf(0)],
      op.loop, // the other rows
      row([get(q), op.load(), get(v), op.f32x4Pmax]),
      [get(m), op.i32(1), op.i32Sub, tee(m), op.brIf(0)],
      op.end,
      op.end,
      [get(rowY), get(innerBytes), op.i32Add, set(rowY)],
      [get(outer), op.i32(1), op.i32Sub, tee(outer), op.brIf(0)],
      op.end,
      [get(nan), op.anyTrue],
    ],
  };
})();

const maxKernels = onWasmHeap<{
  maxRows(x: number, y: number, rows: number, rowBytes: number): number;
  maxColumns(x: number, y: number, outer: number, mid: number, innerBytes: number): number;
}>(() => [maxRowsSimd, maxColumnsSimd]);

/** The cpu backend's max of n values of x from `at`, `step` apart: the first maximum in order, NaN where one stands. */
function firstMax(x: Float32Array, at: number, n: number, step: number): number {
  let max = x[at];
  for (let j = at; j < at + n * step; j += step) if (Number.isNaN(x[j]) || x[j] > max) max = x[j];
  return max;
}

/** x seen as [outer, mid, inner] reduced over mid, for the cases the kernels take; undefined for the others. */
function maxOver(heap: WasmHeap, xInfo: TensorInfo, [outer, mid, inner]: number[], outShape: number[]): TensorInfo | undefined {
  const simd = (inner === 1 ? mid : inner) % 4 === 0 ? maxKernels(heap) : null;
  if (!simd) return undefined;
  const out = heap.makeOutput(outShape, 'float32');
  const [x, y] = [xInfo, out].map((t) => heap.typedArrayFromHeap(t));
  if (inner === 1) {
    const sawNaN = simd.maxRows(x.byteOffset, y.byteOffset, outer, 4 * mid);
    for (let o = 0; o < outer; o++) if (sawNaN || y[o] === 0) y[o] = firstMax(x, o * mid, mid, 1);
  } else if (simd.maxColumns(x.byteOffset, y.byteOffset, outer, mid, 4 * inner)) {
    for (let o = 0; o < outer; o++) for (let k = 0; k < inner; k++) y[o * inner + k] = firstMax(x, o * mid * inner + k, mid, inner);
  }
  return out;
}

/** Replaces wasm's Max, for float32 reduced over contiguous axes, by maxOver where it applies. */
export function registerWasmMax(tf: TF): void {
  replaceWasmKernel(tf, 'Max', (args, stock) => {
    const { x } = args.inputs;
    const { reductionIndices, keepDims } = args.attrs as { reductionIndices: number | number[]; keepDims: boolean };
    const axes = tf.util.parseAxisParam(reductionIndices, x.shape);
    const view = x.dtype === 'float32' && !x.shape.includes(0) ? splitAxes(x.shape, (i) => axes.includes(i)) : undefined;
    const outShape = x.shape.flatMap((d, i) => (!axes.includes(i) ? [d] : keepDims ? [1] : []));
    return (view && view[1] > 1 ? maxOver(args.backend as WasmHeap, x, view, outShape) : undefined) ?? stock(args);
  });
}
