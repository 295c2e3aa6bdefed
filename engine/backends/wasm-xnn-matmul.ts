// tfjs-wasm 4.22 runs a plain matrix product (a batch of 1 on both sides, no
// operand transposed) as an XNNPACK fully-connected operator, and keeps that
// operator by B's data id, bias id and activation until B's data is freed
// (batch_mat_mul_impl.cc's operator cache): B's shape is not in the key. Data
// shared under another shape (a Reshape, or a transpose that moves only size-1
// axes) then runs with the first shape's packed weights and channel counts:
// [256, 1] then its reshape [1, 256] as B is off by 7.8 on a normal sample, with
// no error. Such a B goes in as a copy, whose data id is its own.
import { replaceWasmKernel, type KernelArgs, type StockKernel, type TensorInfo, type WasmHeap } from './wasm-heap-kernels.js';

const sizeOf = (dims: number[]) => dims.reduce((p, d) => p * d, 1);

/** Whether wasm takes its cached XNNPACK path for this product. */
function takesXnnPath(a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean): boolean {
  return !transposeA && !transposeB && sizeOf(a.shape.slice(0, -2)) === 1 && sizeOf(b.shape.slice(0, -2)) === 1;
}

/** The [K, N] each B data id was first multiplied as, for as long as the data lives. */
const firstShapes = new WeakMap<object, string>();

function guarded(args: KernelArgs, stock: StockKernel): unknown {
  const { a, b } = args.inputs;
  const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
  if (b.dtype !== 'float32' || !takesXnnPath(a, b, transposeA, transposeB)) return stock(args);
  const shape = b.shape.slice(-2).join('x');
  const first = firstShapes.get(b.dataId);
  if (first === undefined) firstShapes.set(b.dataId, shape);
  if (first === undefined || first === shape) return stock(args);
  const heap = args.backend as WasmHeap;
  const copy = heap.makeOutput(b.shape, 'float32');
  heap.typedArrayFromHeap(copy).set(heap.typedArrayFromHeap(b));
  try {
    return stock({ ...args, inputs: { ...args.inputs, b: copy } });
  } finally {
    heap.disposeData(copy.dataId);
  }
}

/** Wraps wasm's BatchMatMul and _FusedMatMul (call before other replacements of them, so that it sits next to wasm's own). */
export function registerXnnMatMulGuard(tf: Parameters<typeof replaceWasmKernel>[0]): void {
  replaceWasmKernel(tf, 'BatchMatMul', guarded);
  replaceWasmKernel(tf, '_FusedMatMul', guarded);
}
