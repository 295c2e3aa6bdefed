// Batch normalisation on the wasm heap: the forward kernel, and its gradient in
// one pass. wasm's own FusedBatchNorm takes 18 ms or more for a [64, 28, 28, 16]
// batch; tfjs's gradient is a chain of fifteen full-size ops, among them a Tile
// (about 300 ms on wasm before the heap Tile) and five reductions. Both give the
// cpu backend's values to the bit: the forward is the cpu kernel's own loop, the
// gradient rounds every product to float32 where tfjs's op chain does and sums
// in float64 in the cpu Sum's order.
// The training kernels' per-channel loops (statistics, forward, gradient) run
// in wasm SIMD where it compiles (wasm-batch-norm-simd.ts, the same float64
// operations in the same order, 3 to 4x faster), here in JavaScript otherwise.
import type { TF, Tensor } from '../blocks/contract.js';
import { oncePerEngine } from './once.js';
import { batchNormSimd, QUAD_SCRATCH, scratchIndex, type BatchNormSimd } from './wasm-batch-norm-simd.js';
import { replaceWasmKernel, type KernelArgs, type TensorInfo, type WasmHeap } from './wasm-heap-kernels.js';

/** Kernel name of the batch norm gradient on the wasm backend (inputs { dy, x, mean, variance, scale }, attrs { varianceEpsilon }). */
export const BATCH_NORM_GRADS = 'BatchNormGrads';

const f32 = Math.fround;
const sizeOf = (t: TensorInfo) => t.shape.reduce((a, b) => a * b, 1);
/** Values per block of rows in the one-pass loops: dy, x and dx of a block fit in a 32 KiB L1 cache. */
const BLOCK_VALUES = 2048;

let simdAllowed = true;
/** Whether the loops below may run in wasm SIMD where it compiles (on by default; off, they run in JavaScript only, for tests and benchmarks). */
export function useBatchNormSimd(on: boolean): void {
  simdAllowed = on;
}

/** The SIMD kernels and a zeroed scratch area on the heap for the first `channels` (a multiple of 4) of c channels. */
interface Simd {
  kernels: BatchNormSimd;
  channels: number;
  scratch: TensorInfo;
}

/** SIMD for the first c − c mod 4 channels of `rows` rows of c, where it applies: allocate before taking views (a heap that grows detaches them). */
function simdFor(heap: WasmHeap, c: number, rows: number): Simd | null {
  const channels = c & ~3;
  const kernels = simdAllowed && channels > 0 && rows > 0 && Number.isInteger(rows) ? batchNormSimd(heap) : null;
  if (!kernels) return null;
  return { kernels, channels, scratch: heap.makeOutput([2 * QUAD_SCRATCH * (channels / 4)], 'float32') };
}

/** Writes each column's first simd.channels values into slot t (its index in `columns`), zeroes the other slots, and returns the scratch as float64 (malloc aligns it to 8 bytes at least) with its address. */
function fillScratch(heap: WasmHeap, simd: Simd, columns: ArrayLike<number>[]): [Float64Array, number] {
  const [slots, address] = scratchView(heap, simd);
  columns.forEach((column, t) => {
    for (let k = 0; k < simd.channels; k++) slots[scratchIndex(k, t)] = column[k];
  });
  return [slots, address];
}

/** The scratch as float64 (malloc aligns it to 8 bytes at least), zeroed, and its address. */
function scratchView(heap: WasmHeap, simd: Simd): [Float64Array, number] {
  const bytes = heap.typedArrayFromHeap(simd.scratch);
  const view = new Float64Array(bytes.buffer, bytes.byteOffset, bytes.length / 2).fill(0);
  return [view, bytes.byteOffset];
}

/** The cpu backend's batchNorm loop: offset + (x - mean) · scale / sqrt(variance + ε) in float64, each parameter indexed cyclically. */
function batchNorm(heap: WasmHeap, inputs: Record<string, TensorInfo | undefined>, epsilon: number): TensorInfo {
  const { x: xInfo, mean, variance, scale, offset } = inputs as Record<string, TensorInfo>;
  const out = heap.makeOutput(xInfo.shape, 'float32');
  const [size, channels] = [sizeOf(xInfo), sizeOf(mean)];
  // The per-channel case below, where SIMD takes the first channels.
  const simd = channels < size && [variance, scale, offset].every((t) => t && sizeOf(t) === channels) ? simdFor(heap, channels, size / channels) : null;
  const y = heap.typedArrayFromHeap(out);
  const x = heap.typedArrayFromHeap(xInfo);
  const m = heap.typedArrayFromHeap(mean);
  const v = heap.typedArrayFromHeap(variance);
  const s = scale ? heap.typedArrayFromHeap(scale) : new Float32Array([1]);
  const o = offset ? heap.typedArrayFromHeap(offset) : new Float32Array([0]);
  const n = x.length;
  if (m.length === n && v.length === n && s.length === n && o.length === n) {
    // Parameters as large as x (tfjs-layers' LayerNormalization tiles its statistics, scale and offset): no index wraps.
    for (let i = 0; i < n; i++) y[i] = o[i] + ((x[i] - m[i]) * s[i]) / Math.sqrt(v[i] + epsilon);
    return out;
  }
  if (m.length === v.length && s.length === m.length && o.length === m.length) {
    // The common case, parameters of one length: the channel cycles once per row.
    // The same float64 divisor as the cpu loop's, taken once per channel.
    const c = m.length;
    const root = new Float64Array(c);
    for (let k = 0; k < c; k++) root[k] = Math.sqrt(v[k] + epsilon);
    let from = 0;
    if (simd) {
      const address = fillScratch(heap, simd, [m, s, o, root])[1];
      simd.kernels.bnForward(x.byteOffset, y.byteOffset, address, n / c, 4 * c, 4 * simd.channels);
      heap.disposeData(simd.scratch.dataId);
      from = simd.channels;
    }
    const block = Math.max(1, Math.floor(BLOCK_VALUES / c)) * c;
    for (let first = 0; first < n; first += block) {
      const end = Math.min(n, first + block);
      for (let k = from; k < c; k++) {
        const ok = o[k],
          mk = m[k],
          sk = s[k],
          rootK = root[k];
        for (let i = first + k; i < end; i += c) y[i] = ok + ((x[i] - mk) * sk) / rootK;
      }
    }
    return out;
  }
  for (let i = 0; i < n; i++) y[i] = o[i % o.length] + ((x[i] - m[i % m.length]) * s[i % s.length]) / Math.sqrt(v[i % v.length] + epsilon);
  return out;
}

/**
 * dx, dmean, dvariance, dscale, doffset of a batch norm with per-channel
 * parameters ([C], the last axis), as tfjs's gradient computes them:
 *   r = rsqrt(variance + ε), dx = dy·r·scale,
 *   dmean = Σ -r·(dy·scale), dvariance = Σ (-½r³·(x - mean))·(dy·scale),
 *   dscale = Σ dy·((x - mean)·r), doffset = Σ dy,
 * each product rounded to float32 as its op rounds it, each sum in float64.
 */
function batchNormGrads(heap: WasmHeap, inputs: Record<string, TensorInfo>, epsilon: number): TensorInfo[] {
  const c = inputs.mean.shape[0];
  const outs = [heap.makeOutput(inputs.x.shape, 'float32'), ...[0, 1, 2, 3].map(() => heap.makeOutput([c], 'float32'))];
  const [dx, dMean, dVariance, dScale, dOffset] = outs.map((t) => heap.typedArrayFromHeap(t));
  const dy = heap.typedArrayFromHeap(inputs.dy);
  const x = heap.typedArrayFromHeap(inputs.x);
  const m = heap.typedArrayFromHeap(inputs.mean);
  const v = heap.typedArrayFromHeap(inputs.variance);
  const s = heap.typedArrayFromHeap(inputs.scale);
  const eps = f32(epsilon);
  const r = new Float32Array(c);
  const minusHalfRCube = new Float32Array(c);
  for (let k = 0; k < c; k++) {
    r[k] = 1 / Math.sqrt(f32(v[k] + eps));
    minusHalfRCube[k] = f32(f32(r[k] * r[k]) * r[k]) * -0.5;
  }
  const sums = [new Float64Array(c), new Float64Array(c), new Float64Array(c), new Float64Array(c)];
  const [sMean, sVariance, sScale, sOffset] = sums;
  // A block of rows at a time, channel by channel within it: the channel's
  // constants and running sums stay in locals (4x faster than indexing them per
  // element) while the block stays in cache; each sum still adds its rows in order.
  const rows = x.length / c;
  const block = Math.max(1, Math.floor(BLOCK_VALUES / c));
  for (let first = 0; first < rows; first += block) {
    const end = Math.min(rows, first + block) * c;
    for (let k = 0; k < c; k++) {
      const rk = r[k],
        mk = m[k],
        sk = s[k],
        hk = minusHalfRCube[k],
        negR = -rk;
      let aMean = sMean[k],
        aVariance = sVariance[k],
        aScale = sScale[k],
        aOffset = sOffset[k];
      for (let i = first * c + k; i < end; i += c) {
        const g = dy[i];
        const xm = f32(x[i] - mk);
        const gs = f32(g * sk);
        dx[i] = f32(g * rk) * sk;
        aMean += f32(negR * gs);
        aVariance += f32(f32(hk * xm) * gs);
        aScale += f32(g * f32(xm * rk));
        aOffset += g;
      }
      sMean[k] = aMean;
      sVariance[k] = aVariance;
      sScale[k] = aScale;
      sOffset[k] = aOffset;
    }
  }
  dMean.set(sMean);
  dVariance.set(sVariance);
  dScale.set(sScale);
  dOffset.set(sOffset);
  return outs;
}

/** Kernel name of a batch's per-channel statistics on wasm (inputs { x }; outputs [mean, variance], the biased variance). */
export const BATCH_NORM_STATS = 'BatchNormStats';
/** Kernel name of training-mode batch norm's gradient on wasm (inputs { dy, x, mean, variance, scale }, attrs { varianceEpsilon }; outputs [dx, dscale, doffset]). */
export const BATCH_NORM_TRAINING_GRAD = 'BatchNormTrainingGrad';

/**
 * Mean and biased variance over every axis but the last, in one pass: the sum
 * and the sum of squares in float64, where tf.moments takes four full-size ops.
 * float64 keeps the difference of the two sums exact to float32 precision
 * unless a channel's mean exceeds its spread some 10⁴-fold.
 */
function batchStats(heap: WasmHeap, xInfo: TensorInfo): TensorInfo[] {
  const c = xInfo.shape[xInfo.shape.length - 1];
  const rows = sizeOf(xInfo) / c;
  const outs = [heap.makeOutput([c], 'float32'), heap.makeOutput([c], 'float32')];
  const simd = simdFor(heap, c, rows);
  const [mean, variance] = outs.map((t) => heap.typedArrayFromHeap(t));
  const x = heap.typedArrayFromHeap(xInfo);
  const sums = new Float64Array(c);
  const squares = new Float64Array(c);
  let from = 0;
  if (simd) {
    const [slots, address] = scratchView(heap, simd);
    simd.kernels.bnStats(x.byteOffset, address, rows, 4 * c, 4 * simd.channels);
    for (let k = 0; k < simd.channels; k++) [sums[k], squares[k]] = [slots[scratchIndex(k, 0)], slots[scratchIndex(k, 1)]];
    heap.disposeData(simd.scratch.dataId);
    from = simd.channels;
  }
  // Blocked as in batchNormGrads, each channel's sums in locals (a callback per channel measured 1.6x slower).
  const block = Math.max(1, Math.floor(BLOCK_VALUES / c));
  for (let first = 0; first < rows; first += block) {
    const end = Math.min(rows, first + block) * c;
    for (let k = from; k < c; k++) {
      let a = sums[k],
        b = squares[k];
      for (let i = first * c + k; i < end; i += c) {
        const v = x[i];
        a += v;
        b += v * v;
      }
      sums[k] = a;
      squares[k] = b;
    }
  }
  for (let k = 0; k < c; k++) {
    const m = sums[k] / rows;
    mean[k] = m;
    variance[k] = Math.max(0, squares[k] / rows - m * m);
  }
  return outs;
}

/**
 * The gradient of y = (x − mean)·r·scale + offset, r = 1/√(variance + ε), where
 * mean and variance are the batch's own (training mode), in closed form: with
 * x̂ = (x − mean)·r and n values per channel,
 *   dx = scale·r·(dy − Σdy/n − x̂·Σ(dy·x̂)/n), dscale = Σ dy·x̂, doffset = Σ dy.
 * Two passes (the sums in float64, then dx), where tfjs differentiates through
 * the batch norm and tf.moments' mean, deviation, square and mean.
 */
function batchNormTrainingGrad(heap: WasmHeap, inputs: Record<string, TensorInfo>, epsilon: number): TensorInfo[] {
  const c = inputs.mean.shape[0];
  const rows = sizeOf(inputs.x) / c;
  const outs = [heap.makeOutput(inputs.x.shape, 'float32'), heap.makeOutput([c], 'float32'), heap.makeOutput([c], 'float32')];
  const simd = simdFor(heap, c, rows);
  const [dx, dScale, dOffset] = outs.map((t) => heap.typedArrayFromHeap(t));
  const dy = heap.typedArrayFromHeap(inputs.dy);
  const x = heap.typedArrayFromHeap(inputs.x);
  const m = heap.typedArrayFromHeap(inputs.mean);
  const v = heap.typedArrayFromHeap(inputs.variance);
  const s = heap.typedArrayFromHeap(inputs.scale);
  const r = new Float64Array(c);
  for (let k = 0; k < c; k++) r[k] = 1 / Math.sqrt(v[k] + epsilon);
  const sumDy = new Float64Array(c);
  const sumDyXhat = new Float64Array(c);
  const from = simd ? simd.channels : 0;
  if (simd) {
    const [slots, address] = fillScratch(heap, simd, [m, r]);
    simd.kernels.bnGradSums(x.byteOffset, dy.byteOffset, address, rows, 4 * c, 4 * from);
    for (let k = 0; k < from; k++) [sumDy[k], sumDyXhat[k]] = [slots[scratchIndex(k, 2)], slots[scratchIndex(k, 3)]];
  }
  const block = Math.max(1, Math.floor(BLOCK_VALUES / c));
  for (let first = 0; first < rows; first += block) {
    const end = Math.min(rows, first + block) * c;
    for (let k = from; k < c; k++) {
      const mk = m[k],
        rk = r[k];
      let a = sumDy[k],
        b = sumDyXhat[k];
      for (let i = first * c + k; i < end; i += c) {
        const g = dy[i];
        a += g;
        b += g * (x[i] - mk) * rk;
      }
      sumDy[k] = a;
      sumDyXhat[k] = b;
    }
  }
  const gain = new Float64Array(c);
  const meanDy = new Float64Array(c);
  const meanDyXhat = new Float64Array(c);
  for (let k = 0; k < c; k++) [gain[k], meanDy[k], meanDyXhat[k]] = [s[k] * r[k], sumDy[k] / rows, (sumDyXhat[k] / rows) * r[k]];
  if (simd) {
    const address = fillScratch(heap, simd, [m, gain, meanDy, meanDyXhat])[1];
    simd.kernels.bnGradDx(x.byteOffset, dy.byteOffset, dx.byteOffset, address, rows, 4 * c, 4 * from);
    heap.disposeData(simd.scratch.dataId);
  }
  for (let first = 0; first < rows; first += block) {
    const end = Math.min(rows, first + block) * c;
    for (let k = from; k < c; k++) {
      const mk = m[k],
        gk = gain[k],
        dk = meanDy[k],
        hk = meanDyXhat[k];
      for (let i = first * c + k; i < end; i += c) dx[i] = gk * (dy[i] - dk - (x[i] - mk) * hk);
    }
  }
  dScale.set(sumDyXhat);
  dOffset.set(sumDy);
  return outs;
}

/**
 * Registers the heap FusedBatchNorm on wasm, the one-pass gradient kernel, and
 * FusedBatchNorm's gradient, which uses that kernel where it applies (wasm, a
 * scale and offset per channel of the last axis) and tfjs's own otherwise.
 */
export const registerWasmBatchNorm = oncePerEngine((tf: TF): void => {
  replaceWasmKernel(tf, 'FusedBatchNorm', (args, stock) => {
    const { x } = args.inputs;
    if (x.dtype !== 'float32' || x.shape.includes(0)) return stock(args);
    const { varianceEpsilon } = (args.attrs ?? {}) as { varianceEpsilon?: number };
    return batchNorm(args.backend as WasmHeap, args.inputs, varianceEpsilon ?? 0.001);
  });
  const heapKernel = (kernelName: string, run: (heap: WasmHeap, inputs: Record<string, TensorInfo>, epsilon: number) => TensorInfo[]) => {
    if (tf.getKernel(kernelName, 'wasm')) return;
    tf.registerKernel({
      kernelName,
      backendName: 'wasm',
      kernelFunc: (({ inputs, attrs, backend }: KernelArgs) =>
        run(backend as WasmHeap, inputs, (attrs as { varianceEpsilon?: number }).varianceEpsilon ?? 0)) as never,
    });
  };
  heapKernel(BATCH_NORM_GRADS, batchNormGrads);
  heapKernel(BATCH_NORM_STATS, (heap, { x }) => batchStats(heap, x));
  heapKernel(BATCH_NORM_TRAINING_GRAD, batchNormTrainingGrad);

  const stock = tf.getGradient('FusedBatchNorm');
  if (!stock) throw new Error('tfjs has no FusedBatchNorm gradient to replace');
  tf.registerGradient({
    ...stock,
    gradFunc: (dy, saved, attrs) => {
      const [x, mean, variance, scale] = saved;
      const c = x.shape[x.shape.length - 1];
      const fits =
        tf.getBackend() === 'wasm' &&
        scale != null &&
        mean.rank === 1 &&
        x.rank >= 2 &&
        [mean, variance, scale].every((t) => t.rank === 1 && t.shape[0] === c && t.dtype === 'float32') &&
        x.dtype === 'float32' &&
        x.size > 0;
      if (!fits) return stock.gradFunc(dy, saved, attrs);
      const { varianceEpsilon } = attrs as unknown as { varianceEpsilon: number };
      const [dx, dMean, dVariance, dScale, dOffset] = tf
        .engine()
        .runKernel(BATCH_NORM_GRADS, { dy: dy as Tensor, x, mean, variance, scale }, { varianceEpsilon } as never) as unknown as Tensor[];
      return { x: () => dx, mean: () => dMean, variance: () => dVariance, scale: () => dScale, offset: () => dOffset };
    },
  });
});
