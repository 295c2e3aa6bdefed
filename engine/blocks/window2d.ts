// What every 2-D sliding window shares (convolutions, pooling): the shape rule and
// padding. Besides TensorFlow's "same"/"valid", padding may be written as
// researchers write it: explicit pixels per side, with PyTorch's semantics.
import { ShapeError, type Dim, type EnumParam, type IntListParam, type SymbolicTensor, type TF } from './contract.js';
import { expectRank, positive } from './shape-rules.js';
import { kerasLayer, tsLayer } from './emit/snippets.js';
import { explicitOut, windowOut } from './window-sizes.js';

export type Padding = 'same' | 'valid' | 'explicit';

export interface Window2d {
  kernel: number;
  stride: number;
  padding: Padding;
  /** With "explicit": one number, [height, width] or [top, bottom, left, right], as PyTorch's `padding=`. */
  pads?: readonly number[];
  dilation?: number;
  /** Pooling only: PyTorch's ceil_mode. */
  ceilMode?: boolean;
}

/** [top, bottom, left, right] per side of a window in pixels. */
export type Sides = [number, number, number, number];

/** The param pair every windowed block declares. */
export const paddingParams: { padding: EnumParam<Padding>; pads: IntListParam } = {
  padding: {
    type: 'enum',
    options: ['same', 'valid', 'explicit'],
    default: 'same',
    doc: 'TensorFlow\'s "same" (keeps the size / stride; pads the extra pixel at the bottom/right) or "valid" (none), or "explicit": the pixels in `pads`, as PyTorch\'s padding argument.',
  },
  pads: {
    type: 'ints',
    default: [0],
    minLength: 1,
    maxLength: 4,
    min: 0,
    max: 64,
    doc: "With explicit padding: one number for every side, [height, width] as PyTorch's padding=(ph, pw), or [top, bottom, left, right].",
  },
};

/** The explicit pads as [top, bottom, left, right]; throws naming the port when the list has 3 entries. */
export function explicitSides(pads: readonly number[], port = 'in'): Sides {
  if (pads.length === 1) return [pads[0], pads[0], pads[0], pads[0]];
  if (pads.length === 2) return [pads[0], pads[0], pads[1], pads[1]];
  if (pads.length === 4) return [pads[0], pads[1], pads[2], pads[3]];
  throw new ShapeError(`pads must have 1, 2 or 4 entries (all sides, [height, width] or [top, bottom, left, right]); got ${pads.length}`, port);
}

/** Batch, output height and output width of a window sliding over an NHWC input; throws naming the port. */
export function window2dShape(x: Dim[], port: string, w: Window2d): [Dim, Dim, Dim] {
  const [b, h, wd] = expectRank(x, port, 4, 'an NHWC image');
  const dilation = w.dilation ?? 1;
  if (dilation > 1 && w.stride > 1) throw new ShapeError(`dilation ${dilation} needs stride 1 (got stride ${w.stride})`, port);
  let oh: Dim, ow: Dim;
  if (w.padding === 'explicit') {
    const [t, bo, l, r] = explicitSides(w.pads ?? [0], port);
    oh = h === null ? null : explicitOut(h, w.kernel, w.stride, t, bo, dilation, w.ceilMode);
    ow = wd === null ? null : explicitOut(wd, w.kernel, w.stride, l, r, dilation, w.ceilMode);
  } else {
    if (w.ceilMode) throw new ShapeError("ceilMode needs explicit padding (PyTorch's ceil_mode)", port);
    oh = windowOut(h, w.kernel, w.stride, w.padding, dilation);
    ow = windowOut(wd, w.kernel, w.stride, w.padding, dilation);
  }
  positive(oh, port, 'output height');
  positive(ow, port, 'output width');
  return [b, oh, ow];
}

/** The explicit padding to apply before a "valid" window op, null when none is needed. */
export function explicitPadding(w: Window2d): Sides | null {
  if (w.padding !== 'explicit') return null;
  const sides = explicitSides(w.pads ?? [0]);
  return sides.some((s) => s > 0) ? sides : null;
}

/**
 * How a convolution applies its padding when built: explicit pads that are exactly
 * what TensorFlow's "same" gives at stride 1 (half the dilated kernel's reach on each
 * side, the odd pixel at the bottom/right) build as "same", which pads inside the
 * kernel; others as a zero-padding layer before a "valid" convolution. The outputs
 * are the same; a separate padding layer costs a padded copy of the input each step,
 * and its gradient a larger input gradient cut back by a Slice. Convolutions only:
 * a pooling window does not count "same"'s padding as zeros.
 */
export function convPadding(w: Window2d): { sides: Sides | null; padding: 'same' | 'valid' } {
  if (w.padding !== 'explicit') return { sides: null, padding: w.padding };
  const sides = explicitPadding(w);
  if (!sides) return { sides: null, padding: 'valid' };
  const reach = (w.kernel - 1) * (w.dilation ?? 1);
  const same = [Math.floor(reach / 2), reach - Math.floor(reach / 2)];
  const isSame = w.stride === 1 && sides[0] === same[0] && sides[1] === same[1] && sides[2] === same[0] && sides[3] === same[1];
  return isSame ? { sides: null, padding: 'same' } : { sides, padding: 'valid' };
}

/** A zero-padding layer before a "valid" convolution (no weights, so weight names are unchanged). */
export function zeroPad(tf: TF, x: SymbolicTensor, [t, b, l, r]: Sides, name: string): SymbolicTensor {
  return tf.layers
    .zeroPadding2d({
      padding: [
        [t, b],
        [l, r],
      ],
      name: `${name}_pad`,
    })
    .apply(x) as SymbolicTensor;
}

/**
 * Explicit padding in exported tfjs or Keras code: a zero-padding layer before the "valid"
 * window, as build() does. `x` is the tensor the window then reads.
 */
export function emitZeroPad(lang: 'tfjs' | 'keras', w: Window2d, input: string, out: string, layer: string): { x: string; body: string[] } {
  const sides = explicitPadding(w);
  if (!sides) return { x: input, body: [] };
  const config = {
    padding: [
      [sides[0], sides[1]],
      [sides[2], sides[3]],
    ],
    name: `${layer}_pad`,
  };
  if (lang === 'tfjs') return { x: `${out}Padded`, body: [tsLayer(`${out}Padded`, 'zeroPadding2d', config, input)] };
  return { x: `${out}_padded`, body: [kerasLayer(`${out}_padded`, 'ZeroPadding2D', [], config, input)] };
}

/** A convolution's options that differ from tfjs's defaults, in tfjs's names ("valid" where explicit padding goes before it). */
export const convOptions = (w: Window2d & { useBias: boolean }) => ({
  strides: w.stride === 1 ? undefined : w.stride,
  padding: w.padding === 'explicit' ? 'valid' : w.padding,
  dilationRate: (w.dilation ?? 1) === 1 ? undefined : w.dilation,
  useBias: w.useBias ? undefined : false,
});

/** tfjs's option names as Keras spells them (snake case). */
const kerasKeywords = (o: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), v]));

/**
 * A convolution layer in tfjs or Keras, after the zero-padding layer of explicit padding (as it builds): `factory`
 * is tfjs's layer function or Keras's class; `leading` the options Keras takes positionally (filters, kernel size);
 * `options` the rest, in tfjs's names.
 */
export function emitConvLayer(
  lang: 'tfjs' | 'keras',
  w: Window2d,
  io: { input: string; out: string; layer: string },
  factory: string,
  leading: Record<string, unknown>,
  options: Record<string, unknown>,
): string[] {
  const pad = emitZeroPad(lang, w, io.input, io.out, io.layer);
  const line =
    lang === 'tfjs'
      ? tsLayer(io.out, factory, { ...leading, ...options }, pad.x)
      : kerasLayer(io.out, factory, Object.values(leading), kerasKeywords(options), pad.x);
  return [...pad.body, line];
}

/**
 * PyTorch's form of explicit padding, shaped as torchWindowPadding's answer: the
 * `padding=` argument when symmetric, else an F.pad (left, right, top, bottom) to apply first.
 */
export function torchExplicitPadding(pads: readonly number[]): { arg: string; pad?: [number, number, number, number] } {
  const [t, b, l, r] = explicitSides(pads);
  if (t === b && l === r) return { arg: t === l ? String(t) : `(${t}, ${l})` };
  return { arg: '0', pad: [l, r, t, b] };
}
