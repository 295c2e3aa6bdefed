// Small formatting helpers the block emitters and the exporters share:
// PyTorch's layout of an NHWC graph, TensorFlow's "same" padding, Python literals.
import type { Shape } from '../contract.js';

/** The graph's NHWC axis as a PyTorch dim: rank-4 tensors are NCHW there. */
export function torchDim(axis: number, rank: number): number {
  const a = axis < 0 ? rank + axis : axis;
  if (rank !== 4 || a === 0) return a;
  return a === 3 ? 1 : a + 1;
}

/** A shape in PyTorch's layout (batch first, null batch shown as given). */
export function torchShape(shape: Shape): Shape {
  return shape.length === 4 ? [shape[0], shape[3], shape[1], shape[2]] : shape;
}

/** TensorFlow "same" padding on one axis: [before, after], bigger after when odd. */
export function samePadding(size: number, kernel: number, stride: number, dilation = 1): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

export const indent = (lines: string[], by: string) => lines.map((l) => (l ? by + l : l));

export const pyValue = (v: unknown): string =>
  v === true
    ? 'True'
    : v === false
      ? 'False'
      : v === null || v === undefined
        ? 'None'
        : Array.isArray(v)
          ? `(${v.map(pyValue).join(', ')}${v.length === 1 ? ',' : ''})`
          : typeof v === 'string'
            ? JSON.stringify(v)
            : String(v);
