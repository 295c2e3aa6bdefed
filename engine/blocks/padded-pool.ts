// Pooling with PyTorch's explicit padding and ceil mode, which tfjs's pooling layers
// lack: pad (max pooling with -inf, so padding never wins; average pooling with zeros),
// pool "valid", and divide each average by the count PyTorch divides by. Written
// against tfjs-kit.ts: the engine builds with it and the TypeScript export copies it.
import type * as tf from '@tensorflow/tfjs';
import { customLayer, type TF } from './tfjs-kit.js';
import { ceilExtra, explicitOut } from './window-sizes.js';

/** Padding of an image, [top, bottom, left, right]. */
type Sides = [number, number, number, number];

export interface PaddedPoolArgs {
  mode: 'max' | 'avg';
  size: number;
  stride: number;
  sides: Sides;
  ceilMode: boolean;
  /** Average pooling: count the explicit padding in each window's divisor (PyTorch's count_include_pad). */
  countIncludePad: boolean;
  name?: string;
}

/**
 * Per-side padding of one image [top, bottom, left, right] including what ceil mode
 * adds after the input: only as much as the last window reaches, which PyTorch never
 * counts in a divisor, and no window lies wholly in it (PyTorch drops such a window).
 */
function fullPadding(a: PaddedPoolArgs, h: number, w: number): Sides {
  const [t, b, l, r] = a.sides;
  if (!a.ceilMode) return [t, b, l, r];
  return [t, b + ceilExtra(h, a.size, a.stride, t, b), l, r + ceilExtra(w, a.size, a.stride, l, r)];
}

export function paddedPool2d(tf: TF, x: tf.Tensor, a: PaddedPoolArgs): tf.Tensor {
  const [, h, w] = x.shape as number[];
  const [t, b, l, r] = fullPadding(a, h, w);
  const x4 = x as tf.Tensor4D;
  return tf.tidy(() => {
    if (a.mode === 'max')
      return tf.maxPool(
        tf.pad(
          x4,
          [
            [0, 0],
            [t, b],
            [l, r],
            [0, 0],
          ],
          -Infinity,
        ),
        a.size,
        a.stride,
        'valid',
      );
    const sum = tf.avgPool(
      tf.pad(x4, [
        [0, 0],
        [t, b],
        [l, r],
        [0, 0],
      ]),
      a.size,
      a.stride,
      'valid',
    );
    // The divisor's pixels: the input, the explicit padding if counted, never the ceil-mode extra.
    const [et, eb, el, er] = a.sides;
    const counted = tf.pad(
      tf.ones([1, h, w, 1]) as tf.Tensor4D,
      [
        [0, 0],
        [et, eb],
        [el, er],
        [0, 0],
      ],
      a.countIncludePad ? 1 : 0,
    );
    const mask = tf.pad(counted, [
      [0, 0],
      [0, b - eb],
      [0, r - er],
      [0, 0],
    ]);
    return tf.div(sum, tf.avgPool(mask, a.size, a.stride, 'valid'));
  });
}

export const paddedPool2dLayer = (tf: TF) =>
  customLayer(tf, 'PaddedPool2D', (tf) => {
    class PaddedPool2D extends tf.layers.Layer {
      static className = 'PaddedPool2D';
      readonly args: PaddedPoolArgs;
      constructor(args: PaddedPoolArgs) {
        super(args);
        this.args = args;
      }
      override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
        const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
        const {
          size,
          stride,
          sides: [t, b, l, r],
          ceilMode,
        } = this.args;
        const out = (d: number | null, before: number, after: number) => (d === null ? null : explicitOut(d, size, stride, before, after, 1, ceilMode));
        return [s[0], out(s[1], t, b), out(s[2], l, r), s[3]];
      }
      override call(inputs: tf.Tensor | tf.Tensor[]) {
        return paddedPool2d(tf, Array.isArray(inputs) ? inputs[0] : inputs, this.args);
      }
      override getConfig() {
        const { mode, size, stride, sides, ceilMode, countIncludePad } = this.args;
        return { ...super.getConfig(), mode, size, stride, sides, ceilMode, countIncludePad };
      }
    }
    return PaddedPool2D;
  });
