// The shape checks and parameters the vision attention blocks share (their tfjs
// code is in vision-attention.ts, shared with the TypeScript export).
import { ShapeError, type Shape } from '../../contract.js';
import { expectRank, fmtShape } from '../../shape-rules.js';

/** Checks an NHWC image input whose height, width and channels are known; returns [H, W, C]. */
export function imageInput(shape: Shape, port: string): [number, number, number] {
  expectRank(shape, port, 4, 'an NHWC image [B, H, W, C]');
  const [, h, w, c] = shape;
  if (h === null || w === null || c === null)
    throw new ShapeError(`input "${port}" needs a known height, width and channel count, got ${fmtShape(shape)}`, port);
  return [h, w, c];
}

/** Common parameters. */
export const reductionParam = {
  type: 'int',
  default: 16,
  min: 1,
  max: 4096,
  doc: "Reduction ratio r: the MLP's hidden width is ⌊C/r⌋, at least 1 (so r need not divide C).",
} as const;

export function oddKernel(kernel: number): void {
  if (kernel % 2 === 0)
    throw new ShapeError(
      `kernel ${kernel} is even: the spatial gate needs an odd kernel so that its "same" padding is symmetric, (k−1)/2 on each side as in PyTorch`,
    );
}
