// Attention blocks: vision family, in palette order.
import type { AnyBlock } from '../contract.js';

export const visionAttentionBlocks: AnyBlock[] = [];
