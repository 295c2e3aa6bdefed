// Small code fragments that several blocks' emitters share.
import { samePadding } from './format.js';
import type { Shape } from '../contract.js';

/** A PyTorch expression applying a named activation to `e`. */
export function torchActivation(fn: string, e: string, dim = -1): string {
  switch (fn) {
    case 'linear':
      return e;
    case 'relu':
      return `F.relu(${e})`;
    case 'gelu':
      return `F.gelu(${e})`;
    case 'sigmoid':
      return `torch.sigmoid(${e})`;
    case 'tanh':
      return `torch.tanh(${e})`;
    case 'swish':
      return `F.silu(${e})`;
    case 'softmax':
      return `torch.softmax(${e}, dim=${dim})`;
    default:
      throw new Error(`no PyTorch form for activation "${fn}"`);
  }
}

/** NHWC-to-NCHW round trip around a channels-last op on a rank-4 tensor. */
export const channelsLast = (e: string) => `${e}.permute(0, 2, 3, 1)`;
export const channelsFirst = (e: string) => `${e}.permute(0, 3, 1, 2)`;

/**
 * PyTorch padding for a window op with TensorFlow semantics. Returns the
 * `padding=` argument and, when TensorFlow pads asymmetrically, an explicit
 * F.pad to apply first.
 */
export function torchWindowPadding(
  input: Shape,
  kernel: number,
  stride: number,
  padding: 'same' | 'valid',
  dilation = 1,
): { arg: string; pad?: [number, number, number, number] } {
  if (padding === 'valid') return { arg: '0' };
  const [h, w] = [input[1], input[2]];
  if (h === null || w === null) throw new Error('"same" padding needs a known height and width to export');
  const [top, bottom] = samePadding(h, kernel, stride, dilation);
  const [left, right] = samePadding(w, kernel, stride, dilation);
  if (top === bottom && left === right) return { arg: top === left ? String(top) : `(${top}, ${left})` };
  return { arg: '0', pad: [left, right, top, bottom] };
}

/** tfjs kernel layouts to PyTorch's. */
export const CONV_KERNEL_TO_TORCH = [3, 2, 0, 1];
export const DENSE_KERNEL_TO_TORCH = [1, 0];

/** `{ a: 1, b: 'x' }` for generated TypeScript; undefined entries are left out. */
export function tsObject(o: Record<string, unknown>): string {
  const v = (x: unknown): string =>
    typeof x === 'string' ? `'${x.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'` : Array.isArray(x) ? `[${x.map(v).join(', ')}]` : String(x);
  const parts = Object.entries(o)
    .filter(([, x]) => x !== undefined)
    .map(([k, x]) => `${k}: ${v(x)}`);
  return `{ ${parts.join(', ')} }`;
}

/** `a, b, key=value` for a generated Python call; undefined keywords are left out. */
export function pyArgs(positional: unknown[], keywords: Record<string, unknown> = {}): string {
  const v = (x: unknown): string =>
    x === true
      ? 'True'
      : x === false
        ? 'False'
        : x === null
          ? 'None'
          : typeof x === 'string'
            ? JSON.stringify(x)
            : Array.isArray(x)
              ? `(${x.map(v).join(', ')}${x.length === 1 ? ',' : ''})`
              : String(x);
  return [
    ...positional.map(v),
    ...Object.entries(keywords)
      .filter(([, x]) => x !== undefined)
      .map(([k, x]) => `${k}=${v(x)}`),
  ].join(', ');
}

/** A tfjs functional-API statement: `const y = tf.layers.x({...}).apply(input) as tf.SymbolicTensor;` */
export const tsLayer = (out: string, factory: string, config: Record<string, unknown>, input: string) =>
  `const ${out} = tf.layers.${factory}(${tsObject(config)}).apply(${input}) as tf.SymbolicTensor;`;

/** A Keras functional-API statement: `y = layers.X(...)(input)` */
export const kerasLayer = (out: string, cls: string, positional: unknown[], keywords: Record<string, unknown>, input: string) =>
  `${out} = layers.${cls}(${pyArgs(positional, keywords)})(${input})`;

// --- Standard blocks (pooling, normalisation, recurrent, ...) ---

/** A number literal that reads well in Python and TypeScript: 1e-5 rather than 0.00001. */
export function pyNumber(v: number): string {
  return v !== 0 && Math.abs(v) < 1e-3 ? v.toExponential() : String(v);
}

/** A number for tsObject / pyArgs / kerasLayer / tsLayer that prints as pyNumber does (they print values with String()). */
export const numberArg = (v: number): unknown => ({ toString: () => pyNumber(v) });
