// Output sizes of a sliding window along one axis, which the shape rules and the
// custom layers that the TypeScript export copies share (see tfjs-kit.ts).

/** Output length of a convolution or pooling window along one axis (tfjs/Keras semantics). */
export function windowOut(size: number | null, kernel: number, stride: number, padding: 'valid' | 'same', dilation = 1): number | null {
  if (size === null) return null;
  if (padding === 'same') return Math.ceil(size / stride);
  const eff = (kernel - 1) * dilation + 1;
  return Math.floor((size - eff) / stride) + 1;
}

/**
 * Output size along one axis with explicit padding, PyTorch's rule: ceil mode takes a last,
 * partial window unless it would start in the padding after the input.
 */
export function explicitOut(size: number, kernel: number, stride: number, before: number, after: number, dilation = 1, ceil = false): number {
  const span = size + before + after - (kernel - 1) * dilation - 1;
  if (!ceil) return Math.floor(span / stride) + 1;
  let out = Math.ceil(span / stride) + 1;
  if ((out - 1) * stride >= size + before) out--;
  return out;
}

/** Extra pixels after the input that ceil mode's last window reaches beyond the explicit padding. */
export function ceilExtra(size: number, kernel: number, stride: number, before: number, after: number, dilation = 1): number {
  const out = explicitOut(size, kernel, stride, before, after, dilation, true);
  return Math.max(0, (out - 1) * stride + (kernel - 1) * dilation + 1 - (size + before + after));
}
