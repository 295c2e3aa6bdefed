// The gradients of 2-D and depthwise convolutions written with tfjs ops (NHWC):
// the gradients of a convolution are themselves convolutions and matrix products
// of shifted views, so they run in each backend's fast forward kernels. The wasm
// backend's training kernels (wasm-kernels) and the dilated Conv2D gradient
// (dilated-conv) are built from these.
import type { TF, Tensor } from '../blocks/contract.js';
import { IM2COL_ROWS, INTERLEAVE_PHASES, type Im2ColAttrs, type InterleaveAttrs } from './wasm-heap-kernels.js';
import { FLIP_FILTER, type FlipFilterAttrs } from './wasm-flip-filter.js';

export type T4 = ReturnType<TF['tensor4d']>;
export type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
export type Rounding = 'floor' | 'round' | 'ceil' | undefined;
export type ConvInfo = ReturnType<TF['backend_util']['computeConv2DInfo']>;

/** The window geometry of a convolution, from tfjs's own rules (NHWC). */
export function geometry(
  tf: TF,
  inShape: number[],
  filterShape: number[],
  a: { strides: unknown; dilations?: unknown; pad: Pad; dimRoundingMode?: Rounding },
  depthwise: boolean,
): ConvInfo {
  return tf.backend_util.computeConv2DInfo(
    inShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    a.strides as [number, number],
    (a.dilations ?? 1) as [number, number],
    a.pad as 'same',
    a.dimRoundingMode,
    depthwise,
  );
}

/**
 * The input pixels each filter tap (a, b) meets, for every output pixel:
 * a strided view of the padded input, shaped like the output [N, Ho, Wo, C].
 */
function tapView(tf: TF, xPadded: T4, c: ConvInfo, a: number, b: number): T4 {
  const top = a * c.dilationHeight;
  const left = b * c.dilationWidth;
  return tf.stridedSlice(
    xPadded,
    [0, top, left, 0],
    [xPadded.shape[0], top + (c.outHeight - 1) * c.strideHeight + 1, left + (c.outWidth - 1) * c.strideWidth + 1, xPadded.shape[3]],
    [1, c.strideHeight, c.strideWidth, 1],
  ) as T4;
}

/** The input with the forward pass's zero padding made explicit (and any rows the windows never reach kept). */
function padInput(tf: TF, x: T4, c: ConvInfo): T4 {
  const { top, bottom, left, right } = c.padInfo;
  return top || bottom || left || right
    ? tf.pad(x, [
        [0, 0],
        [top, Math.max(0, bottom)],
        [left, Math.max(0, right)],
        [0, 0],
      ])
    : x;
}

/**
 * dW of conv2d. Every filter tap sums input × dy over batch and space, which is a
 * convolution in its own right: the input with batch and channel axes swapped
 * ([Ci, H, W, N]) convolved with dy as the filter ([Ho, Wo, N, Co]), the forward
 * stride becoming the dilation and the forward dilation the stride. XNNPACK runs
 * it about 8x faster than im2col with a matrix product (wasm's BatchMatMul with a
 * transposed operand is slow).
 */
export function conv2dFilterGrad(tf: TF, x: T4, dy: T4, c: ConvInfo): T4 {
  const { top, left } = c.padInfo;
  // The rows the forward windows reach, from -top; beyond the input on the far side is padding, or rows no window read.
  const bottom = (c.filterHeight - 1) * c.dilationHeight + (c.outHeight - 1) * c.strideHeight + 1 - top - c.inHeight;
  const right = (c.filterWidth - 1) * c.dilationWidth + (c.outWidth - 1) * c.strideWidth + 1 - left - c.inWidth;
  const xs = bottom < 0 || right < 0 ? tf.slice(x, 0, [c.batchSize, c.inHeight + Math.min(0, bottom), c.inWidth + Math.min(0, right), c.inChannels]) : x;
  const dw = tf.conv2d(
    tf.transpose(xs, [3, 1, 2, 0]) as T4,
    tf.transpose(dy, [1, 2, 0, 3]) as T4,
    [c.dilationHeight, c.dilationWidth],
    [
      [0, 0],
      [top, Math.max(0, bottom)],
      [left, Math.max(0, right)],
      [0, 0],
    ],
    'NHWC',
    [c.strideHeight, c.strideWidth],
  );
  return tf.transpose(dw, [1, 2, 0, 3]) as T4;
}

/**
 * dW of a stride-1 conv2d with few input channels, as one matrix product: the
 * input pixels each tap meets (im2col, one row per tap and input channel) times
 * dy. XNNPACK repacks the operand that holds dy on every call, and packs it for a
 * matrix product about twice as fast as for a convolution; the rows cost a copy
 * of kh·kw·Ci values per output pixel, less than the packing saved while
 * kh·kw·Ci <= Co (the bench net's first layer: 9 rows against 16 channels).
 * The rows come from the wasm heap kernel Im2ColRows: wasm only.
 */
export function conv2dFilterGradByMatMul(tf: TF, x: T4, dy: T4, c: ConvInfo): T4 {
  const [n, , , ci] = x.shape;
  const pixels = n * c.outHeight * c.outWidth;
  const { filterHeight, filterWidth, dilationHeight, dilationWidth, outHeight, outWidth } = c;
  const windows: Im2ColAttrs = {
    filterHeight,
    filterWidth,
    dilationHeight,
    dilationWidth,
    outHeight,
    outWidth,
    padTop: c.padInfo.top,
    padLeft: c.padInfo.left,
  };
  const cols = tf.engine().runKernel(IM2COL_ROWS, { x }, windows as never) as ReturnType<TF['tensor2d']>;
  return tf.matMul(cols, dy.reshape([pixels, c.outChannels])).reshape([c.filterHeight, c.filterWidth, ci, c.outChannels]);
}

type ExplicitPad = [[number, number], [number, number], [number, number], [number, number]];

/**
 * dy laid out on the input grid for a transposed convolution: zeros between rows
 * and columns when the forward pass was strided, and the padding (explicit, so
 * the convolution applies it for free) with which each input pixel sees every
 * output pixel it fed. Negative padding, where the forward padding exceeds the
 * window's reach, crops instead.
 */
function spreadGrad(tf: TF, dy: T4, c: ConvInfo): { g: T4; pad: ExplicitPad } {
  const [n, ho, wo, ch] = dy.shape;
  const sh = c.strideHeight;
  const sw = c.strideWidth;
  let g: T4 = dy;
  if (sh > 1 || sw > 1) {
    g = tf
      .pad(dy.reshape([n, ho, 1, wo, 1, ch]), [
        [0, 0],
        [0, 0],
        [0, sh - 1],
        [0, 0],
        [0, sw - 1],
        [0, 0],
      ])
      .reshape([n, ho * sh, wo * sw, ch]);
  }
  const side = (out: number, s: number, inSize: number, eff: number, before: number) => {
    const len = (out - 1) * s + 1;
    const lead = eff - 1 - before;
    const trail = inSize + eff - 1 - lead - len;
    return { from: Math.max(0, -lead), to: len + Math.min(0, trail), pad: [Math.max(0, lead), Math.max(0, trail)] as [number, number] };
  };
  const h = side(ho, sh, c.inHeight, c.effectiveFilterHeight, c.padInfo.top);
  const w = side(wo, sw, c.inWidth, c.effectiveFilterWidth, c.padInfo.left);
  if (h.from || w.from || h.to !== g.shape[1] || w.to !== g.shape[2]) g = tf.slice(g, [0, h.from, w.from, 0], [n, h.to - h.from, w.to - w.from, ch]);
  return { g, pad: [[0, 0], h.pad, w.pad, [0, 0]] };
}

/**
 * The taps of one phase of a filter (rows phaseHeight, + strideHeight, ...;
 * likewise columns), turned 180° and with the channel axes swapped: the filter
 * of an input gradient as a convolution. In one wasm heap kernel where the
 * backend has it, else as ops.
 */
function turnedFilter(tf: TF, filter: T4, taps: FlipFilterAttrs): T4 {
  if (filter.dtype === 'float32' && tf.getKernel(FLIP_FILTER, tf.getBackend())) return tf.engine().runKernel(FLIP_FILTER, { filter }, taps as never) as T4;
  const [kh, kw, ci, co] = filter.shape;
  const { phaseHeight: ph, phaseWidth: pw, strideHeight: sh, strideWidth: sw } = taps;
  const picked = ph || pw || sh > 1 || sw > 1 ? (tf.stridedSlice(filter, [ph, pw, 0, 0], [kh, kw, ci, co], [sh, sw, 1, 1]) as T4) : filter;
  return tf.transpose(tf.reverse(picked, [0, 1]), [0, 1, 3, 2]) as T4;
}

/**
 * dx of conv2d: the spread gradient convolved with the filter turned 180° and
 * its channel axes swapped. A strided undilated convolution takes its phases
 * instead (conv2dInputGradByPhases, on wasm), which skips the spread's zeros.
 */
export function conv2dInputGrad(tf: TF, dy: T4, filter: T4, c: ConvInfo): T4 {
  const strided = c.strideHeight > 1 || c.strideWidth > 1;
  const byPhases = strided && c.dilationHeight === 1 && c.dilationWidth === 1 && tf.getKernel(INTERLEAVE_PHASES, tf.getBackend());
  if (byPhases) return conv2dInputGradByPhases(tf, dy, filter, c);
  const flipped = turnedFilter(tf, filter, { phaseHeight: 0, phaseWidth: 0, strideHeight: 1, strideWidth: 1 });
  const { g, pad } = spreadGrad(tf, dy, c);
  return tf.conv2d(g, flipped, 1, pad, 'NHWC', [c.dilationHeight, c.dilationWidth]);
}

/**
 * One phase of a strided convolution's input gradient along one axis: the input
 * rows ih ≡ residue (mod stride) are touched only by the taps a ≡ ih + before
 * (mod stride), each output row q of the phase (input row residue + q·stride)
 * summing dy[q0 + q - t] · W[phase + t·stride] over those taps t. As a plain
 * stride-1 convolution of dy with that sub-filter reversed: where it starts in
 * dy (`from`, `to`, inclusive) and the zero padding around it. `rows` output
 * rows are made whether or not the input has that many in this phase; the
 * surplus is cut off after the phases are interleaved.
 */
function phaseAxis(residue: number, stride: number, kernel: number, before: number, dyLength: number, rows: number) {
  const phase = (residue + before) % stride;
  const taps = phase < kernel ? Math.ceil((kernel - phase) / stride) : 0;
  const q0 = (residue + before - phase) / stride;
  const lo = q0 - (taps - 1);
  const hi = q0 + rows - 1;
  const from = Math.max(0, lo);
  const to = Math.min(dyLength - 1, hi);
  return { phase, taps, from, to, pad: [Math.max(0, -lo), Math.max(0, hi - (dyLength - 1))] as [number, number] };
}

/**
 * dx of a strided, undilated conv2d as stride_h × stride_w stride-1
 * convolutions, one per phase of the input grid (sub-pixel decomposition):
 * each input pixel only meets the filter taps of its phase, so the phases
 * together multiply exactly the forward pass's products, where the spread
 * gradient (conv2dInputGrad) convolves the whole filter over a grid that is
 * mostly zeros (3/4 of it at stride 2: about 6x the forward time on wasm). The
 * phases are then interleaved into the input grid. Same sums of the same
 * products as the cpu kernel, in another order (float rounding). The
 * interleaving is the wasm heap kernel InterleavePhases: wasm only.
 */
export function conv2dInputGradByPhases(tf: TF, dy: T4, filter: T4, c: ConvInfo): T4 {
  const [n, ho, wo] = dy.shape;
  const [kh, kw, ci] = filter.shape;
  const { strideHeight: sh, strideWidth: sw, inHeight: h, inWidth: w } = c;
  const [rowsH, rowsW] = [Math.ceil(h / sh), Math.ceil(w / sw)];
  const phases: (T4 | null)[] = [];
  for (let rh = 0; rh < sh; rh++) {
    const ph = phaseAxis(rh, sh, kh, c.padInfo.top, ho, rowsH);
    for (let rw = 0; rw < sw; rw++) {
      const pw = phaseAxis(rw, sw, kw, c.padInfo.left, wo, rowsW);
      if (!ph.taps || !pw.taps || ph.from > ph.to || pw.from > pw.to) {
        phases.push(null);
        continue;
      }
      const sub = turnedFilter(tf, filter, { phaseHeight: ph.phase, phaseWidth: pw.phase, strideHeight: sh, strideWidth: sw });
      const whole = ph.from === 0 && pw.from === 0 && ph.to === ho - 1 && pw.to === wo - 1;
      const part = whole ? dy : tf.slice(dy, [0, ph.from, pw.from, 0], [n, ph.to - ph.from + 1, pw.to - pw.from + 1, dy.shape[3]]);
      phases.push(tf.conv2d(part, sub, 1, [[0, 0], ph.pad, pw.pad, [0, 0]]));
    }
  }
  return interleave(tf, phases, n, h, w, ci, c);
}

/** The phases put back in place by the wasm heap kernel InterleavePhases (zero where no tap reaches). */
function interleave(tf: TF, phases: (T4 | null)[], n: number, h: number, w: number, ci: number, c: ConvInfo): T4 {
  const given = phases.flatMap((p, i) => (p ? [i] : []));
  if (!given.length) return tf.zeros([n, h, w, ci]) as T4;
  const inputs = Object.fromEntries(given.map((at, k) => [`p${k}`, phases[at]!]));
  const attrs: InterleaveAttrs = { strideHeight: c.strideHeight, strideWidth: c.strideWidth, height: h, width: w, given };
  return tf.engine().runKernel(INTERLEAVE_PHASES, inputs, attrs as never) as T4;
}

/** dx of a depthwise convolution: each channel's spread gradient against its own turned filter, summed over the multiplier. */
export function depthwiseInputGrad(tf: TF, dy: T4, filter: T4, c: ConvInfo): T4 {
  const [kh, kw, ch, m] = filter.shape;
  const flipped = tf.reverse(filter, [0, 1]).reshape([kh, kw, ch * m, 1]) as T4;
  const { g, pad } = spreadGrad(tf, dy, c);
  const dx = tf.depthwiseConv2d(g, flipped, 1, pad, 'NHWC', [c.dilationHeight, c.dilationWidth]);
  return m === 1 ? dx : (dx.reshape([...dx.shape.slice(0, 3), ch, m]).sum(4) as T4);
}

/** dW of a depthwise convolution: per tap, the input view times dy, summed over batch and space. */
export function depthwiseFilterGrad(tf: TF, x: T4, dy: T4, c: ConvInfo): T4 {
  const ch = c.inChannels;
  const m = c.outChannels / ch;
  const xp = padInput(tf, x, c);
  const dy5 = dy.reshape([c.batchSize, c.outHeight, c.outWidth, ch, m]);
  const taps: Tensor[] = [];
  for (let a = 0; a < c.filterHeight; a++) {
    for (let b = 0; b < c.filterWidth; b++) {
      const v = tapView(tf, xp, c, a, b).expandDims(4);
      taps.push(tf.mul(v, dy5).sum([0, 1, 2]));
    }
  }
  return tf.stack(taps).reshape([c.filterHeight, c.filterWidth, ch, m]);
}
