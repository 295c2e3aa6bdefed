// The shape rule that every 2-D sliding window shares (convolutions, pooling).
import { ShapeError, type Dim } from './contract.js';
import { expectRank, positive, windowOut } from '../shapes/rules.js';

export interface Window2d {
  kernel: number;
  stride: number;
  padding: 'same' | 'valid';
  dilation?: number;
}

/** Batch, output height and output width of a window sliding over an NHWC input; throws naming the port. */
export function window2dShape(x: Dim[], port: string, w: Window2d): [Dim, Dim, Dim] {
  const [b, h, wd] = expectRank(x, port, 4, 'an NHWC image');
  const dilation = w.dilation ?? 1;
  if (dilation > 1 && w.stride > 1) throw new ShapeError(`dilation ${dilation} needs stride 1 (got stride ${w.stride})`, port);
  const oh = windowOut(h, w.kernel, w.stride, w.padding, dilation);
  const ow = windowOut(wd, w.kernel, w.stride, w.padding, dilation);
  positive(oh, port, 'output height');
  positive(ow, port, 'output width');
  return [b, oh, ow];
}
