// Attention blocks: structured family, in palette order.
import type { AnyBlock } from '../contract.js';

export const structuredAttentionBlocks: AnyBlock[] = [];
