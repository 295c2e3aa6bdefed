// Kernels for the wasm backend written in JavaScript straight on the wasm heap,
// where tfjs-backend-wasm's own kernel takes a slow general path (its
// MaxPoolGrad, a Sum or Mean that transposes its input first, a Slice that
// reads its whole input out of the heap, a Concat that makes a subarray per row, PadV2, an Add that broadcasts a short
// row) or copies for nothing (Identity, which the engine runs on every tensor
// it saves for a gradient, and a Cast to the same type); and Im2ColRows, the
// left operand of a filter gradient as a matrix product. Each one gives
// exactly the values that the cpu backend gives. wasmHeapAccess lets other
// code (the optimizers) compute on the heap too.
import type { TF } from '../blocks/contract.js';
import { COLUMN_WIDTHS, simdKernels, type SimdKernels } from './wasm-simd-kernels.js';
import { registerWasmReluGrad, RELU_GRAD } from './wasm-relu-grad.js';
import { spreadSimd } from './wasm-spread-simd.js';

export type TensorInfo = { dataId: object; shape: number[]; dtype: string };
export type KernelArgs = { inputs: Record<string, TensorInfo>; attrs?: Record<string, unknown>; backend: unknown };
type Rounding = 'floor' | 'round' | 'ceil' | undefined;
type PoolInfo = ReturnType<TF['backend_util']['computePool2DInfo']>;

/** What these kernels use of tfjs-backend-wasm's BackendWasm. */
export interface WasmHeap {
  makeOutput(shape: number[], dtype: string): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
  incRef(dataId: object): void;
  refCount(dataId: object): number;
  disposeData(dataId: object): boolean;
}

/**
 * Tensors' data on the wasm heap, for code that computes in JavaScript. Writing
 * a tensor's data in place is safe only where no other tensor shares it and no
 * kernel cached something made from it: wasm's convolutions and matrix products
 * keep their filter packed by data id, so a weight written in place would run
 * stale. New weights go to a new tensor.
 */
export interface HeapAccess {
  /** A view of t's float32 data; valid until the next allocation on the heap. */
  view(t: TensorInfo): Float32Array;
  /** Whether t's data belongs to t alone, so that writing it in place changes no other tensor. */
  exclusive(t: TensorInfo): boolean;
  /** A new float32 tensor (uninitialised, in the current tidy scope) to fill through view(). */
  output(shape: number[]): ReturnType<TF['tensor']>;
}

/** Heap access when tfjs runs on the wasm backend, else null. */
export function wasmHeapAccess(tf: TF): HeapAccess | null {
  if (tf.getBackend() !== 'wasm') return null;
  const heap = tf.backend() as unknown as WasmHeap;
  return {
    view: (t) => heap.typedArrayFromHeap(t),
    exclusive: (t) => heap.refCount(t.dataId) === 1,
    output: (shape) => tf.engine().makeTensorFromTensorInfo(heap.makeOutput(shape, 'float32') as never) as ReturnType<TF['tensor']>,
  };
}

/**
 * dx of max pooling. Each window's gradient goes to its first maximum in
 * row-major window order (NaN never wins, an all -Infinity window gives none),
 * as the cpu backend routes it; overlapping windows add up.
 */
function maxPoolGrad(heap: WasmHeap, dyInfo: TensorInfo, xInfo: TensorInfo, c: PoolInfo): TensorInfo {
  const out = heap.makeOutput(xInfo.shape, 'float32');
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ch, outHeight: ho, outWidth: wo } = c;
  const inside = c.padInfo.top === 0 && c.padInfo.left === 0 && 2 * ho <= h && 2 * wo <= w;
  const twoByTwo = inside && c.filterHeight === 2 && c.filterWidth === 2 && c.strideHeight === 2 && c.strideWidth === 2;
  // Views after the allocation: a heap that grows detaches the views made before.
  const dx = heap.typedArrayFromHeap(out);
  // The SIMD rows write every tap of every window: only pixels no window covers need the zeros.
  const simd = twoByTwo && ch % 4 === 0 && ho > 0 && wo > 0 ? simdKernels(heap) : null;
  if (!simd || 2 * ho < h || 2 * wo < w) dx.fill(0);
  const x = heap.typedArrayFromHeap(xInfo);
  const dy = heap.typedArrayFromHeap(dyInfo);
  if (simd) {
    maxPoolGrad2x2Simd(simd, dx, x, dy, c);
    return out;
  }
  if (twoByTwo) {
    maxPoolGrad2x2(dx, x, dy, c);
    return out;
  }
  let g = 0;
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < ho; oy++) {
      const top = oy * c.strideHeight - c.padInfo.top;
      const y0 = Math.max(0, top);
      const y1 = Math.min(h, top + c.filterHeight);
      for (let ox = 0; ox < wo; ox++) {
        const left = ox * c.strideWidth - c.padInfo.left;
        const x0 = Math.max(0, left);
        const x1 = Math.min(w, left + c.filterWidth);
        const corner = ((b * h + y0) * w + x0) * ch;
        for (let d = 0; d < ch; d++, g++) {
          let best = -Infinity;
          let at = -1;
          for (let yy = y0, row = corner + d; yy < y1; yy++, row += w * ch) {
            for (let xx = x0, q = row; xx < x1; xx++, q += ch) {
              if (x[q] > best) {
                best = x[q];
                at = q;
              }
            }
          }
          if (at >= 0) dx[at] += dy[g];
        }
      }
    }
  }
  return out;
}

/**
 * maxPoolGrad for the most common pooling, 2x2 windows with stride 2 that all
 * lie inside the image: the same first-maximum rule, without a branch on the
 * values. Which tap wins is data, so branches on it mispredict about every
 * other window of a textured image (2.8 ms against 1.1 on random post-ReLU
 * values); here the comparisons become offsets: the winner of each pair of
 * taps, then of the two winners (ties to the earlier tap, as strict > in tap
 * order does). On the bench net's MNIST batches the two poolings take 1.7 ms
 * together against 2.3 for the branches. Windows with a NaN take the general
 * rule; an all -Infinity window gives no gradient.
 */
function maxPoolGrad2x2(dx: Float32Array, x: Float32Array, dy: Float32Array, c: PoolInfo): void {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ch, outHeight: ho, outWidth: wo } = c;
  const down = w * ch;
  let g = 0;
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < ho; oy++) {
      for (let ox = 0, p = (b * h + 2 * oy) * w * ch; ox < wo; ox++, p += 2 * ch) {
        for (let d = 0; d < ch; d++, g++) {
          const p0 = p + d;
          const a0 = x[p0];
          const a1 = x[p0 + ch];
          const a2 = x[p0 + down];
          const a3 = x[p0 + down + ch];
          // A flat window (zeros around an MNIST digit) goes to its first tap: a branch that predicts well there.
          if (a0 === a1 && a0 === a2 && a0 === a3) {
            if (a0 > -Infinity) dx[p0] = dy[g];
            continue;
          }
          if (a0 !== a0 || a1 !== a1 || a2 !== a2 || a3 !== a3) {
            firstMaxOf2x2(dx, x, dy[g], p0, ch, down);
            continue;
          }
          const top = +(a1 > a0) * ch;
          const bottom = down + +(a3 > a2) * ch;
          const at = p0 + top + +(x[p0 + bottom] > x[p0 + top]) * (bottom - top);
          if (x[at] > -Infinity) dx[at] = dy[g];
        }
      }
    }
  }
}

/**
 * maxPoolGrad2x2 by wasm SIMD rows (wasm-simd-kernels), 4 channels at a time;
 * a row with a NaN in some window is done again by the general rule.
 */
function maxPoolGrad2x2Simd(simd: SimdKernels, dx: Float32Array, x: Float32Array, dy: Float32Array, c: PoolInfo): void {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ch, outHeight: ho, outWidth: wo } = c;
  const down = w * ch;
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < ho; oy++) {
      const p = (b * h + 2 * oy) * down;
      const g = (b * ho + oy) * wo * ch;
      if (!simd.maxPoolGrad2x2Row(x.byteOffset + 4 * p, dx.byteOffset + 4 * p, dy.byteOffset + 4 * g, wo, 4 * ch, 4 * down)) continue;
      for (let ox = 0; ox < wo; ox++) {
        for (let d = 0; d < ch; d++) {
          const p0 = p + 2 * ox * ch + d;
          dx[p0] = dx[p0 + ch] = dx[p0 + down] = dx[p0 + down + ch] = 0;
          firstMaxOf2x2(dx, x, dy[g + ox * ch + d], p0, ch, down);
        }
      }
    }
  }
}

/** One 2x2 window by the general rule: the first maximum in tap order; NaN never wins. */
function firstMaxOf2x2(dx: Float32Array, x: Float32Array, grad: number, p0: number, ch: number, down: number): void {
  let best = -Infinity;
  let at = -1;
  for (const q of [p0, p0 + ch, p0 + down, p0 + down + ch]) {
    if (x[q] > best) {
      best = x[q];
      at = q;
    }
  }
  if (at >= 0) dx[at] = grad;
}

/**
 * The sum over the middle axis of x seen as [outer, rows, cols], such as a bias
 * gradient (dy summed over batch and space). wasm's Sum first transposes the
 * reduced axes to the end, a copy of the whole input; this adds rows in place.
 * It adds in the cpu backend's order and precision (float64), so it gives the
 * cpu backend's result. With a divisor it is the cpu backend's mean: each
 * element divided in float32, then summed (as fast as wasm's own Mean, which
 * differs from cpu in the last bits).
 */
function sumMiddle(heap: WasmHeap, xInfo: TensorInfo, [outer, rows, cols]: number[], outShape: number[], divisor = 0): TensorInfo {
  const out = heap.makeOutput(outShape, 'float32');
  const res = heap.typedArrayFromHeap(out);
  const x = heap.typedArrayFromHeap(xInfo);
  const simd = simdKernels(heap);
  // Four columns at a time in local float64 sums: about 4x faster than one pass over a Float64Array of sums.
  for (let o = 0; o < outer; o++) {
    const start = o * rows * cols;
    const end = start + rows * cols;
    let k = 0;
    // Up to 16 columns in one pass of wasm SIMD, the same sums.
    for (const width of simd ? COLUMN_WIDTHS : []) {
      for (; k + width <= cols; k += width)
        simd![`${divisor ? 'mean' : 'sum'}${width}`](x.byteOffset + 4 * (start + k), res.byteOffset + 4 * (o * cols + k), rows, 4 * cols, divisor);
    }
    for (; k + 4 <= cols; k += 4) {
      let a0 = 0,
        a1 = 0,
        a2 = 0,
        a3 = 0;
      if (divisor) {
        for (let p = start + k; p < end; p += cols) {
          a0 += Math.fround(x[p] / divisor);
          a1 += Math.fround(x[p + 1] / divisor);
          a2 += Math.fround(x[p + 2] / divisor);
          a3 += Math.fround(x[p + 3] / divisor);
        }
      } else {
        for (let p = start + k; p < end; p += cols) {
          a0 += x[p];
          a1 += x[p + 1];
          a2 += x[p + 2];
          a3 += x[p + 3];
        }
      }
      const at = o * cols + k;
      res[at] = a0;
      res[at + 1] = a1;
      res[at + 2] = a2;
      res[at + 3] = a3;
    }
    for (; k < cols; k++) {
      let a = 0;
      for (let p = start + k; p < end; p += cols) a += divisor ? Math.fround(x[p] / divisor) : x[p];
      res[o * cols + k] = a;
    }
  }
  return out;
}

/**
 * x's shape as [outer, rows, cols] when the axes a Sum reduces are contiguous
 * (size-1 axes aside), with cols > 1; otherwise undefined (wasm's own Sum
 * reduces innermost axes without a transpose).
 */
function middleView(shape: number[], axes: number[]): [number, number, number] | undefined {
  const view = splitAxes(shape, (i) => axes.includes(i));
  return view && view[1] > 1 && view[2] > 1 ? view : undefined;
}

/** shape as [before, reduced, after] where the reduced axes (size-1 axes aside) are contiguous; otherwise undefined. */
export function splitAxes(shape: number[], reduced: (axis: number) => boolean): [number, number, number] | undefined {
  const view: [number, number, number] = [1, 1, 1];
  let part = 0; // 0: before the reduced axes, 1: in them, 2: after
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] === 1) continue;
    if (reduced(i) && part === 2) return undefined;
    if (reduced(i)) part = 1;
    else if (part === 1) part = 2;
    view[part] *= shape[i];
  }
  return view;
}

/**
 * A slice, copied run by run within the heap. wasm's own Slice first reads its
 * whole input out of the heap into a new array, on every call.
 */
function slice(heap: WasmHeap, xInfo: TensorInfo, begin: number[], size: number[]): TensorInfo {
  const out = heap.makeOutput(size, xInfo.dtype);
  const to = heap.typedArrayFromHeap(out);
  const from = heap.typedArrayFromHeap(xInfo);
  // One view of the whole heap: set() between two views of one buffer would copy its source first.
  const all = new (to.constructor as Float32ArrayConstructor)(to.buffer);
  const toAt = to.byteOffset / to.BYTES_PER_ELEMENT;
  const fromAt = from.byteOffset / from.BYTES_PER_ELEMENT;
  const shape = xInfo.shape;
  const r = shape.length;
  // Copy runs as long as the slice is contiguous: the last axis, and those before it that it spans whole.
  let inner = r - 1;
  while (inner > 0 && size[inner] === shape[inner]) inner--;
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const run = size[inner] * strides[inner];
  if (inner === r - 1 && run < SHORT_RUN && size.every((d, i) => i === inner || d === shape[i])) {
    // A few columns of every row (SplitV of CBAM's [N, H, W, 2] maps): one loop, where a run at a time
    // recomputes its source index per run (1.7 ms to split [64, 28, 28, 2] in two; this, 0.4).
    const width = shape[inner];
    for (let o = 0, at = fromAt + begin[inner]; o < to.length; o += run, at += width) for (let j = 0; j < run; j++) all[toAt + o + j] = all[at + j];
    return out;
  }
  const index = begin.slice(0, inner);
  for (let o = 0; o < to.length; o += run) {
    let at = fromAt + begin[inner] * strides[inner];
    for (let i = 0; i < inner; i++) at += index[i] * strides[i];
    copyRun(all, toAt + o, at, run);
    for (let i = inner - 1; i >= 0 && ++index[i] === begin[i] + size[i]; i--) index[i] = begin[i];
  }
  return out;
}

/** The dtypes whose data is one typed array on the heap. */
const HEAP_DTYPES = ['float32', 'int32', 'bool'];

/** Runs shorter than this are copied element by element: a copyWithin call costs about as much as copying 64 floats. */
const SHORT_RUN = 64;

/** Copies `run` elements within one view of the heap, from `from` to `to`. */
function copyRun(all: Float32Array, to: number, from: number, run: number): void {
  if (run >= SHORT_RUN) all.copyWithin(to, from, from + run);
  else for (let j = 0; j < run; j++) all[to + j] = all[from + j];
}

/**
 * Tensors joined along one axis, run by run within the heap. wasm's own makes
 * a subarray per input per outer row: about 30 ms to join CBAM's two
 * [64, 28, 28, 1] maps along channels, where this takes well under one.
 */
function concat(heap: WasmHeap, inputs: TensorInfo[], axis: number, outShape: number[]): TensorInfo {
  const out = heap.makeOutput(outShape, inputs[0].dtype);
  const to = heap.typedArrayFromHeap(out);
  const all = new (to.constructor as Float32ArrayConstructor)(to.buffer);
  const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
  const runs = inputs.map((t) => sizeOf(t.shape.slice(axis)));
  const starts = inputs.map((t) => {
    const v = heap.typedArrayFromHeap(t);
    return v.byteOffset / v.BYTES_PER_ELEMENT;
  });
  const outer = sizeOf(outShape.slice(0, axis));
  let o = to.byteOffset / to.BYTES_PER_ELEMENT;
  for (let b = 0; b < outer; b++) {
    for (let i = 0; i < inputs.length; i++) {
      copyRun(all, o, starts[i] + b * runs[i], runs[i]);
      o += runs[i];
    }
  }
  return out;
}

/**
 * Constant padding: the output filled with the value, then the input copied in
 * runs (each run is the input's last padded axis with the unpadded axes after it).
 * wasm's own PadV2 takes about 0.8 ms for the bench net's [64, 28, 28, 1] input,
 * ten times this.
 */
function pad(heap: WasmHeap, xInfo: TensorInfo, paddings: [number, number][], value: number): TensorInfo {
  const shape = xInfo.shape;
  const outShape = shape.map((d, i) => paddings[i][0] + d + paddings[i][1]);
  const out = heap.makeOutput(outShape, xInfo.dtype);
  const to = heap.typedArrayFromHeap(out).fill(value);
  const from = heap.typedArrayFromHeap(xInfo);
  const all = new (to.constructor as Float32ArrayConstructor)(to.buffer);
  const toAt = to.byteOffset / to.BYTES_PER_ELEMENT;
  const fromAt = from.byteOffset / from.BYTES_PER_ELEMENT;
  let inner = shape.length - 1;
  while (inner > 0 && paddings[inner][0] === 0 && paddings[inner][1] === 0) inner--;
  const outStrides = outShape.map((_, i) => outShape.slice(i + 1).reduce((a, b) => a * b, 1));
  const run = shape.slice(inner).reduce((a, b) => a * b, 1);
  const index = new Array<number>(inner).fill(0);
  for (let o = 0; o < from.length; o += run) {
    let at = toAt + paddings[inner][0] * outStrides[inner];
    for (let i = 0; i < inner; i++) at += (index[i] + paddings[i][0]) * outStrides[i];
    all.copyWithin(at, fromAt + o, fromAt + o + run);
    for (let i = inner - 1; i >= 0 && ++index[i] === shape[i]; i--) index[i] = 0;
  }
  return out;
}

/**
 * x repeated `reps` times along each axis, by copies within the heap: the
 * innermost axis element by element, each axis above it as whole blocks
 * (doubling with copyWithin). wasm's own Tile computes every output element's
 * source index: about 300 ms for a batch norm's [1, 1, 1, 16] spread to
 * [64, 28, 28, 16], where this takes under a millisecond.
 */
function tile(heap: WasmHeap, xInfo: TensorInfo, reps: number[]): TensorInfo {
  const shape = xInfo.shape;
  const r = shape.length;
  const outShape = shape.map((d, i) => d * reps[i]);
  const out = heap.makeOutput(outShape, xInfo.dtype);
  const to = heap.typedArrayFromHeap(out);
  const x = heap.typedArrayFromHeap(xInfo);
  const all = new (to.constructor as Float32ArrayConstructor)(to.buffer);
  const toAt = to.byteOffset / to.BYTES_PER_ELEMENT;
  // One value per row spread over a multiple of 4 columns (CBAM's map over C): a SIMD store per 4 values.
  const valuesOverRows = xInfo.dtype === 'float32' && x.length > 0 && reps.every((k, i) => (i === r - 1 ? shape[i] === 1 && k % 4 === 0 : k === 1));
  const simd = valuesOverRows ? spreadSimd(heap) : null;
  if (simd) {
    simd.spreadValues(0, x.byteOffset, to.byteOffset, x.length, 4 * reps[r - 1]);
    return out;
  }
  const inStrides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const outBlocks = outShape.map((_, i) => outShape.slice(i + 1).reduce((a, b) => a * b, 1));
  /** Fills the output block of `axis` at `o` from the input block at `from`; returns its size. */
  const fill = (axis: number, from: number, o: number): number => {
    const part = shape[axis] * outBlocks[axis];
    // One value spread along the last axis (a mean's gradient over features): one native fill.
    if (axis === r - 1 && shape[axis] === 1) {
      to.fill(x[from], o, o + reps[axis]);
      return reps[axis];
    }
    if (axis === r - 1) {
      for (let k = 0; k < shape[axis]; k++) to[o + k] = x[from + k];
    } else if (axis === r - 2 && shape[r - 1] === 1 && reps[r - 1] <= SHORT_RUN) {
      // A map spread over a few channels (CBAM's [N, H, W, 1] over C): a plain loop, where a
      // call and a native fill per value cost 1.35 ms for [32, 14, 14, 1] over 8 (this: 0.05).
      const copies = reps[r - 1];
      for (let k = 0, q = o; k < shape[axis]; k++) {
        const v = x[from + k * inStrides[axis]];
        for (let j = 0; j < copies; j++) to[q++] = v;
      }
    } else {
      for (let k = 0; k < shape[axis]; k++) fill(axis + 1, from + k * inStrides[axis], o + k * outBlocks[axis]);
    }
    const whole = part * reps[axis];
    for (let done = part; done < whole; done *= 2) all.copyWithin(toAt + o + done, toAt + o, toAt + o + Math.min(done, whole - done));
    return whole;
  };
  fill(0, 0, 0);
  return out;
}

/** Kernel name of Tile's gradient on the wasm backend (inputs { dy }, attrs { reps }). */
export const TILE_GRAD = 'TileGrad';

/**
 * Tile's gradient: the replicas of dy added up, replica by replica in
 * row-major order, each sum rounded to float32, as tfjs's own gradient adds
 * its slices (one Slice and one Add per replica: 64 of each for a position
 * table spread over a batch of 64, thousands per step in a Transformer).
 */
function tileGrad(heap: WasmHeap, dyInfo: TensorInfo, reps: number[]): TensorInfo {
  const dyShape = dyInfo.shape;
  const r = dyShape.length;
  const shape = dyShape.map((d, i) => d / reps[i]);
  const out = heap.makeOutput(shape, 'float32');
  const dx = heap.typedArrayFromHeap(out).fill(0);
  const dy = heap.typedArrayFromHeap(dyInfo);
  if (reps.every((k, i) => k === 1 || i === r - 1)) sumLastAxisReplicas(dx, dy, shape[r - 1], reps[r - 1]);
  else if (reps.every((k, i) => k === 1 || shape.slice(0, i + 1).every((d) => d === 1))) sumOuterReplicas(dx, dy);
  else sumReplicas(dx, dy, shape, reps);
  return out;
}

/**
 * Tile's gradient where only the last axis was tiled (a LayerNorm's mean or
 * variance spread over the features): each row's replicas follow each other.
 * The sum runs in a local, rounded to float32 after every addition as a
 * float32 store rounds it.
 */
function sumLastAxisReplicas(dx: Float32Array, dy: Float32Array, width: number, copies: number): void {
  const rowLength = width * copies;
  for (let row = 0, at = 0; at < dy.length; row += width, at += rowLength) {
    for (let j = 0; j < width; j++) {
      let sum = 0;
      for (let p = at + j, end = at + rowLength; p < end; p += width) sum = Math.fround(sum + dy[p]);
      dx[row + j] = sum;
    }
  }
}

/** Tile's gradient where x's leading axes are 1 and only they were tiled (a LayerNorm's scale or offset over a batch): the replicas are whole blocks of dy, in order. */
function sumOuterReplicas(dx: Float32Array, dy: Float32Array): void {
  const size = dx.length;
  for (let from = 0; from < dy.length; from += size) for (let e = 0; e < size; e++) dx[e] += dy[from + e];
}

/** Tile's gradient in general: dy in memory order, each element added to its x element. */
function sumReplicas(dx: Float32Array, dy: Float32Array, shape: number[], reps: number[]): void {
  const r = shape.length;
  const dyShape = shape.map((d, i) => d * reps[i]);
  // dy in memory order: each element of x meets its replicas in row-major replica order, as tfjs adds them.
  const xStrides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const width = shape[r - 1];
  const rowReps = reps[r - 1];
  const index = new Array<number>(r).fill(0); // dy's index over the axes before the last
  const within = new Array<number>(r).fill(0); // the same, modulo x's shape
  let base = 0;
  for (let p = 0; p < dy.length;) {
    for (let q = 0; q < rowReps; q++) for (let j = 0; j < width; j++) dx[base + j] += dy[p++];
    for (let i = r - 2; i >= 0; i--) {
      index[i]++;
      if (++within[i] === shape[i]) {
        within[i] = 0;
        base -= (shape[i] - 1) * xStrides[i];
      } else base += xStrides[i];
      if (index[i] < dyShape[i]) break;
      index[i] = 0;
    }
  }
}

/**
 * The axes of a transpose with size-1 axes dropped and axes that stay
 * neighbours merged: [196, 25, 16, 2, 8] by [2, 3, 0, 1, 4] is [4900, 32, 8] by [1, 0, 2].
 */
function simplifyTranspose(shape: number[], perm: number[]): { shape: number[]; perm: number[] } {
  const kept = perm.filter((a) => shape[a] !== 1);
  const groups: number[][] = [];
  for (const a of kept) {
    const last = groups[groups.length - 1];
    if (last && last[last.length - 1] + 1 === a) last.push(a);
    else groups.push([a]);
  }
  // The groups in input order give the new input axes.
  const byInput = [...groups].sort((g, h) => g[0] - h[0]);
  return {
    shape: byInput.map((g) => g.reduce((p, a) => p * shape[a], 1)),
    perm: groups.map((g) => byInput.indexOf(g)),
  };
}

/**
 * Rows of x picked by index along one axis (batchDims 0), each a run copied
 * within the heap; undefined where an index is out of range (wasm's own then
 * reports it). wasm's own takes about 70 ms for 4,900 rows of 256.
 */
function gather(heap: WasmHeap, xInfo: TensorInfo, indicesInfo: TensorInfo, axis: number): TensorInfo | undefined {
  const ids = heap.typedArrayFromHeap(indicesInfo);
  const size = xInfo.shape[axis];
  for (let k = 0; k < ids.length; k++) if (!(ids[k] >= 0 && ids[k] < size)) return undefined;
  const outShape = [...xInfo.shape.slice(0, axis), ...indicesInfo.shape, ...xInfo.shape.slice(axis + 1)];
  const out = heap.makeOutput(outShape, xInfo.dtype);
  const to = heap.typedArrayFromHeap(out);
  const x = heap.typedArrayFromHeap(xInfo);
  const idx = heap.typedArrayFromHeap(indicesInfo);
  const all = new (to.constructor as Float32ArrayConstructor)(to.buffer);
  const toAt = to.byteOffset / to.BYTES_PER_ELEMENT;
  const xAt = x.byteOffset / x.BYTES_PER_ELEMENT;
  const inner = xInfo.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outer = xInfo.shape.slice(0, axis).reduce((a, b) => a * b, 1);
  let o = toAt;
  for (let b = 0; b < outer; b++) {
    for (let k = 0; k < idx.length; k++, o += inner) {
      const at = xAt + (b * size + idx[k]) * inner;
      if (inner >= 64) all.copyWithin(o, at, at + inner);
      else for (let j = 0; j < inner; j++) all[o + j] = all[at + j];
    }
  }
  return out;
}

/** Kernel name of the gradient of Max and Min on the wasm backend (inputs { dy, x, y }: dy and y with x's rank, reduced axes 1). */
export const EXTREMUM_GRAD = 'ExtremumGrad';

/**
 * The gradient of a max or min: dy where x equals the extremum of its
 * reduction, 0 elsewhere (every tied element gets it, as tfjs routes it), as
 * dy · (x == y) with dy and y broadcast over the reduced axes. tfjs computes it
 * with Equal, Cast and Mul, and wasm's broadcasting Equal is slow: about 250 ms
 * for CBAM's channel max over [64, 28, 28, 16].
 */
function extremumGrad(heap: WasmHeap, dyInfo: TensorInfo, xInfo: TensorInfo, yInfo: TensorInfo): TensorInfo {
  const shape = xInfo.shape;
  const r = shape.length;
  const out = heap.makeOutput(shape, 'float32');
  const dx = heap.typedArrayFromHeap(out);
  const x = heap.typedArrayFromHeap(xInfo);
  const y = heap.typedArrayFromHeap(yInfo);
  const dy = heap.typedArrayFromHeap(dyInfo);
  const view = reducedView(shape, yInfo.shape);
  const simd = view && view[2] % 4 === 0 ? simdKernels(heap) : null;
  if (simd && view) {
    const [outer, mid, row] = view;
    const at = (t: Float32Array) => t.byteOffset;
    if (mid === 1) simd.extremumLast(at(x), at(dx), at(dy), at(y), outer, 4 * row);
    else simd.extremumMiddle(at(x), at(dx), at(dy), at(y), outer, mid, 4 * row);
    return out;
  }
  // Strides into y (and dy, of y's shape) as x's index moves: 0 along a reduced axis.
  const small = yInfo.shape;
  const smallStrides = small.map((_, i) => (small[i] === 1 ? 0 : small.slice(i + 1).reduce((a, b) => a * b, 1)));
  const n = shape[r - 1];
  const step = smallStrides[r - 1];
  const index = new Array<number>(r).fill(0);
  let j = 0;
  for (let i = 0; i < x.length;) {
    for (let k = 0; k < n; k++, i++, j += step) dx[i] = dy[j] * (x[i] === y[j] ? 1 : 0);
    j -= n * step;
    for (let a = r - 2; a >= 0; a--) {
      j += smallStrides[a];
      if (++index[a] < shape[a]) break;
      j -= shape[a] * smallStrides[a];
      index[a] = 0;
    }
  }
  return out;
}

/**
 * x's shape as [outer, mid, row] where y reduced x over one run of axes: over
 * the middle (a global max pooling: y is [outer, row]) or at the end (mid 1, a
 * channel max: y is [outer], one value per row of x); undefined for any other.
 */
function reducedView(shape: number[], reducedShape: number[]): [number, number, number] | undefined {
  const view = splitAxes(shape, (i) => reducedShape[i] === 1);
  if (!view || view[1] === 1) return undefined;
  return view[2] === 1 ? [view[0], 1, view[1]] : view;
}

/** Size of the widest rows that addRow lays out: the repeated row stays in the first cache levels. */
const ROW_WIDTH = 16384;

/**
 * x plus a row along its last axis (a bias add), by wasm's own Add on x seen
 * as [outer, inner·C] and the row repeated inner times. wasm's broadcasting
 * add costs about 5x more on short rows (0.58 ms against 0.11 for the bench
 * net's [64, 28, 28, 16] + [16]). Same float32 additions, so the same result.
 * Undefined where the inputs are not a tensor and such a row.
 */
function addRow(args: KernelArgs, stock: StockKernel): TensorInfo | undefined {
  const { a, b } = args.inputs;
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return undefined;
  const isRowOf = (row: TensorInfo, big: TensorInfo) => {
    const c = big.shape[big.shape.length - 1];
    return (
      big.shape.length >= 2 &&
      row.shape.length <= big.shape.length &&
      row.shape[row.shape.length - 1] === c &&
      row.shape.every((d, i) => d === 1 || i === row.shape.length - 1)
    );
  };
  const rowIsB = isRowOf(b, a);
  if (!rowIsB && !isRowOf(a, b)) return undefined;
  const [big, row] = rowIsB ? [a, b] : [b, a];
  if (big.shape.includes(0)) return undefined;
  const c = big.shape[big.shape.length - 1];
  let inner = 1;
  for (let i = big.shape.length - 2; i >= 0 && inner * big.shape[i] * c <= ROW_WIDTH; i--) inner *= big.shape[i];
  if (inner === 1) return undefined;
  const width = inner * c;
  const heap = args.backend as WasmHeap;
  const repeated = heap.makeOutput([width], 'float32');
  const r = heap.typedArrayFromHeap(repeated);
  r.set(heap.typedArrayFromHeap(row));
  for (let n = c; n < width; n *= 2) r.copyWithin(n, 0, Math.min(n, width - n));
  const rows = { dataId: big.dataId, shape: [big.shape.reduce((p, q) => p * q, 1) / width, width], dtype: big.dtype };
  try {
    const out = stock({ ...args, inputs: rowIsB ? { a: rows, b: repeated } : { a: repeated, b: rows } }) as TensorInfo;
    return { ...out, shape: big.shape.slice() };
  } finally {
    heap.disposeData(repeated.dataId);
  }
}

/**
 * A binary op whose one operand is spread over the other (a Squeeze-and-
 * Excitation scale [N, 1, 1, C] over [N, H, W, C], a batch norm's [C]) run as
 * wasm's own op on equal shapes, the spread operand tiled out on the heap
 * first: wasm's broadcasting loop costs over twice its same-shape op (0.7 ms
 * against 0.3 for SE's scale of [64, 28, 28, 16]; this, 0.25-0.35). The
 * same float32 operations, so the same result. Undefined where neither
 * operand has the output's shape, or one is a single number.
 */
function spreadThenApply(args: KernelArgs, stock: StockKernel): TensorInfo | undefined {
  const { a, b } = args.inputs;
  if (a.dtype !== b.dtype || a.dtype === 'string' || a.shape.length === 0 || b.shape.length === 0) return undefined;
  const sizeOf = (t: TensorInfo) => t.shape.reduce((p, q) => p * q, 1);
  const aIsBig = sizeOf(a) >= sizeOf(b);
  const [big, small] = aIsBig ? [a, b] : [b, a];
  if (sizeOf(small) <= 1 || sizeOf(small) === sizeOf(big) || small.shape.length > big.shape.length) return undefined;
  const padded = [...new Array<number>(big.shape.length - small.shape.length).fill(1), ...small.shape];
  // A spread along the last axis (a map [N, H, W, 1]) tiles element by element, slower than wasm's broadcast: left to it.
  const last = padded.length - 1;
  if (padded[last] !== big.shape[last] || !padded.every((d, i) => d === big.shape[i] || d === 1)) return undefined;
  const heap = args.backend as WasmHeap;
  const spread = tile(
    heap,
    { ...small, shape: padded },
    padded.map((d, i) => big.shape[i] / d),
  );
  try {
    return stock({ ...args, inputs: aIsBig ? { a, b: spread } : { a: spread, b } }) as TensorInfo;
  } finally {
    heap.disposeData(spread.dataId);
  }
}

/**
 * A float32 Multiply whose one operand is spread over the other along
 * contiguous axes, as [outer, 1, inner] over [outer, mid, inner], in one wasm
 * SIMD pass: a row of a multiple of 4 (Squeeze-and-Excitation's [N, 1, 1, C])
 * or one value over a multiple of 4 (CBAM's [N, H, W, 1] over C), where
 * spreadThenApply tiles first and wasm's broadcast goes value by value. The
 * same float32 products. Undefined elsewhere.
 */
function spreadMultiply(args: KernelArgs): TensorInfo | undefined {
  const { a, b } = args.inputs;
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return undefined;
  const sizeOf = (t: TensorInfo) => t.shape.reduce((p, q) => p * q, 1);
  const [big, small] = sizeOf(a) >= sizeOf(b) ? [a, b] : [b, a];
  if (sizeOf(small) <= 1 || sizeOf(small) === sizeOf(big) || small.shape.length > big.shape.length) return undefined;
  const padded = [...new Array<number>(big.shape.length - small.shape.length).fill(1), ...small.shape];
  if (!padded.every((d, i) => d === big.shape[i] || d === 1)) return undefined;
  const [outer, mid, inner] = splitAxes(big.shape, (i) => padded[i] === 1) ?? [0, 0, 0];
  const heap = args.backend as WasmHeap;
  const simd = outer > 0 && (inner % 4 === 0 || (inner === 1 && mid % 4 === 0)) ? spreadSimd(heap) : null;
  if (!simd) return undefined;
  const out = heap.makeOutput(big.shape, 'float32');
  const [to, x, s] = [out, big, small].map((t) => heap.typedArrayFromHeap(t).byteOffset);
  if (inner === 1) simd.mulValues(x, s, to, outer, 4 * mid);
  else simd.mulRows(x, s, to, outer, mid, 4 * inner);
  return out;
}

/** The geometry of a stride-1 convolution's input windows, for Im2ColRows. */
export interface Im2ColAttrs {
  filterHeight: number;
  filterWidth: number;
  dilationHeight: number;
  dilationWidth: number;
  padTop: number;
  padLeft: number;
  outHeight: number;
  outWidth: number;
}

/** Kernel name of im2colRows on the wasm backend (inputs { x }, attrs Im2ColAttrs). */
export const IM2COL_ROWS = 'Im2ColRows';

/**
 * The input pixels each filter tap of a stride-1 convolution meets, one row per
 * tap and input channel ((a·kw + b)·Ci + c), one column per output pixel
 * (n, i, j), zero where the tap falls in the padding: the left operand of a
 * filter gradient as a matrix product, in one pass over x (in place of a pad,
 * a transpose, kh·kw slices and a stack).
 */
function im2colRows(heap: WasmHeap, xInfo: TensorInfo, g: Im2ColAttrs): TensorInfo {
  const [n, h, w, ci] = xInfo.shape;
  const { outHeight: ho, outWidth: wo } = g;
  const pixels = n * ho * wo;
  const out = heap.makeOutput([g.filterHeight * g.filterWidth * ci, pixels], 'float32');
  const to = heap.typedArrayFromHeap(out).fill(0);
  const x = heap.typedArrayFromHeap(xInfo);
  const all = new Float32Array(to.buffer); // copyWithin on one view of the heap, as slice does
  const toAt = to.byteOffset / 4;
  const xAt = x.byteOffset / 4;
  for (let a = 0; a < g.filterHeight; a++) {
    for (let b = 0; b < g.filterWidth; b++) {
      const down = a * g.dilationHeight - g.padTop;
      const across = b * g.dilationWidth - g.padLeft;
      // Output columns j whose tap lies inside the image: 0 <= j + across < w.
      const j0 = Math.max(0, -across);
      const j1 = Math.min(wo, w - across);
      for (let c = 0; c < ci; c++) {
        let o = ((a * g.filterWidth + b) * ci + c) * pixels;
        for (let m = 0; m < n; m++) {
          for (let i = 0; i < ho; i++, o += wo) {
            const y = i + down;
            if (y < 0 || y >= h) continue;
            const from = ((m * h + y) * w + across) * ci + c;
            if (ci === 1) all.copyWithin(toAt + o + j0, xAt + from + j0, xAt + from + j1);
            else for (let j = j0; j < j1; j++) to[o + j] = x[from + j * ci];
          }
        }
      }
    }
  }
  return out;
}

/** Kernel name of interleavePhases on the wasm backend (inputs { p0, p1, ... } for the phases given, attrs InterleaveAttrs). */
export const INTERLEAVE_PHASES = 'InterleavePhases';

export interface InterleaveAttrs {
  strideHeight: number;
  strideWidth: number;
  /** The grid's height and width; each phase is [N, ceil(height / strideHeight), ceil(width / strideWidth), C]. */
  height: number;
  width: number;
  /** The phases given, in order p0, p1, ...: row-major indices rh·strideWidth + rw; the others are zero. */
  given: number[];
}

/**
 * The grid whose pixel (ih, iw) is pixel (ih / sh, iw / sw) of phase
 * (ih mod sh, iw mod sw): the phases of a strided convolution's input
 * gradient put back in place, in one pass (tfjs's stack of them is two
 * concatenations through a transpose, about 25 ms for the ResNet-20 shapes).
 */
function interleavePhases(heap: WasmHeap, inputs: Record<string, TensorInfo>, g: InterleaveAttrs): TensorInfo {
  const first = inputs.p0;
  const [n, rows, cols, ch] = first.shape;
  const { strideHeight: sh, strideWidth: sw, height: h, width: w } = g;
  const out = heap.makeOutput([n, h, w, ch], 'float32');
  const to = heap.typedArrayFromHeap(out);
  if (g.given.length < sh * sw) to.fill(0);
  // Offsets of each phase's data on the heap, for copyWithin (a native copy) of one pixel's channels at a time.
  const phaseAt: number[] = Array.from({ length: sh * sw }, () => -1);
  g.given.forEach((at, k) => (phaseAt[at] = heap.typedArrayFromHeap(inputs[`p${k}`]).byteOffset / 4));
  const all = new Float32Array(to.buffer);
  const toAt = to.byteOffset / 4;
  for (let b = 0; b < n; b++) {
    for (let ih = 0; ih < h; ih++) {
      const q = Math.floor(ih / sh);
      for (let rw = 0; rw < sw; rw++) {
        const from = phaseAt[(ih % sh) * sw + rw];
        if (from < 0) continue;
        let src = from + (b * rows + q) * cols * ch;
        for (let dst = toAt + ((b * h + ih) * w + rw) * ch, end = toAt + (b * h + ih + 1) * w * ch; dst < end; dst += sw * ch, src += ch) {
          all.copyWithin(dst, src, src + ch);
        }
      }
    }
  }
  return out;
}

export type StockKernel = (args: KernelArgs) => unknown;

/** Replaces one of wasm's kernels by `fn`, which gets wasm's own to hand the cases it leaves. */
export function replaceWasmKernel(tf: TF, name: string, fn: (args: KernelArgs, stock: StockKernel) => unknown): void {
  const stock = tf.getKernel(name, 'wasm');
  if (!stock) throw new Error(`the wasm backend has no ${name} kernel to replace`);
  tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({ ...stock, kernelFunc: ((args: KernelArgs) => fn(args, stock.kernelFunc as never)) as never });
}

/** Registers the heap kernels on tfjs's wasm backend in place of wasm's own, and Im2ColRows. */
export function registerWasmHeapKernels(tf: TF): void {
  registerWasmReluGrad(tf);
  const replace = (name: string, fn: (args: KernelArgs, stock: StockKernel) => unknown) => replaceWasmKernel(tf, name, fn);

  if (!tf.getKernel(IM2COL_ROWS, 'wasm'))
    tf.registerKernel({
      kernelName: IM2COL_ROWS,
      backendName: 'wasm',
      kernelFunc: (({ inputs, attrs, backend }: KernelArgs) => im2colRows(backend as WasmHeap, inputs.x, attrs as unknown as Im2ColAttrs)) as never,
    });

  if (!tf.getKernel(INTERLEAVE_PHASES, 'wasm'))
    tf.registerKernel({
      kernelName: INTERLEAVE_PHASES,
      backendName: 'wasm',
      kernelFunc: (({ inputs, attrs, backend }: KernelArgs) => interleavePhases(backend as WasmHeap, inputs, attrs as unknown as InterleaveAttrs)) as never,
    });

  replace('MaxPoolGrad', ({ inputs, attrs, backend }) => {
    const a = attrs as {
      filterSize: number | [number, number];
      strides: number | [number, number];
      pad: 'same' | 'valid' | number;
      dimRoundingMode?: Rounding;
    };
    const c = tf.backend_util.computePool2DInfo(inputs.input.shape as never, a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
    return maxPoolGrad(backend as WasmHeap, inputs.dy, inputs.input, c);
  });

  const reduceMiddle = (mean: boolean) => (args: KernelArgs, stock: StockKernel) => {
    const { x } = args.inputs;
    const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean };
    const axes = tf.util.parseAxisParam(axis, x.shape);
    const view = x.dtype === 'float32' ? middleView(x.shape, axes) : undefined;
    if (!view) return stock(args);
    const outShape = keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
    return sumMiddle(args.backend as WasmHeap, x, view, outShape, mean ? view[1] : 0);
  };
  replace('Sum', reduceMiddle(false));
  replace('Mean', reduceMiddle(true));

  replace('Slice', (args, stock) => {
    const { x } = args.inputs;
    const a = args.attrs as { begin: number | number[]; size: number | number[] };
    const [begin, size] = tf.slice_util.parseSliceParams(x as never, a.begin, a.size);
    if (x.dtype === 'string' || size.length === 0 || size.includes(0)) return stock(args);
    return slice(args.backend as WasmHeap, x, begin, size);
  });

  replace('Concat', (args, stock) => {
    const all = Object.values(args.inputs);
    const axis = tf.util.parseAxisParam((args.attrs as { axis: number }).axis, all[0].shape)[0];
    const given = all.filter((t) => t.shape.every((d) => d > 0));
    if (given.length < 2 || !HEAP_DTYPES.includes(given[0].dtype) || given.some((t) => t.dtype !== given[0].dtype)) return stock(args);
    tf.backend_util.assertParamsConsistent(
      all.map((t) => t.shape),
      axis,
    );
    return concat(
      args.backend as WasmHeap,
      given,
      axis,
      tf.backend_util.computeOutShape(
        all.map((t) => t.shape),
        axis,
      ),
    );
  });

  // wasm's SplitV slices with its own Slice, not the registered one.
  replace('SplitV', (args, stock) => {
    const { x } = args.inputs;
    const { numOrSizeSplits, axis } = args.attrs as { numOrSizeSplits: number | number[]; axis: number };
    if (!HEAP_DTYPES.includes(x.dtype) || x.shape.includes(0)) return stock(args);
    const a = tf.util.parseAxisParam(axis, x.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(x as never, numOrSizeSplits, a);
    if (sizes.includes(0)) return stock(args);
    const begin = x.shape.map(() => 0);
    return sizes.map((s) => {
      const size = x.shape.slice();
      size[a] = s;
      const part = slice(args.backend as WasmHeap, x, begin.slice(), size);
      begin[a] += s;
      return part;
    });
  });

  // wasm's Unpack (a sequence split into its time steps) slices with its own Slice too,
  // which reads the whole input out of the heap for every step: 6.7 ms for [64, 10, 64]
  // by axis 1, 0.14 ms here.
  replace('Unpack', (args, stock) => {
    const x = args.inputs.value;
    if (!HEAP_DTYPES.includes(x.dtype) || x.shape.includes(0)) return stock(args);
    const a = tf.util.parseAxisParam((args.attrs as { axis: number }).axis, x.shape)[0];
    const begin = x.shape.map(() => 0);
    const size = x.shape.slice();
    size[a] = 1;
    const outShape = x.shape.filter((_, i) => i !== a);
    return Array.from({ length: x.shape[a] }, (_, i) => {
      begin[a] = i;
      return { ...slice(args.backend as WasmHeap, x, begin.slice(), size), shape: outShape };
    });
  });

  replace('Add', (args, stock) => addRow(args, stock) ?? spreadThenApply(args, stock) ?? stock(args));
  for (const name of SPREAD_BINARY_OPS)
    replace(name, (args, stock) => (name === 'Multiply' ? spreadMultiply(args) : undefined) ?? spreadThenApply(args, stock) ?? stock(args));

  if (!tf.getKernel(TILE_GRAD, 'wasm'))
    tf.registerKernel({
      kernelName: TILE_GRAD,
      backendName: 'wasm',
      kernelFunc: (({ inputs, attrs, backend }: KernelArgs) => tileGrad(backend as WasmHeap, inputs.dy, (attrs as { reps: number[] }).reps)) as never,
    });

  // wasm's Transpose is quick up to rank 4 but takes a slow general path above
  // (120 ms for a local-attention window's [196, 25, 16, 2, 8] by [2, 3, 0, 1, 4],
  // which is [4900, 32, 8] by [1, 0, 2]: 1 ms): it gets the axes merged.
  replace('Transpose', (args, stock) => {
    const { x } = args.inputs;
    const { perm } = args.attrs as { perm: number[] };
    const axes = simplifyTranspose(x.shape, perm);
    // Only size-1 axes move (a head axis of 1, a 2-d perm [0, 1]): the data's order stays, so it is
    // shared, as Identity's. (Shared under another shape, it is safe as a matmul operand through
    // wasm-xnn-matmul's guard.)
    if (x.dtype !== 'string' && axes.perm.every((p, i) => p === i)) {
      (args.backend as WasmHeap).incRef(x.dataId);
      return { dataId: x.dataId, shape: perm.map((a) => x.shape[a]), dtype: x.dtype };
    }
    if (axes.shape.length >= x.shape.filter((d) => d !== 1).length || axes.shape.length < 2) return stock(args);
    const out = stock({ ...args, inputs: { x: { ...x, shape: axes.shape } }, attrs: { perm: axes.perm } }) as TensorInfo;
    return { ...out, shape: perm.map((a) => x.shape[a]) };
  });

  replace('GatherV2', (args, stock) => {
    const { x, indices } = args.inputs;
    const { axis, batchDims } = args.attrs as { axis: number; batchDims: number };
    if (batchDims || x.dtype === 'string' || indices.dtype !== 'int32' || x.shape.includes(0) || indices.shape.includes(0)) return stock(args);
    const a = tf.util.parseAxisParam(axis, x.shape)[0];
    return gather(args.backend as WasmHeap, x, indices, a) ?? stock(args);
  });

  if (!tf.getKernel(EXTREMUM_GRAD, 'wasm'))
    tf.registerKernel({
      kernelName: EXTREMUM_GRAD,
      backendName: 'wasm',
      kernelFunc: (({ inputs, backend }: KernelArgs) => extremumGrad(backend as WasmHeap, inputs.dy, inputs.x, inputs.y)) as never,
    });

  replace('Tile', (args, stock) => {
    const { x } = args.inputs;
    const { reps } = args.attrs as { reps: number[] };
    if (x.dtype === 'string' || x.shape.length === 0 || x.shape.includes(0) || reps.includes(0)) return stock(args);
    return tile(args.backend as WasmHeap, x, reps);
  });

  replace('PadV2', (args, stock) => {
    const { x } = args.inputs;
    const { paddings, constantValue } = args.attrs as { paddings: [number, number][]; constantValue: number };
    if (x.dtype === 'string' || x.shape.length === 0 || x.shape.includes(0)) return stock(args);
    return pad(args.backend as WasmHeap, x, paddings, constantValue);
  });

  // Tensors are immutable (a variable's assign swaps its data id, and in-place
  // writers check that they hold the only reference), so an identity, or a cast
  // to the same type, can share its input's data, as the cpu backend's does.
  const share = (args: KernelArgs, stock: StockKernel) => {
    const { x } = args.inputs;
    const dtype = (args.attrs as { dtype?: string } | undefined)?.dtype ?? x.dtype;
    if (x.dtype === 'string' || dtype !== x.dtype) return stock(args);
    (args.backend as WasmHeap).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
  replace('Identity', share);
  replace('Cast', (args, stock) => {
    const { x } = args.inputs;
    const { dtype } = args.attrs as { dtype: string };
    if (dtype !== 'bool' || x.dtype === 'bool' || x.dtype === 'string') return share(args, stock);
    // wasm's own copies numbers into bytes (2.7 becomes 2, 256 becomes 0); a bool is x != 0, as on cpu.
    const heap = args.backend as WasmHeap;
    const out = heap.makeOutput(x.shape, 'bool');
    const to = heap.typedArrayFromHeap(out);
    const from = heap.typedArrayFromHeap(x);
    for (let i = 0; i < from.length; i++) to[i] = from[i] !== 0 ? 1 : 0;
    return out;
  });
}

/** Binary ops that get a spread operand tiled out (Add too, after addRow). */
const SPREAD_BINARY_OPS = ['Sub', 'Multiply', 'RealDiv', 'SquaredDifference'];

export const WASM_HEAP_KERNELS = [
  ...SPREAD_BINARY_OPS,
  'MaxPoolGrad',
  'Sum',
  'Mean',
  'Slice',
  'Concat',
  'SplitV',
  'Unpack',
  'PadV2',
  'Add',
  'Tile',
  'Transpose',
  'GatherV2',
  'Identity',
  'Cast',
  IM2COL_ROWS,
  INTERLEAVE_PHASES,
  TILE_GRAD,
  EXTREMUM_GRAD,
  RELU_GRAD,
] as const;
