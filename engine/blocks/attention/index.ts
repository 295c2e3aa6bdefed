// The attention blocks (issue 3), in palette order.
import type { AnyBlock } from '../contract.js';

export const attentionBlocks: AnyBlock[] = [];
