// Which layer's feature map explains a model by default, decided from the graph
// alone, so that Grad-CAM's default layer (engine/explain/target.ts) and the
// end of the PyTorch export's forward_features() (engine/export/pytorch.ts) are
// one rule: the last spatial map before the head, stepping back over layers
// that only pool it (or, at inference, copy it). A max-pool of a map keeps one
// value in four and a quarter of the positions: cbam-mnist-small's CBAM output
// at 14×14 shows where the digit is; pool2's 7×7 of it shows less (HiResCAM puts
// 0.77 of its mass on the ink there, 0.54 on pool2). For a ResNet the last
// block's output is the map (its head pools it globally), as pytorch-grad-cam
// advises (`layer4[-1]`); for a plain CNN, its last convolution.
import type { Shape } from '../blocks/contract.js';

/** A feature map [B, H, W, C] with more than one position. */
export const isSpatialMap = (s: Shape | undefined): boolean => s?.length === 4 && (s[1] ?? 0) * (s[2] ?? 0) > 1;

const POOLS_OR_COPIES = new Set(['core.pool2d', 'core.dropout']);

/** Whether a block's output only pools (or, at inference, copies) the one map it is given: the default layer is before it. */
export const onlyPoolsItsInput = (blockType: string): boolean => POOLS_OR_COPIES.has(blockType);
